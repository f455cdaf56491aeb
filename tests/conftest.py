"""Shared fixtures: the real definitions, rendered the way `build` renders them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from dashboards.overview import dashboard
from engine.definitions.types import DashboardDefinition
from engine.render.documents import dashboard_document

REPO = Path(__file__).resolve().parent.parent
DEFINITIONS = ("telemetry", "dashboards", "datasources", "prometheus_rules")
"""The project's definition packages (config.py beside them)."""
OUTPUTS = ("provisioning", "docs", "monitoring/prometheus/rules")


@pytest.fixture(scope="session")
def overview() -> DashboardDefinition:
    return dashboard()


@pytest.fixture(scope="session")
def overview_doc(overview: DashboardDefinition) -> dict[str, Any]:
    return dashboard_document(overview)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the editable parts of the project, for tests that change or break them."""
    for name in DEFINITIONS + OUTPUTS:
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "config.py", tmp_path / "config.py")
    return tmp_path
