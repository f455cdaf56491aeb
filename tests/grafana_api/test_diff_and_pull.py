"""diff (exit 0 same / 1 differs / 2 error) and pull (a live dashboard as normalised JSON)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.definitions.loader import load_project
from engine.grafana_api.comparable import comparable_dashboard
from engine.render.documents import dashboard_document
from tests.conftest import REPO
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
    expected = comparable_dashboard(dashboard_document(load_project(REPO).dashboards[0]))
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
