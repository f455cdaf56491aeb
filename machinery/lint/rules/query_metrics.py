"""query-metrics: every Prometheus query parses and reads only series the contract or the rules define.

A metric name the backend or the Collector never emits is the classic "No data" panel.
"""

from collections.abc import Iterator

from machinery.lint import Finding, LintContext, Rule, where
from machinery.lint.promql import parse, vector_selectors

ID = "query-metrics"


def check(context: LintContext) -> Iterator[Finding]:
    for definition, panel, target in context.targets("prometheus"):
        label = f"query {target.get('refId')}"
        try:
            tree = parse(str(target.get("expr", "")))
        except ValueError as error:
            yield Finding(where(definition, panel), ID, f"{label} does not parse: {error}")
            continue
        for selector in vector_selectors(tree):
            if not selector.name:
                yield Finding(where(definition, panel), ID, f"{label} selects series without a metric name")
            elif context.series(selector.name) is None:
                yield Finding(
                    where(definition, panel),
                    ID,
                    f"{label} reads {selector.name!r}, which neither the telemetry contract nor a recording "
                    "rule defines",
                )


RULE = Rule(ID, __doc__ or "", check)
