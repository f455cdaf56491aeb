"""Shared fixtures: the real definitions, rendered the way `build` renders them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from dashboards.overview import dashboard
from machinery.definitions import DashboardDefinition
from machinery.render import normalise_dashboard

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def overview() -> DashboardDefinition:
    return dashboard()


@pytest.fixture(scope="session")
def overview_doc(overview: DashboardDefinition) -> dict[str, Any]:
    return normalise_dashboard(overview)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the editable parts of the project, for tests that change or break them."""
    for name in ("dashboards", "datasources", "rules", "provisioning", "docs", "monitoring/prometheus/rules"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path
