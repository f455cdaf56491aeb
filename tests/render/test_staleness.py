"""Staleness: `check` notices every kind of difference between disk and the definitions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.definitions.loader import load_project
from engine.render.documents import build_documents
from engine.render.files import Output, render_outputs, write_outputs
from engine.render.staleness import compare_outputs
from tests.conftest import REPO


@pytest.fixture
def outputs() -> list[Output]:
    documents = build_documents(load_project(REPO))
    return render_outputs(documents)


def test_check_names_the_changed_panel(tmp_path: Path, outputs: list[Output]) -> None:
    write_outputs(tmp_path, outputs, "provisioning")
    path = tmp_path / "provisioning/dashboards/tiktickets/tiktickets-overview.json"
    document = json.loads(path.read_text())
    next(p for p in document["panels"] if p["title"] == "Error rate")["description"] = "edited by hand"
    path.write_text(json.dumps(document))
    (drift,) = compare_outputs(tmp_path, outputs, "provisioning")
    assert drift.kind == "changed"
    assert "panel 'Error rate' differs" in str(drift)


def test_check_reports_missing_and_foreign_files(tmp_path: Path, outputs: list[Output]) -> None:
    write_outputs(tmp_path, outputs, "provisioning")
    (tmp_path / "provisioning/datasources/datasources.yaml").unlink()
    (tmp_path / "provisioning/dashboards/tiktickets/old.json").write_text("{}")
    (tmp_path / "docs/telemetry-contract.md").write_text("stale\n")
    kinds = {(d.kind, d.path) for d in compare_outputs(tmp_path, outputs, "provisioning")}
    assert kinds == {
        ("missing", "provisioning/datasources/datasources.yaml"),
        ("not generated", "provisioning/dashboards/tiktickets/old.json"),
        ("changed", "docs/telemetry-contract.md"),
    }
    report = write_outputs(tmp_path, outputs, "provisioning")
    assert report.removed == ["provisioning/dashboards/tiktickets/old.json"]
    assert compare_outputs(tmp_path, outputs, "provisioning") == []
