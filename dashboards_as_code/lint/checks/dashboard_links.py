"""dashboard-links: every link to a dashboard names one the project defines, and variables it has.

A drill-down link (`/d/<uid>?var-tenant=...`, a dashboard's own links and its panels' data links) is
checked by nobody until someone clicks it at 3 am: a renamed uid opens Grafana's "Dashboard not
found", and a `var-` parameter the target lacks is dropped in silence, so the target opens on its
first tenant, not the one clicked. Links to other places (Explore, outside URLs) are not read.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

from dashboards_as_code.kinds.dashboard import DashboardDocument
from dashboards_as_code.lint import Check, Finding, LintContext, where

ID = "dashboard-links"
DASHBOARD_PATH = re.compile(r"^/d/(?P<uid>[^/?#]+)")
"""`/d/<uid>` or `/d/<uid>/<slug>`: Grafana's path to a dashboard (relative to its root URL)."""


def _dashboard_links(board: DashboardDocument) -> Iterator[str]:
    for link in board.document.get("links") or []:
        yield str(link.get("url") or "")


def _panel_links(panel: dict[str, Any]) -> Iterator[str]:
    for link in panel.get("links") or []:
        yield str(link.get("url") or "")
    for link in ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("links") or []:
        yield str(link.get("url") or "")
    for override in (panel.get("fieldConfig") or {}).get("overrides") or []:
        for prop in override.get("properties") or []:
            if prop.get("id") == "links":
                yield from (str(link.get("url") or "") for link in prop.get("value") or [])


def _problem(url: str, boards: dict[str, DashboardDocument]) -> str | None:
    found = DASHBOARD_PATH.match(url)
    if found is None:
        return None
    uid = found.group("uid")
    target = boards.get(uid)
    if target is None:
        return f"links to dashboard {uid!r}, which the project does not define ({url})"
    names = {variable.get("name") for variable in target.document.get("templating", {}).get("list", [])}
    query = urllib.parse.urlsplit(url).query
    for key, _ in urllib.parse.parse_qsl(query, keep_blank_values=True):
        if key.startswith("var-") and key.removeprefix("var-") not in names:
            return (
                f"sets {key} on dashboard {uid!r}, which has no variable {key.removeprefix('var-')!r} ({url})"
            )
    return None


def run(context: LintContext) -> Iterator[Finding]:
    boards = {board.uid: board for board in context.dashboards}
    for board in context.dashboards:
        for url in _dashboard_links(board):
            problem = _problem(url, boards)
            if problem:
                yield Finding(where(board), ID, f"dashboard link {problem}")
    for board, panel in context.panels():
        for url in _panel_links(panel):
            problem = _problem(url, boards)
            if problem:
                yield Finding(where(board, panel), ID, f"data link {problem}")


CHECK = Check(ID, __doc__ or "", run)
