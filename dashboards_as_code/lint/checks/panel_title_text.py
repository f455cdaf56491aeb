"""panel-title-text: panel and row titles are one readable line of at most 1000 characters.

A newline or another control character breaks the one-line header and every message that quotes
the title; a bidirectional control (U+202E...) makes it read as something else than it is; a
NUL is cut off by some tools. The length limit is ours (a title lives in the dashboard JSON, with
no column of its own): it only catches a generated string or a pasted document in the wrong place.
Dashboard, folder and datasource titles are checked when the definitions load (dashboards_as_code/names.py).
"""

from collections.abc import Iterator

from dashboards_as_code.errors import Location
from dashboards_as_code.lint import Check, Finding, LintContext
from dashboards_as_code.names import PANEL_TITLE_MAX, SHOWN_MAX, title_problem

ID = "panel-title-text"


def _short(title: str) -> str:
    """The title as a finding's location names it: long ones are cut (the message says how long)."""
    return title if len(title) <= SHOWN_MAX else f"{title[:SHOWN_MAX]}..."


def run(context: LintContext) -> Iterator[Finding]:
    for board, panel in context.panels():
        title = panel.get("title")
        kind = "row" if panel.get("type") == "row" else "panel"
        if title is None or (isinstance(title, str) and not title.strip()):
            continue  # Grafana allows an untitled panel (a hover header) and an untitled row (a divider)
        problem = title_problem(title, PANEL_TITLE_MAX, "a title")
        if problem is None:
            continue
        where = Location(file=board.definition.source or None, dashboard=board.uid, panel=_short(str(title)))
        yield Finding(where, ID, f"{kind} title {problem}")


CHECK = Check(ID, __doc__ or "", run)
