"""doctor's terminal table and `--json` at their edges: a panel with several causes is one block (its
title and status once), and the JSON keeps what Prometheus said as it said it."""

from __future__ import annotations

import json

from rich.table import Table

from dashboards_as_code.doctor.causes import Cause, CauseCode, PanelReport, RuleReport, Skipped, Status
from dashboards_as_code.doctor.report import as_json, table


def _rows(grid: Table) -> list[list[str]]:
    """The table's rows as plain text, a list of cells each."""
    columns = [[str(cell) for cell in column.cells] for column in grid.columns]
    return [list(row) for row in zip(*columns, strict=True)]


def test_a_panel_with_two_causes_names_itself_and_its_status_once() -> None:
    """The causes of one panel are rows under its title: the dashboard, the title and the status on
    the first row only, so that the table reads as one panel with two causes, not two panels."""
    report = PanelReport("overview", "Sessions")
    report.add(
        Status.EMPTY,
        [
            Cause(CauseCode.STALE, "the newest sample of `x` is 7 min 0 s old", "timestamp(x)"),
            Cause(CauseCode.LABEL_MISMATCH, "no `tenant_id` is `acme`", "count by (tenant_id) (x)"),
        ],
    )
    assert _rows(table([report])) == [
        [
            "overview",
            "Sessions",
            "empty",
            "stale: the newest sample of `x` is 7 min 0 s old",
            "timestamp(x)",
        ],
        ["", "", "", "label-mismatch: no `tenant_id` is `acme`", "count by (tenant_id) (x)"],
    ]


def test_the_json_keeps_every_panel_of_a_skipped_datasource() -> None:
    skipped = Skipped("loki", "LOKI_URL is empty", ("overview / Logs", "tenant / Errors", "tenant / Logs"))
    document = json.loads(as_json([], [], [skipped]))
    assert document["skipped"] == [
        {
            "datasource": "loki",
            "reason": "LOKI_URL is empty",
            "panels": ["overview / Logs", "tenant / Errors", "tenant / Logs"],
        }
    ]


def test_the_json_gives_a_rules_interval_and_error_as_prometheus_gave_them() -> None:
    """`interval_seconds` is the group's interval as is (1.5 s stays 1.5), and `last_error` is a
    string even when Prometheus gave none (a rule not evaluated yet): scripts need not test for null."""
    rule = RuleReport("prom", "recording", "job:x:rate1m", "g", "r.yml", "unknown", "", 1.5)
    (got,) = json.loads(as_json([], [rule]))["rules"]
    assert got["interval_seconds"] == 1.5
    assert got["last_error"] == ""
