"""How a `doctor` run is shown: a table for people, JSON for scripts, one summary line for both.

After the panels come the rules whose health is not ok (every rule of every Prometheus asked,
whether a panel reads it or not), and on stderr a note per datasource left out by an empty URL.

Causes carry text from the datasources (error messages, label values): it is shown with control
characters escaped (`dashboards_as_code.text.printable`), so a server cannot send escape sequences to the
terminal. JSON escapes them by itself.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from dashboards_as_code.doctor.causes import Cause, PanelReport, RuleHealth, RuleReport, Skipped, Status
from dashboards_as_code.text import printable

NAMES = {"prometheus": "Prometheus", "loki": "Loki"}
STYLE = {Status.OK: "green", Status.SUSPECT: "yellow", Status.EMPTY: "red", Status.ERROR: "bold red"}


def as_json(
    reports: Sequence[PanelReport], rules: Sequence[RuleReport] = (), skipped: Sequence[Skipped] = ()
) -> str:
    """One object: `panels` (each with its causes), `rules` (health not ok), `skipped` (left out)."""
    document = {
        "panels": [report.as_json() for report in reports],
        "rules": [rule.as_json() for rule in rules],
        "skipped": [one.as_json() for one in skipped],
    }
    return json.dumps(document, indent=2)


def _cell(text: str) -> Text:
    """Foreign text as a table cell: control characters escaped, and never read as rich markup
    (a label value like `[red]` or `[/x]` is shown as written, and cannot break the table)."""
    return Text(printable(text))


def table(reports: Sequence[PanelReport]) -> Table:
    grid = Table(show_lines=True, expand=False)
    for column in ("dashboard", "panel", "status", "cause", "query to paste into Explore"):
        grid.add_column(column, overflow="fold")
    for report in reports:
        causes: list[Cause | None] = [*report.causes] or [None]
        for index, cause in enumerate(causes):
            first = index == 0
            grid.add_row(
                _cell(report.dashboard if first else ""),
                _cell(report.panel if first else ""),
                Text(report.status.value, style=STYLE[report.status]) if first else "",
                _cell(f"{cause.code.value}: {cause.detail}" if cause else ""),
                _cell(cause.query if cause else ""),
            )
    return grid


def summary(
    reports: Sequence[PanelReport], skipped: int, where: str, rules: Sequence[RuleReport] = ()
) -> str:
    counts = Counter(report.status for report in reports)
    parts = [f"{counts.get(status, 0)} {status.value}" for status in Status]
    note = f"; {skipped} panel(s) on other datasources not checked" if skipped else ""
    health = Counter(rule.health for rule in rules)
    if rules:
        note += f"; {len(rules)} rule(s) not ok: " + ", ".join(f"{n} {h}" for h, n in sorted(health.items()))
    return printable(f"{', '.join(parts)} ({len(reports)} panels, {where}){note}.")


def _rule_problem(rule: RuleReport) -> str:
    if rule.health == RuleHealth.UNKNOWN.value:
        every = f" (its group runs every {rule.interval_s:g} s)" if rule.interval_s else ""
        return f"not evaluated yet{every}"
    return rule.last_error or "no lastError given"


def rule_lines(rules: Sequence[RuleReport]) -> list[str]:
    """The rules whose health is not ok, a line each: health, where, which rule, why.

    `err` is an alert that cannot fire (or a series that is not recorded); `unknown` is a rule whose
    group has not run yet, normal for one interval after Prometheus starts.
    """
    if not rules:
        return []
    several = len({rule.datasource for rule in rules}) > 1
    out = ["rules not ok:"]
    for rule in rules:
        kind = "alert" if rule.kind == "alerting" else "record"
        where = f"{rule.datasource}: " if several else ""
        out.append(
            printable(
                f"{rule.health:8} {where}group {rule.group} / {kind} {rule.name}: {_rule_problem(rule)}"
            )
        )
    return out


def skip_notes(skipped: Sequence[Skipped]) -> list[str]:
    """One `note:` line per datasource left out, for stderr: which, why, and the panels not checked."""
    return [
        printable(
            f"note: {NAMES.get(one.kind, one.kind)} left out ({one.reason}): {len(one.panels)} panel(s) "
            "not checked: " + "; ".join(one.panels)
        )
        for one in skipped
    ]


def lines(reports: Sequence[PanelReport]) -> list[str]:
    """Plain text for logs and pipes: a line per panel, then its causes and queries indented."""
    out = []
    for report in reports:
        out.append(printable(f"{report.status.value:8} {report.dashboard} / {report.panel}"))
        for cause in report.causes:
            out.append("         " + printable(f"{cause.code.value}: {cause.detail}"))
            if cause.query:
                out.append("           explore: " + printable(cause.query))
    return out


def failures(details: Sequence[str]) -> list[str]:
    """One `error:` line per datasource that failed, for stderr (each detail names its URL)."""
    return [printable(f"error: {detail}") for detail in details]


def show(reports: Sequence[PanelReport], console: Console) -> None:
    """A table on a terminal, plain lines elsewhere (a table folded to 80 columns helps nobody)."""
    if console.is_terminal:
        console.print(table(reports))
    else:
        for line in lines(reports):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
