"""The CLI through its real entry point: help, exit codes, and messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from tests.conftest import REPO


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_clean_error(result: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output
    for fragment in fragments:
        assert fragment in output, output


@pytest.mark.parametrize("command", [[], ["build"], ["check"], ["checks"], ["doctor"], ["watch"]])
def test_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout
    if command in (["build"], ["check"], ["doctor"], ["watch"]):
        assert "--project" in result.stdout


def test_unknown_command_is_bad_usage() -> None:
    assert_clean_error(run("deploy"), 2, "No such command")


def test_check_passes_on_the_repository() -> None:
    result = run("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


def test_stale_provisioning_fails_check_then_build_fixes_it(project_copy: Path) -> None:
    path = project_copy / "provisioning/dashboards/tiktickets/tiktickets-overview.json"
    document = json.loads(path.read_text())
    next(p for p in document["panels"] if p["title"] == "Recent error logs")["title"] = "Logs"
    path.write_text(json.dumps(document, indent=2))
    assert_clean_error(
        run("check", "--project", str(project_copy)),
        1,
        "provisioning/dashboards/tiktickets/tiktickets-overview.json",
        "python build.py build",
    )
    built = run("build", "--project", str(project_copy))
    assert (
        built.returncode == 0
        and "wrote    provisioning/dashboards/tiktickets/tiktickets-overview.json" in built.stdout
    )
    assert run("check", "--project", str(project_copy)).returncode == 0


def test_build_summary_counts_the_one_file_it_rewrote(project_copy: Path) -> None:
    """After a hand edit of one generated file, `build` rewrites that file only, and its summary says
    so: 1 written, every other output unchanged, nothing removed. The summary is what a user (and
    `watch`) reads to know what a build touched."""
    outputs = render_outputs(build_documents(load_project(REPO)))  # the copy holds these definitions
    edited = next(o.path for o in outputs if not o.path.endswith(".json"))
    assert run("build", "--project", str(project_copy)).returncode == 0  # up to date, whatever was committed
    path = project_copy / edited
    path.write_text(path.read_text() + "# edited by hand\n")

    built = run("build", "--project", str(project_copy))

    assert built.returncode == 0, built.stdout + built.stderr
    assert [line for line in built.stdout.splitlines() if line.startswith("wrote ")] == [f"wrote    {edited}"]
    assert built.stdout.splitlines()[-1] == f"1 written, {len(outputs) - 1} unchanged, 0 removed.", (
        built.stdout
    )


def add_dashboard(project: Path, name: str, body: str) -> None:
    (project / "dashboards" / f"{name}.py").write_text(body)


BOARD = """
from config import TIKTICKETS_FOLDER
from datasources import PROMETHEUS
from dashboards_as_code import queries as q
from dashboards_as_code.definitions.datasource import DatasourceRef
from dashboards_as_code.panels.style import Row, dashboard as make, prom, timeseries
from telemetry.contract import CONTRACT, SOCKETIO_CONNECTIONS
import grafanalib.core as g


def panel(title, grid=None, datasource=PROMETHEUS.ref, signal=SOCKETIO_CONNECTIONS):
    return timeseries(title, description="d", unit="short", datasource=datasource,
                      targets=[prom(q.sum_by(q.select(signal)))], grid=grid)


def dashboard():
    return make(
        uid={uid!r}, title="Extra", folder=TIKTICKETS_FOLDER, description="d", rows=[Row("r", [{panels}])]
    )
