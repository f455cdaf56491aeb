"""Shared fixtures: the real definitions, rendered the way `build` renders them."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path
from typing import Any

import pytest

from dashboards.overview import dashboard
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.types import DashboardDefinition, Project
from dashboards_as_code.kinds.dashboard import dashboard_document
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs

REPO = Path(__file__).resolve().parent.parent
DEFINITIONS = ("telemetry", "dashboards", "datasources", "prometheus_rules")
"""The project's definition packages (config.py beside them)."""
OUTPUTS = ("provisioning", "docs", "monitoring/prometheus/rules")


DESELECTED = pytest.StashKey[list[str]]()
LIVE_BY_HAND = (
    "run only by hand against a real Grafana: GRAFANA_URL=... GRAFANA_TOKEN=... pytest -m live "
    "(README, Tests)"
)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Remember what this run left out, to say so at its end."""
    for item in items:
        item.config.stash.setdefault(DESELECTED, []).append(item.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Name what was deselected: the `live` twins (their test-server runs ran), and anything else."""
    deselected = config.stash.get(DESELECTED, [])
    live = [nodeid for nodeid in deselected if nodeid.endswith("[live]")]
    if live:
        terminalreporter.write_line(
            f"{len(live)} deselected are the `live` twins of Grafana scenarios that ran against the "
            f"Grafana test server above; they {LIVE_BY_HAND}"
        )
    if len(deselected) > len(live):
        terminalreporter.write_line(
            f"{len(deselected) - len(live)} other tests deselected by this run's own options "
            "(-k, -m, --deselect)"
        )


@pytest.fixture(scope="session")
def overview() -> DashboardDefinition:
    return dashboard()


@pytest.fixture(scope="session")
def overview_doc(overview: DashboardDefinition) -> dict[str, Any]:
    return dashboard_document(overview)


@functools.cache
def generated_elsewhere() -> tuple[str, ...]:
    """The files `build` writes outside the OUTPUTS folders (the emitters' cardinality limits beside
    the demo): copied one by one, since their folders hold much else."""
    paths = [o.path for o in render_outputs(build_documents(load_project(REPO)))]
    return tuple(p for p in paths if not any(p.startswith(f"{folder}/") for folder in OUTPUTS))


def copy_outputs_elsewhere(root: Path) -> None:
    for path in generated_elsewhere():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / path, root / path)


def copy_project(root: Path) -> Path:
    """Copy the editable parts of the project (definitions, config.py, generated outputs) into `root`."""
    for name in DEFINITIONS + OUTPUTS:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    copy_outputs_elsewhere(root)
    shutil.copy(REPO / "config.py", root / "config.py")
    return root


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the editable parts of the project, for tests that change or break them."""
    return copy_project(tmp_path)


def project_dashboard(project: Project, uid: str) -> DashboardDefinition:
    """The dashboard `uid` of a loaded project: tests name the dashboard they mean, never its position."""
    (found,) = [d for d in project.dashboards if d.uid == uid]
    return found


def push_writes(project: Project) -> int:
    """What a first push to an empty Grafana writes: each folder, datasource, correlation and dashboard
    once."""
    folders = {d.folder.uid for d in project.dashboards}
    correlations = project.definitions.get("correlation", [])
    return len(folders) + len(project.datasources) + len(correlations) + len(project.dashboards)
