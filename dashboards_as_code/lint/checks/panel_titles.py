"""panel-titles: no two panels of a dashboard share a title.

Alerts link to panels by title (`viewPanel=<id>` is looked up from it), and people say "the
Error rate panel": two panels with one title make both ambiguous.
"""

from collections.abc import Iterator
from typing import Any

from dashboards_as_code.kinds.dashboard import DashboardDocument
from dashboards_as_code.lint import LintContext, dashboard_check

ID = "panel-titles"


def problems(context: LintContext, board: DashboardDocument) -> Iterator[tuple[dict[str, Any], str]]:
    seen: set[str] = set()
    for panel in board.document.get("panels", []):
        panels = [panel, *(panel.get("panels", []) or [])]
        for item in panels:
            if item.get("type") == "row":
                continue
            title = str(item.get("title", ""))
            if title in seen:
                yield item, f"title {title!r} is also the title of another panel of this dashboard"
            seen.add(title)


CHECK = dashboard_check(ID, __doc__, problems)