"""


def test_duplicate_uid(project_copy: Path) -> None:
    add_dashboard(project_copy, "copy", BOARD.format(uid="tiktickets-overview", panels='panel("a")'))
    assert_clean_error(
        run("build", "--project", str(project_copy)),
        2,
        "dashboard 'tiktickets-overview'",
        "also used by",
        "[dashboard-uid]",
        "nothing was written",
    )


def test_overlapping_panels(project_copy: Path) -> None:
    panels = 'panel("One", g.GridPos(h=8, w=12, x=0, y=1)), panel("Two", g.GridPos(h=8, w=12, x=4, y=2))'
    add_dashboard(project_copy, "extra", BOARD.format(uid="extra", panels=panels))
    assert_clean_error(
        run("check", "--project", str(project_copy)),
        2,
        "dashboard 'extra', panel 'Two' (dashboards/extra.py): overlaps panel 'One'",
        "[grid-layout]",
    )


def test_unknown_datasource(project_copy: Path) -> None:
    panels = 'panel("Old", datasource=DatasourceRef("prometheus", "prom-legacy"))'
    add_dashboard(project_copy, "extra", BOARD.format(uid="extra", panels=panels))
    assert_clean_error(
        run("build", "--project", str(project_copy)),
        2,
        "panel 'Old'",
        "datasource uid 'prom-legacy' is not provisioned",
    )


def test_unknown_contract_signal(project_copy: Path) -> None:
    panels = 'panel("Legacy", signal=CONTRACT.metric("http_requests_total"))'
    add_dashboard(project_copy, "extra", BOARD.format(uid="extra", panels=panels))
    assert_clean_error(
        run("build", "--project", str(project_copy)),
        2,
        "dashboards/extra.py:",
        "unknown metric signal 'http_requests_total'",
    )


def test_python_error_in_a_definition(project_copy: Path) -> None:
    add_dashboard(project_copy, "extra", "def dashboard(:\n")
    assert_clean_error(run("check", "--project", str(project_copy)), 2, "dashboards/extra.py", "SyntaxError")


def test_module_without_dashboard_function(project_copy: Path) -> None:
    add_dashboard(project_copy, "notes", "TITLE = 'x'\n")
    assert_clean_error(
        run("build", "--project", str(project_copy)), 2, "dashboards/notes.py", "no dashboard()"
    )


def test_invalid_definitions_write_nothing(project_copy: Path) -> None:
    before = {p: p.read_bytes() for p in (project_copy / "provisioning").rglob("*") if p.is_file()}
    add_dashboard(project_copy, "copy", BOARD.format(uid="tiktickets-overview", panels='panel("a")'))
    assert run("build", "--project", str(project_copy)).returncode == 2
    after = {p: p.read_bytes() for p in (project_copy / "provisioning").rglob("*") if p.is_file()}
    assert after == before


def test_alert_linking_to_a_panel_that_does_not_exist(project_copy: Path) -> None:
    alerts = project_copy / "prometheus_rules" / "alerts.py"
    alerts.write_text(
        alerts.read_text().replace('"span_calls": "Request rate per route"', '"span_calls": "Gone"')
    )
    assert_clean_error(
        run("build", "--project", str(project_copy)),
        2,
        "alert TikTicketsSignalMissing links to panel 'Gone', which the dashboard lacks",
    )


def test_project_option_uses_that_projects_contract_and_nothing_of_this_checkout(project_copy: Path) -> None:
    """`--project DIR` reads DIR's contract, definitions and output paths, not this checkout's."""
    contract = project_copy / "telemetry" / "contract.py"
    old = "WhatsApp messages sent (monotonic)."
    contract.write_text(contract.read_text().replace(old, "Messages handed to WhatsApp (monotonic)."))
    ours = {p: p.read_bytes() for p in (REPO / "docs").rglob("*")}
    assert_clean_error(run("check", "--project", str(project_copy)), 1, "changed: docs/telemetry-contract.md")
    built = run("build", "--project", str(project_copy))
    assert built.returncode == 0, built.stdout + built.stderr
    assert built.stdout.splitlines()[0] == "wrote    docs/telemetry-contract.md"
    assert "Messages handed to WhatsApp" in (project_copy / "docs/telemetry-contract.md").read_text()
    assert {p: p.read_bytes() for p in (REPO / "docs").rglob("*")} == ours


def test_project_option_uses_that_projects_config(project_copy: Path) -> None:
    config = project_copy / "config.py"
    config.write_text(config.read_text().replace('name="tiktickets"', 'name="helpdesk"'))
    built = run("build", "--project", str(project_copy))
    assert built.returncode == 0, built.stdout + built.stderr
    assert "wrote    monitoring/prometheus/rules/helpdesk.yml" in built.stdout
    assert (project_copy / "monitoring/prometheus/rules/helpdesk.yml").is_file()


def test_checks_lists_every_lint_check() -> None:
    result = run("checks")
    assert result.returncode == 0
    ids = [line.split()[0] for line in result.stdout.splitlines()]
    assert "tenant-filter" in ids and "grid-layout" in ids and len(ids) == len(set(ids)) >= 10


@pytest.mark.parametrize("command", ["build", "check"])
def test_build_and_check_start_without_the_grafana_client(command: str, project_copy: Path) -> None:
    script = (
        "import runpy, sys\n"
        f"sys.argv = ['build.py', {command!r}, '--project', {str(project_copy)!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(REPO / 'build.py')!r}, run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "heavy = ('grafana_client', 'niquests', 'rich.progress', 'pydantic_settings')\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in heavy or name in heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False, cwd=REPO
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
