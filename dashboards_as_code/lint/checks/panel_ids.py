"""panel-ids: panel ids are unique in a dashboard and query refIds are unique in a panel.

Two panels with one id break links, "view panel" and the JSON model; two queries with one refId
make Grafana drop one of them.
"""

from collections.abc import Iterator
from typing import Any

from dashboards_as_code.kinds.dashboard import DashboardDocument
from dashboards_as_code.lint import LintContext, dashboard_check

ID = "panel-ids"


def _all_panels(board: DashboardDocument) -> Iterator[dict[str, Any]]:
    for panel in board.document.get("panels", []):
        yield panel
        yield from panel.get("panels", []) or []


def problems(context: LintContext, board: DashboardDocument) -> Iterator[tuple[dict[str, Any], str]]:
    seen: dict[object, str] = {}
    for panel in _all_panels(board):
        if panel.get("id") is None:
            yield panel, "has no id"
        elif panel["id"] in seen:
            yield panel, f"id {panel['id']} is also the id of panel {seen[panel['id']]!r}"
        seen.setdefault(panel.get("id"), str(panel.get("title")))
        ref_ids = [str(t.get("refId", "")) for t in panel.get("targets", []) or []]
        for ref_id in sorted({r for r in ref_ids if ref_ids.count(r) > 1 or not r}):
            yield panel, f"refId {ref_id!r} is empty or used by several queries"


CHECK = dashboard_check(ID, __doc__, problems)
