"""How a `doctor` run is shown: a table for people, JSON for scripts, one summary line for both."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from engine.doctor.causes import Cause, PanelReport, Status

STYLE = {Status.OK: "green", Status.SUSPECT: "yellow", Status.EMPTY: "red", Status.ERROR: "bold red"}


def as_json(reports: Sequence[PanelReport]) -> str:
    return json.dumps([report.as_json() for report in reports], indent=2)


def table(reports: Sequence[PanelReport]) -> Table:
    grid = Table(show_lines=True, expand=False)
    for column in ("dashboard", "panel", "status", "cause", "query to paste into Explore"):
        grid.add_column(column, overflow="fold")
    for report in reports:
        causes: list[Cause | None] = [*report.causes] or [None]
        for index, cause in enumerate(causes):
            first = index == 0
            grid.add_row(
                report.dashboard if first else "",
                report.panel if first else "",
                f"[{STYLE[report.status]}]{report.status.value}[/]" if first else "",
                f"{cause.code.value}: {cause.detail}" if cause else "",
                cause.query if cause else "",
            )
    return grid


def summary(reports: Sequence[PanelReport], skipped: int, where: str) -> str:
    counts = Counter(report.status for report in reports)
    parts = [f"{counts.get(status, 0)} {status.value}" for status in Status]
    note = f"; {skipped} panel(s) on other datasources not checked" if skipped else ""
    return f"{', '.join(parts)} ({len(reports)} panels, {where}){note}."


def lines(reports: Sequence[PanelReport]) -> list[str]:
    """Plain text for logs and pipes: a line per panel, then its causes and queries indented."""
    out = []
    for report in reports:
        out.append(f"{report.status.value:8} {report.dashboard} / {report.panel}")
        for cause in report.causes:
            out.append(f"         {cause.code.value}: {cause.detail}")
            if cause.query:
                out.append(f"           explore: {cause.query}")
    return out


def show(reports: Sequence[PanelReport], console: Console) -> None:
    """A table on a terminal, plain lines elsewhere (a table folded to 80 columns helps nobody)."""
    if console.is_terminal:
        console.print(table(reports))
    else:
        for line in lines(reports):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
