"""query-metrics: every Prometheus query parses and reads only series the contract or the rules define.

A metric name the backend or the Collector never emits is the classic "No data" panel.
"""

from collections.abc import Iterator

from dashboards_as_code.lint import LintContext, Query, query_check
from dashboards_as_code.promql.tree import parse, vector_selectors

ID = "query-metrics"


def problems(context: LintContext, query: Query) -> Iterator[str]:
    try:
        tree = parse(query.expr)
    except ValueError as error:
        yield f"{query.name} does not parse: {error}"
        return
    for selector in vector_selectors(tree):
        if not selector.name:
            yield f"{query.name} selects series without a metric name"
        elif context.series(selector.name) is None:
            yield (
                f"{query.name} reads {selector.name!r}, which neither the telemetry contract nor a recording "
                "rule defines"
            )


CHECK = query_check(ID, __doc__, "prometheus", problems)
