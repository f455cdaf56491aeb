"""Rendering: deterministic bytes, atomic writes, and a `check` that notices every kind of staleness."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from machinery import render
from machinery.definitions import load_project
from machinery.render import (
    DROPPED_DASHBOARD_FIELDS,
    DROPPED_PANEL_FIELDS,
    compare_outputs,
    render_project,
    write_outputs,
)
from tests.conftest import REPO


@pytest.fixture
def outputs() -> list[render.Output]:
    return render_project(load_project(REPO))


def test_output_is_deterministic(outputs: list[render.Output]) -> None:
    again = render_project(load_project(REPO))
    assert [(o.path, o.content) for o in again] == [(o.path, o.content) for o in outputs]


def test_expected_files(outputs: list[render.Output]) -> None:
    assert [o.path for o in outputs] == [
        "docs/telemetry-contract.md",
        "monitoring/prometheus/rules/tiktickets.yml",
        "provisioning/README.md",
        "provisioning/dashboards/providers.yaml",
        "provisioning/dashboards/tiktickets/tiktickets-overview.json",
        "provisioning/datasources/datasources.yaml",
    ]


def test_provider_reads_the_folder_the_dashboard_is_written_to(outputs: list[render.Output]) -> None:
    providers = yaml.safe_load(next(o for o in outputs if o.path.endswith("providers.yaml")).content)
    (provider,) = providers["providers"]
    assert provider["folder"] == "TikTickets"
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False
    mounted = provider["options"]["path"].replace(render.GRAFANA_PROVISIONING_DIR, "provisioning")
    assert any(o.path.startswith(mounted + "/") and o.path.endswith(".json") for o in outputs)


def test_dropped_fields_are_gone_and_each_has_a_reason(outputs: list[render.Output]) -> None:
    dashboard = json.loads(next(o for o in outputs if o.path.endswith(".json")).content)
    assert not set(DROPPED_DASHBOARD_FIELDS) & set(dashboard)
    for panel in dashboard["panels"]:
        assert not set(DROPPED_PANEL_FIELDS) & set(panel)
        assert None not in panel.values()
    assert all(reason.strip() for reason in {**DROPPED_DASHBOARD_FIELDS, **DROPPED_PANEL_FIELDS}.values())


def test_build_into_an_empty_tree_then_check_is_clean(tmp_path: Path, outputs: list[render.Output]) -> None:
    report = write_outputs(tmp_path, outputs)
    assert len(report.written) == len(outputs)
    assert compare_outputs(tmp_path, outputs) == []
    assert write_outputs(tmp_path, outputs).written == []  # second build writes nothing


def test_check_names_the_changed_panel(tmp_path: Path, outputs: list[render.Output]) -> None:
    write_outputs(tmp_path, outputs)
    path = tmp_path / "provisioning/dashboards/tiktickets/tiktickets-overview.json"
    document = json.loads(path.read_text())
    next(p for p in document["panels"] if p["title"] == "Error rate")["description"] = "edited by hand"
    path.write_text(json.dumps(document))
    (drift,) = compare_outputs(tmp_path, outputs)
    assert drift.kind == "changed"
    assert "panel 'Error rate' differs" in str(drift)


def test_check_reports_missing_and_foreign_files(tmp_path: Path, outputs: list[render.Output]) -> None:
    write_outputs(tmp_path, outputs)
    (tmp_path / "provisioning/datasources/datasources.yaml").unlink()
    (tmp_path / "provisioning/dashboards/tiktickets/old.json").write_text("{}")
    (tmp_path / "docs/telemetry-contract.md").write_text("stale\n")
    kinds = {(d.kind, d.path) for d in compare_outputs(tmp_path, outputs)}
    assert kinds == {
        ("missing", "provisioning/datasources/datasources.yaml"),
        ("not generated", "provisioning/dashboards/tiktickets/old.json"),
        ("changed", "docs/telemetry-contract.md"),
    }
    report = write_outputs(tmp_path, outputs)
    assert report.removed == ["provisioning/dashboards/tiktickets/old.json"]
    assert compare_outputs(tmp_path, outputs) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "provisioning" / "x.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        render.atomic_write(target, b"new content\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]
