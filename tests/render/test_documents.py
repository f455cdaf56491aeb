"""Definitions -> documents: the dropped fields, the providers, and one document per dashboard."""

from __future__ import annotations

import json

import pytest
import yaml

from engine.defaults import GRAFANA_PROVISIONING_MOUNT
from engine.definitions.loader import load_project
from engine.render.documents import DROPPED_DASHBOARD_FIELDS, DROPPED_PANEL_FIELDS, build_documents
from engine.render.files import Output, render_outputs
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
    dashboard = json.loads(next(o for o in outputs if o.path.endswith(".json")).content)
    assert not set(DROPPED_DASHBOARD_FIELDS) & set(dashboard)
    for panel in dashboard["panels"]:
        assert not set(DROPPED_PANEL_FIELDS) & set(panel)
        assert None not in panel.values()
    assert all(reason.strip() for reason in {**DROPPED_DASHBOARD_FIELDS, **DROPPED_PANEL_FIELDS}.values())
