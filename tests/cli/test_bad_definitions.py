"""Bad definitions, round two: titles, panels without a query, uids that differ only in case and
folders that share a title, each tried through the real entry point on a copy of the project.

For every case (tests/cli/bad_input.py): exit 2, no traceback, the dashboard / panel / datasource /
folder and its file named, nothing written, and (checked here) no control or bidirectional
character printed raw: the message names it as `U+202E`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards_as_code.names import forbidden_character
from tests.cli.bad_input import (
    BUILD,
    CHECK,
    OVERVIEW,
    Case,
    Mutation,
    both,
    dashboard_body,
    replace,
    run_case,
    write,
)

TITLE = 'title="TikTickets - Overview"'
FOLDER = 'Folder(uid="tiktickets", title="TikTickets")'
DASHBOARD = "dashboard 'tiktickets-overview'"
PANEL_SAYS = (OVERVIEW, DASHBOARD, "[panel-title-text]")


def _dashboard_title(title_source: str) -> Mutation:
    return replace(OVERVIEW, TITLE, f"title={title_source}")


def _folder(title_source: str) -> Mutation:
    return replace("config.py", FOLDER, f'Folder(uid="tiktickets", title={title_source})')


def _datasource_name(name_source: str) -> Mutation:
    return replace("datasources/loki.py", 'name="Loki",', f"name={name_source},")


def _extra_board(folder_uid: str, folder_title: str) -> Mutation:
    """dashboards/extra.py: a copy of the Overview under uid 'extra', in the folder given."""
    return dashboard_body(
        "    from dashboards_as_code.definitions.types import Folder\n"
        "    board = _overview()\n"
        "    board.dashboard.uid = 'extra'\n"
        f"    board.folder = Folder(uid={folder_uid!r}, title={folder_title!r})\n"
        "    return board"
    )


def _extra_datasource(module: str, kind: str, name: str, uid: str) -> Mutation:
    """datasources/<module>.py defining one more datasource, listed in DATASOURCES."""
    options = {"Loki": "LokiOptions()", "Prometheus": "PrometheusOptions()"}[kind]
    source = (
        f"from dashboards_as_code.definitions.datasource import {kind}Datasource, {kind}Options\n\n"
        f"EXTRA = {kind}Datasource(name={name!r}, uid={uid!r}, url='http://x:1', json_data={options})\n"
    )
    return both(
        write(f"datasources/{module}.py", source),
        replace(  # appended last, whatever the list holds: the project's datasources come first
            "datasources/__init__.py",
            "__all__ = [",
            f"from datasources.{module} import EXTRA\n\nDATASOURCES = [*DATASOURCES, EXTRA]\n\n__all__ = [",
        ),
    )


NESTED = (
    "    import grafanalib.core as g\n"
    "    from config import TIKTICKETS_FOLDER\n"
    "    from datasources import PROMETHEUS\n"
    "    from dashboards_as_code import queries as q\n"
    "    from dashboards_as_code.panels.style import dashboard as make, prom, timeseries\n"
    "    from telemetry.contract import SOCKETIO_CONNECTIONS\n"
    "    board = make(uid='extra', title='Extra', folder=TIKTICKETS_FOLDER, description='d', rows=[])\n"
    "    targets = [prom(q.sum_by(q.select(SOCKETIO_CONNECTIONS)))][:{count}]\n"
    "    nested = timeseries({title!r}, description='d', unit='short', datasource=PROMETHEUS.ref,\n"
    "                        targets=targets).panel\n"
    "    nested.gridPos = g.GridPos(h=8, w=12, x=0, y=1)\n"
    "    board.dashboard.panels.append(g.RowPanel(title='Hidden', collapsed=True, panels=[nested],\n"
    "                                             gridPos=g.GridPos(h=1, w=24, x=0, y=0)))\n"
    "    board.dashboard = board.dashboard.auto_panel_ids()\n"
    "    return board"
)

CASES = [
    # Dashboard titles: refused when the definitions load (Grafana's dashboard.title is VARCHAR(189)).
    Case("dashboard-title-nul", BUILD, 2, (OVERVIEW, DASHBOARD, "dashboard title", "U+0000 (NULL"), _dashboard_title('"TikTickets\\x00"')),
    Case("dashboard-title-newline", CHECK, 2, (OVERVIEW, DASHBOARD, "U+000A (LINE FEED"), _dashboard_title('"TikTickets\\nOverview"')),
    Case("dashboard-title-rlo", BUILD, 2, (OVERVIEW, DASHBOARD, "U+202E (RIGHT-TO-LEFT OVERRIDE"), _dashboard_title('"TikTickets \\u202eweivrevO"')),
    Case("dashboard-title-rlo-raw", BUILD, 2, (OVERVIEW, DASHBOARD, "U+202E", "'TikTickets \\u202eweivrevO'"), _dashboard_title('"TikTickets \u202eweivrevO"')),
    Case("dashboard-title-lri", CHECK, 2, (OVERVIEW, DASHBOARD, "U+2066 (LEFT-TO-RIGHT ISOLATE"), _dashboard_title('"TikTickets \\u2066Overview"')),
    Case("dashboard-title-10000", BUILD, 2, (OVERVIEW, DASHBOARD, "is 10000 characters", "at most 189"), _dashboard_title('"T" * 10_000')),
    Case("dashboard-title-190", BUILD, 2, (OVERVIEW, DASHBOARD, "is 190 characters", "dashboard.title column holds at most 189"), _dashboard_title('"T" * 190')),
    Case("dashboard-title-empty", BUILD, 2, (OVERVIEW, DASHBOARD, "dashboard title is empty"), _dashboard_title('"  "')),
    # Folder titles: refused when the definitions load (folder.title is VARCHAR(189)).
    Case("folder-title-lri", BUILD, 2, (OVERVIEW, "folder 'tiktickets'", "U+2066"), _folder('"Tik\\u2066Tickets"')),
    Case("folder-title-del", CHECK, 2, (OVERVIEW, "folder 'tiktickets'", "U+007F (DELETE"), _folder('"TikTickets\\x7f"')),
    Case("folder-title-190", BUILD, 2, (OVERVIEW, "folder 'tiktickets'", "is 190 characters", "at most 189"), _folder('"F" * 190')),
    # Datasource names: refused when the definitions load (data_source.name is VARCHAR(190)).
    Case("datasource-name-rlo", BUILD, 2, ("datasources/loki.py:", "name", "U+202E"), _datasource_name('"Lo\\u202eki"')),
    Case("datasource-name-c1", CHECK, 2, ("datasources/loki.py:", "name", "U+0085"), _datasource_name('"Loki\\x85"')),
    Case("datasource-name-191", BUILD, 2, ("datasources/loki.py:", "is 191 characters", "data_source.name column holds at most 190"), _datasource_name('"L" * 191')),
    # Panel and row titles: lint errors (readability; a panel title has no column of its own).
    Case("panel-title-nul", CHECK, 2, (*PANEL_SAYS, "panel 'Error rate\\x00'", "U+0000"), replace(OVERVIEW, '"Error rate",', '"Error rate\\x00",')),
    Case("panel-title-newline", BUILD, 2, (*PANEL_SAYS, "U+000A"), replace(OVERVIEW, '"Recent error logs",', '"Recent error\\nlogs",')),
    Case("panel-title-rli", BUILD, 2, (*PANEL_SAYS, "U+2067 (RIGHT-TO-LEFT ISOLATE"), replace(OVERVIEW, '"Active WhatsApp sessions",', '"Active \\u2067WhatsApp sessions",')),
    Case("panel-title-10000", CHECK, 2, (*PANEL_SAYS, "is 10000 characters", "at most 1000"), replace(OVERVIEW, '"Error rate",', '"E" * 10_000,')),
    Case("row-title-rlo", BUILD, 2, (*PANEL_SAYS, "row title", "U+202E"), replace(OVERVIEW, '"Requests",', '"Requests\\u202e",')),
    Case("row-title-tab", BUILD, 2, (*PANEL_SAYS, "row title", "U+0009 (TAB"), replace(OVERVIEW, '"Latency",', '"Latency\\tP99",')),
    Case("nested-panel-title-lrm", BUILD, 2, ("dashboards/extra.py", "dashboard 'extra'", "U+200E", "[panel-title-text]"), dashboard_body(NESTED.format(title="Nested\u200e", count=1))),
    # Panels without a query: lint errors, nested panels included.
    Case("stat-no-targets", BUILD, 2, (OVERVIEW, DASHBOARD, "panel 'Active WhatsApp sessions'", "has no query", "[panel-queries]"), replace(OVERVIEW, 'targets=[prom(active_sessions(), "sessions")],', "targets=[],")),
    Case("logs-no-targets", CHECK, 2, (OVERVIEW, "panel 'Recent error logs'", "logs panel", "[panel-queries]"), replace(OVERVIEW, "targets=[loki(q.log_lines(BACKEND_LOGS, errors_only=True, all_value=ALL_TENANTS))],", "targets=[],")),
    Case("nested-no-targets", BUILD, 2, ("dashboards/extra.py", "dashboard 'extra'", "panel 'Nested'", "[panel-queries]"), dashboard_body(NESTED.format(title="Nested", count=0))),
    # uids that differ only in case are one uid to Grafana (MySQL's collation).
    Case("dashboard-uid-case", BUILD, 2, ("dashboards/extra.py", OVERVIEW, DASHBOARD, "'TikTickets-Overview'", "differ only in case", "[dashboard-uid]"), dashboard_body("    board = _overview()\n    board.dashboard.uid = 'TikTickets-Overview'\n    return board")),
    Case("dashboard-uid-upper", CHECK, 2, ("dashboards/extra.py", OVERVIEW, "'TIKTICKETS-OVERVIEW'", "differ only in case"), dashboard_body("    board = _overview()\n    board.dashboard.uid = 'TIKTICKETS-OVERVIEW'\n    return board")),
    Case("datasource-uid-case", BUILD, 2, ("datasource 'Loki' (datasources/loki_two.py)", "datasource 'loki' (datasources/loki.py)", "differ only in case", "[datasource-unique]"), _extra_datasource("loki_two", "Loki", "Loki 2", "Loki")),
    Case("datasource-uid-upper", CHECK, 2, ("datasource 'PROMETHEUS' (datasources/prom_two.py)", "datasource 'prometheus' (datasources/prometheus.py)", "differ only in case"), _extra_datasource("prom_two", "Prometheus", "Prometheus 2", "PROMETHEUS")),
    Case("datasource-name-case", BUILD, 2, ("datasources/loki_two.py", "name 'LOKI'", "datasource 'loki' (datasources/loki.py)", "differ only in case"), _extra_datasource("loki_two", "Loki", "LOKI", "loki-2")),
    Case("folder-uid-case", BUILD, 2, ("dashboards/extra.py", OVERVIEW, "folder uid 'tiktickets'", "'TikTickets'", "differ only in case"), _extra_board("TikTickets", "TikTickets")),
    Case("folder-uid-upper", CHECK, 2, ("dashboards/extra.py", OVERVIEW, "'TIKTICKETS'", "differ only in case"), _extra_board("TIKTICKETS", "Elsewhere")),
    # Two folders with one title: Grafana's unique index on (org_id, parent_uid, title) says 409.
    Case("folder-same-title", BUILD, 2, ("dashboards/extra.py", OVERVIEW, "folders 'ops'", "'tiktickets'", "the same title 'TikTickets'"), _extra_board("ops", "TikTickets")),
    Case("folder-title-case", CHECK, 2, ("dashboards/extra.py", "folders 'ops'", "'tiktickets'", "the same to Grafana"), _extra_board("ops", "TIKTICKETS")),
    Case("folder-title-trailing-space", BUILD, 2, ("folders 'ops'", "'tiktickets'", "'TikTickets '"), _extra_board("ops", "TikTickets ")),
    Case("folder-uid-two-titles", BUILD, 2, ("dashboards/extra.py", OVERVIEW, "folder 'tiktickets' has the title", "'Elsewhere'"), _extra_board("tiktickets", "Elsewhere")),
]  # fmt: skip


def test_the_table_covers_every_class_with_distinct_cases() -> None:
    assert len({case.id for case in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_definition(case: Case, template: Path, tmp_path: Path) -> None:
    result = run_case(case, template, tmp_path)
    output = result.stdout + result.stderr
    printed = forbidden_character(output.replace("\n", ""))
    assert printed is None, f"U+{ord(printed or ' '):04X} printed raw:\n{output!r}"
    assert "nothing was written" in output or "error: " in output
