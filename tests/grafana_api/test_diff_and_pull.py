"""diff (exit 0 same / 1 differs / 2 error) and pull (a live dashboard as normalised JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config import OVERVIEW_UID
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.kinds.comparable import comparable_dashboard
from dashboards_as_code.kinds.dashboard import dashboard_document
from tests.conftest import REPO, project_dashboard
from tests.grafana_api.conftest import Target, cli


def test_diff_before_and_after_push(target: Target, project_copy: Path) -> None:
    before = cli(target, "diff", project=project_copy)
    assert before.returncode == 1
    assert "dashboard tiktickets-overview: create: new" in before.stdout
    assert "+++ code/dashboards/tiktickets-overview.json" in before.stdout
    assert cli(target, "push", project=project_copy).returncode == 0
    after = cli(target, "diff", project=project_copy)
    assert after.returncode == 0, after.stdout
    assert "matches the definitions" in after.stdout


def test_diff_shows_changed_queries_and_a_unified_diff(target: Target, project_copy: Path) -> None:
    assert cli(target, "push", project=project_copy).returncode == 0
    overview = project_copy / "dashboards" / "overview.py"
    source = overview.read_text()
    overview.write_text(source.replace('prom(latency(0.5), "P50")', 'prom(latency(0.75), "P50")'))
    result = cli(target, "diff", project=project_copy)
    assert result.returncode == 1
    summary = "dashboard tiktickets-overview: update: queries changed in 'Latency P50 / P95 / P99'"
    assert summary in result.stdout
    assert '-          "expr": "histogram_quantile(0.5,' in result.stdout
    assert '+          "expr": "histogram_quantile(0.75,' in result.stdout


def test_diff_shows_a_moved_folder(target: Target, project_copy: Path) -> None:
    assert cli(target, "push", project=project_copy).returncode == 0
    folders = project_copy / "config.py"
    before = 'Folder(uid="tiktickets", title="TikTickets")'
    moved = folders.read_text().replace(before, 'Folder(uid="ops", title="Ops")')
    assert moved != folders.read_text()
    folders.write_text(moved)
    result = cli(target, "diff", project=project_copy)
    assert result.returncode == 1
    assert "moved from folder 'tiktickets' to 'ops'" in result.stdout


def test_pull_gives_the_normalised_json(target: Target, project_copy: Path, tmp_path: Path) -> None:
    assert cli(target, "push", project=project_copy).returncode == 0
    printed = cli(target, "pull", "tiktickets-overview", project=project_copy)
    assert printed.returncode == 0, printed.stderr
    expected = comparable_dashboard(dashboard_document(project_dashboard(load_project(REPO), OVERVIEW_UID)))
    assert json.loads(printed.stdout) == expected
    out = tmp_path / "pulled.json"
    written = cli(target, "pull", "tiktickets-overview", "-o", str(out), project=project_copy)
    assert written.returncode == 0
    assert f"wrote {out}" in written.stderr
    assert json.loads(out.read_text()) == expected


def test_pull_of_an_unknown_uid(target: Target, project_copy: Path) -> None:
    result = cli(target, "pull", "no-such-dashboard", project=project_copy)
    assert result.returncode == 2
    assert "has no dashboard with uid 'no-such-dashboard'" in result.stderr


# -- the change summary names exactly what changed ------------------------------------------------

OVERVIEW = "dashboards/overview.py"
QUERY = ('prom(latency(0.5), "P50")', 'prom(latency(0.75), "P50")')
"""A query edit: the P50 line of the latency panel asks another quantile."""
LATENCY_SETTING = ("Server span duration quantiles in seconds", "Server span duration quantiles, in seconds")
"""A setting edit in the same panel: its description, nothing its queries hold."""
OTHER_SETTING = ("Share of server spans with status ERROR", "The share of server spans with status ERROR")
"""A setting edit in another panel (the error-rate stat's description)."""


def _panel(predicate: Callable[[dict[str, Any]], bool]) -> tuple[str, str]:
    """(dashboard uid, quoted panel title) of the one panel of the project's dashboards that
    `predicate` picks: the names a summary must use, read from the definitions."""
    found = [
        (document["uid"], repr(panel["title"]))
        for document in (dashboard_document(d) for d in load_project(REPO).dashboards)
        for panel in document["panels"]
        if predicate(panel)
    ]
    assert len(found) == 1, found
    return found[0]


def _has_query(start: str) -> Callable[[dict[str, Any]], bool]:
    return lambda panel: any(str(t.get("expr", "")).startswith(start) for t in panel.get("targets", []))


def _has_description(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda panel: text in str(panel.get("description", ""))


LATENCY = _panel(_has_query("histogram_quantile(0.5,"))
ERROR_STAT = _panel(lambda p: p.get("type") == "stat" and _has_description(OTHER_SETTING[0])(p))


@pytest.mark.parametrize(
    ("edits", "parts"),
    [
        pytest.param([QUERY], [f"queries changed in {LATENCY[1]}"], id="query-only"),
        pytest.param([LATENCY_SETTING], [f"settings changed in {LATENCY[1]}"], id="setting-only"),
        pytest.param(
            [QUERY, LATENCY_SETTING],
            [f"queries changed in {LATENCY[1]}", f"settings changed in {LATENCY[1]}"],
            id="both-in-one-panel",
        ),
        pytest.param(
            [QUERY, OTHER_SETTING],
            [f"queries changed in {LATENCY[1]}", f"settings changed in {ERROR_STAT[1]}"],
            id="query-here-setting-there",
        ),
    ],
)
def test_the_change_summary_names_exactly_what_changed(
    target: Target, project_copy: Path, edits: list[tuple[str, str]], parts: list[str]
) -> None:
    """What a reviewer reads before a push: one summary line per dashboard, naming each kind of change
    and the panels it touched, nothing more. A query edit is not also "settings changed" (the query
    is not a setting), a setting edit is not "queries changed", and a panel with both says both."""
    assert _panel(_has_description(LATENCY_SETTING[0])) == LATENCY  # both latency edits: one panel
    assert LATENCY[0] == ERROR_STAT[0]  # every edit in one dashboard: one summary line
    assert cli(target, "push", project=project_copy).returncode == 0
    overview = project_copy / OVERVIEW
    source = overview.read_text()
    for old, new in edits:
        assert source.count(old) == 1, f"{OVERVIEW} holds {old!r} {source.count(old)} times"
        source = source.replace(old, new)
    overview.write_text(source)
    uid = LATENCY[0]
    expected = f"dashboard {uid}: update: {'; '.join(parts)}"
    result = cli(target, "diff", project=project_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("dashboard ")] == [expected]
    pushed = cli(target, "push", project=project_copy)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    lines = [line for line in pushed.stdout.splitlines() if line.startswith("updated    dashboard ")]
    assert lines == [f"updated    dashboard {uid}: {'; '.join(parts)}"]
