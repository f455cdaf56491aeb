"""histogram-quantile: histogram_quantile() runs over `sum by (le, ...) (rate(<name>_bucket[...]))`.

Without the sum over `le` the quantile is computed per series (per instance, per route...) and
the panel shows a forest of lines; without rate() it is the quantile since the process started.
"""

from collections.abc import Iterator
from typing import Any

import promql_parser

from dashboards_as_code.lint import LintContext, Query, promql_check
from dashboards_as_code.promql.tree import function_name, grouping_labels, vector_selectors, walk

ID = "histogram-quantile"


def _problem(argument: Any, context: LintContext) -> str | None:
    if not isinstance(argument, promql_parser.AggregateExpr) or str(argument.op) != "sum":
        return "its second argument is not a sum"
    grouping = grouping_labels(argument)
    keeps_le = grouping is not None and (
        (grouping[0] == "by" and "le" in grouping[1])
        or (grouping[0] == "without" and "le" not in grouping[1])
    )
    if not keeps_le:
        return "the sum does not keep `le` (write `sum by (le, ...)`)"
    inner = argument.expr
    recorded = [context.series(s.name) for s in vector_selectors(inner)]
    if recorded and all(info is not None and info.recorded and info.histogram_unit for info in recorded):
        return None  # recorded bucket rates (see rules/overview.py)
    if function_name(inner) not in {"rate", "increase"}:
        return "the sum is not over rate()/increase()"
    if not all(str(s.name or "").endswith("_bucket") for s in vector_selectors(inner)):
        return "it does not read a _bucket series"
    return None


def problems(context: LintContext, query: Query) -> Iterator[str]:
    for node, _ in walk(query.tree):
        if function_name(node) == "histogram_quantile":
            problem = _problem(node.args[1], context)
            if problem:
                yield f"{query.name}: histogram_quantile: {problem}"


CHECK = promql_check(ID, __doc__, problems)
