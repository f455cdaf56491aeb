"""counter-rate: counters (and histogram series) are read only through rate()/increase(); gauges never are.

A raw counter is a number that only grows since the process started; rate() over a gauge is
meaningless and usually near zero. Both look plausible on a graph and are wrong.
"""

from collections.abc import Iterator

import promql_parser

from dashboards_as_code.lint import LintContext, Query, promql_check
from dashboards_as_code.promql.tree import function_name, walk

ID = "counter-rate"
RATE_FUNCTIONS = {"rate", "irate", "increase"}


def problems(context: LintContext, query: Query) -> Iterator[str]:
    for node, parents in walk(query.tree):
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
        if info.cumulative and not in_rate:
            yield f"{query.name} reads counter {node.name} outside rate()/increase()"
        if not info.cumulative and in_rate:
            yield f"{query.name} takes rate() of gauge {node.name}"


CHECK = promql_check(ID, __doc__, problems)
