"""counter-rate: counters (and histogram series) are read only through rate()/increase(); gauges never are.

A raw counter is a number that only grows since the process started; rate() over a gauge is
meaningless and usually near zero. Both look plausible on a graph and are wrong.
"""

from collections.abc import Iterator

import promql_parser

from machinery.lint import Finding, LintContext, Rule, where
from machinery.lint.promql import function_name, walk

ID = "counter-rate"
RATE_FUNCTIONS = {"rate", "irate", "increase"}


def check(context: LintContext) -> Iterator[Finding]:
    for definition, panel, target, tree in context.parsed_prometheus_targets():
        for node, parents in walk(tree):
            if not isinstance(node, promql_parser.VectorSelector):
                continue
            info = context.series(node.name)
            if info is None:
                continue
            in_rate = (
                len(parents) >= 2
                and isinstance(parents[-1], promql_parser.MatrixSelector)
                and function_name(parents[-2]) in RATE_FUNCTIONS
            )
            cumulative = info.cumulative
            if cumulative and not in_rate:
                yield Finding(
                    where(definition, panel),
                    ID,
                    f"query {target.get('refId')} reads counter {node.name} outside rate()/increase()",
                )
            if not cumulative and in_rate:
                yield Finding(
                    where(definition, panel),
                    ID,
                    f"query {target.get('refId')} takes rate() of gauge {node.name}",
                )


RULE = Rule(ID, __doc__ or "", check)
