"""panel-queries: every panel that shows data has at least one query.

A graph, stat or logs panel without targets renders "No data" forever, which on-call reads as "all
quiet". Panels that show no query's data are exempt: text, news, dashboard and alert lists,
annotation lists and rows (headers). Panels nested in collapsed rows are checked too.
"""

from collections.abc import Iterator
from typing import Any

from dashboards_as_code.lint import LintContext, panel_check

ID = "panel-queries"
PANELS_WITHOUT_QUERIES = frozenset(
    {"text", "news", "dashlist", "alertlist", "annolist", "welcome", "gettingstarted"}
)
"""Grafana's built-in panel types that read no datasource (rows are not panels to `panel_check`)."""


def problems(context: LintContext, panel: dict[str, Any]) -> Iterator[str]:
    if panel.get("type") in PANELS_WITHOUT_QUERIES or panel.get("libraryPanel"):
        return  # a library panel's queries live in the library, not in this dashboard
    if not panel.get("targets"):
        yield f"has no query (no targets): a {panel.get('type')} panel without one always shows No data"


CHECK = panel_check(ID, __doc__, problems)
