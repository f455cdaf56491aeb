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


def _text_output(outputs: list[Output]) -> Output:
    """A generated text file (not JSON) long enough to edit in its middle: its diff is line based."""
    return next(o for o in outputs if not o.path.endswith(".json") and len(o.content.splitlines()) >= 10)


@pytest.mark.parametrize(("removed", "added"), [(1, 3), (3, 1)])
def test_check_counts_the_lines_that_differ_on_each_side(
    tmp_path: Path, outputs: list[Output], removed: int, added: int
) -> None:
    """A hand edit of a committed text output: `removed` generated lines replaced by `added` lines of
    the user's own. `check` must say how many lines on disk differ (the user's) from how many
    generated lines, and where: unified diff ranges from disk (`-`) to generated (`+`), `start,count`
    with the count left out when it is 1."""
    write_outputs(tmp_path, outputs, "provisioning")
    output = _text_output(outputs)
    lines = output.content.decode().splitlines(keepends=True)
    start = len(lines) // 2  # 0-based index of the first replaced line
    edited = [f"# edited by hand, line {n}\n" for n in range(added)]
    (tmp_path / output.path).write_text("".join(lines[:start] + edited + lines[start + removed :]))

    (drift,) = compare_outputs(tmp_path, outputs, "provisioning")

    def hunk_range(count: int) -> str:
        return f"{start + 1}" if count == 1 else f"{start + 1},{count}"

    assert drift.kind == "changed" and drift.path == output.path
    assert drift.detail == (
        f"{added} line(s) on disk differ from {removed} generated line(s), "
        f"first at -{hunk_range(added)} +{hunk_range(removed)}"
    ), drift.detail
