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


def _hiding(viz: bool) -> dict[str, object]:
    """A series override as Grafana's "Hide in area" writes it, tooltip left shown."""
    hide = {"id": "custom.hideFrom", "value": {"legend": False, "tooltip": False, "viz": viz}}
    return {"matcher": {"id": "byName", "options": "5xx"}, "properties": [hide]}


def test_the_document_holds_what_grafanas_migrations_up_to_its_schema_version_would_change() -> None:
    """A document at Grafana 13.2's schemaVersion (42) is not migrated on load, so it must already be
    what migrations 40-42 make of an older one (docs/grafana-13-facts.md §7): `refresh` a string ("" for
    none, 40), no `timepicker.time_options` (41), and a series hidden from the graph hidden from the
    tooltip too (42), in a collapsed row as well."""
    shown, hidden = (
        g.TimeSeries(title=t, overrides=[_hiding(v)]) for t, v in (("Shown", False), ("Hidden", True))
    )
    nested = g.TimeSeries(title="Nested", overrides=[_hiding(True)])
    row = g.RowPanel(title="More", collapsed=True, panels=[nested])
    board = g.Dashboard(title="Old", uid="old", refresh=None, panels=[shown, hidden, row]).auto_panel_ids()
    document = dashboard_document(DashboardDefinition(Folder("f", "F"), board))
    assert document["refresh"] == ""
    assert "time_options" not in document["timepicker"]
    by_title = {p["title"]: p for p in (*document["panels"], *document["panels"][2]["panels"])}
    tooltip = {title: by_title[title]["fieldConfig"]["overrides"][0]["properties"][0]["value"]["tooltip"]
               for title in ("Shown", "Hidden", "Nested")}  # fmt: skip
    assert tooltip == {"Shown": False, "Hidden": True, "Nested": True}


def test_an_auto_refresh_the_definition_sets_is_kept() -> None:
    board = g.Dashboard(title="Live", uid="live", refresh="1m", panels=[])
    assert dashboard_document(DashboardDefinition(Folder("f", "F"), board))["refresh"] == "1m"
