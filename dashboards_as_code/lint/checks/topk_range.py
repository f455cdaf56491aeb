"""topk-range: `topk`/`bottomk` in a range query shows more than N series.

Prometheus evaluates a range query once per step, and `topk(10, ...)` picks its ten at each step
on its own: over six hours every tenant that was among the ten at any step comes back, so a time
series panel titled "top 10" draws 14, or 40, lines (and a stat or bar gauge reducing a range shows
as many). Nothing fails; the panel just says something else than its title. The fix is the one the
project's own top-k panels use: ask once, with an instant query (`prom(..., instant=True)`, at the
dashboard's end time: exactly N series), and show it in a bar gauge or a table (a time series panel
draws an instant result as dots). A `topk` whose argument is pinned with `@` (`@ end()`) picks the
same series at every step, and is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import promql_parser

from dashboards_as_code.lint import LintContext, Query, promql_check
from dashboards_as_code.promql.tree import walk

ID = "topk-range"
RANKING = ("topk", "bottomk")
_CHILDREN = ("lhs", "rhs", "expr", "param", "args")


def _is_range(target: dict[str, Any]) -> bool:
    """Grafana runs a range query unless the target is instant only (`range` defaults to not instant)."""
    return bool(target.get("range", not target.get("instant", False)))


def _moves(node: Any) -> bool:
    """Whether the node's value can differ from one step of a range query to the next."""
    if getattr(node, "at", None) is not None:  # `@ end()`, `@ 1700000000`: one instant for every step
        return False
    if isinstance(node, promql_parser.MatrixSelector):
        return _moves(node.vector_selector)
    if isinstance(node, promql_parser.VectorSelector):
        return True
    children = [getattr(node, name, None) for name in _CHILDREN]
    return any(
        _moves(item)
        for child in children
        if child is not None
        for item in (child if isinstance(child, list) else [child])
    )


def problems(context: LintContext, query: Query) -> Iterator[str]:
    if not _is_range(query.target):
        return
    for node, _ in walk(query.tree):
        if isinstance(node, promql_parser.AggregateExpr) and str(node.op) in RANKING and _moves(node.expr):
            n = str(node.param)
            shows = "draws" if query.panel.get("type") in ("timeseries", "graph") else "shows"
            yield (
                f"{query.name} is a range query with {node.op}({n}, ...): Prometheus ranks the series "
                f"at every step, so the panel {shows} every series that was in the {node.op} {n} at some "
                f"step, more than {n}; make it an instant query, prom(..., instant=True), which ranks "
                f"once at the dashboard's end time and returns exactly {n}, and show it in a bar gauge "
                "(bar_gauge) or a table, as the Overview's per-tenant panel does"
            )
            return


CHECK = promql_check(ID, __doc__, problems)
