"""Definitions -> documents: the dropped fields, the providers, and one document per dashboard."""

from __future__ import annotations

import json

import grafanalib.core as g
import pytest
import yaml

from dashboards_as_code.defaults import GRAFANA_PROVISIONING_MOUNT
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.types import DashboardDefinition, Folder
from dashboards_as_code.kinds.dashboard import dashboard_document
from dashboards_as_code.kinds.dashboard.document import DROPPED_DASHBOARD_FIELDS, DROPPED_PANEL_FIELDS
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from dashboards_as_code.render.formats import Output
from tests.conftest import REPO


@pytest.fixture
def outputs() -> list[Output]:
    documents = build_documents(load_project(REPO))
    return render_outputs(documents)


def test_provider_reads_the_folder_the_dashboard_is_written_to(outputs: list[Output]) -> None:
    providers = yaml.safe_load(next(o for o in outputs if o.path.endswith("providers.yaml")).content)
    (provider,) = providers["providers"]
    assert provider["folder"] == "TikTickets"
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False
    mounted = provider["options"]["path"].replace(GRAFANA_PROVISIONING_MOUNT, "provisioning")
    assert any(o.path.startswith(mounted + "/") and o.path.endswith(".json") for o in outputs)


def test_dropped_fields_are_gone_and_each_has_a_reason(outputs: list[Output]) -> None:
    boards = [o for o in outputs if o.path.startswith("provisioning/dashboards/") and o.path.endswith("json")]
    dashboard = json.loads(boards[0].content)
    assert not set(DROPPED_DASHBOARD_FIELDS) & set(dashboard)
    for panel in dashboard["panels"]:
        assert not set(DROPPED_PANEL_FIELDS) & set(panel)
        assert None not in panel.values()
    assert all(reason.strip() for reason in {**DROPPED_DASHBOARD_FIELDS, **DROPPED_PANEL_FIELDS}.values())


def test_panels_in_a_collapsed_row_are_normalised_like_the_others() -> None:
    nested = g.TimeSeries(title="Nested", gridPos=g.GridPos(h=8, w=12, x=0, y=1))
    row = g.RowPanel(title="More", collapsed=True, panels=[nested], gridPos=g.GridPos(h=1, w=24, x=0, y=0))
    board = g.Dashboard(title="Rows", uid="rows", panels=[row]).auto_panel_ids()
    (document_row,) = dashboard_document(DashboardDefinition(Folder("f", "F"), board))["panels"]
    (panel,) = document_row["panels"]
    assert panel["title"] == "Nested" and panel["type"] == "timeseries"
    assert not set(DROPPED_PANEL_FIELDS) & set(panel)
    assert None not in panel.values()
