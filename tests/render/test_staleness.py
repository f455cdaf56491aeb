"""Staleness: `check` notices every kind of difference between disk and the definitions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs, write_outputs
from dashboards_as_code.render.formats import Output
from dashboards_as_code.render.staleness import compare_outputs
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


DASHBOARD = "provisioning/dashboards/tiktickets/tiktickets-overview.json"


def _changed_detail(tmp_path: Path, outputs: list[Output], path: str, text: str) -> str:
    """The detail `check` gives for `path` after it is overwritten with `text` by hand."""
    write_outputs(tmp_path, outputs, "provisioning")
    (tmp_path / path).write_text(text)
    (drift,) = compare_outputs(tmp_path, outputs, "provisioning")
    assert (drift.kind, drift.path) == ("changed", path)
    return drift.detail


def _generated_dashboard(outputs: list[Output]) -> dict[str, Any]:
    return dict(json.loads(next(o.content for o in outputs if o.path == DASHBOARD)))


def test_a_panel_deleted_on_disk_and_one_added_there_are_told_apart(
    tmp_path: Path, outputs: list[Output]
) -> None:
    """Deleted in the file: the definitions still have it ("missing on disk"); added in the file (in
    Grafana's UI, then exported): no definition has it, and build will drop it."""
    document = _generated_dashboard(outputs)
    deleted = document["panels"].pop(len(document["panels"]) // 2)
    added = {**document["panels"][0], "id": 9999, "title": "Made in the UI"}
    document["panels"].append(added)
    detail = _changed_detail(tmp_path, outputs, DASHBOARD, json.dumps(document))
    assert f"panel {deleted['title']!r} missing on disk" in detail, detail
    assert "panel 'Made in the UI' not in the definitions" in detail, detail
    assert "differs" not in detail, detail  # nothing else was changed


def test_a_dashboard_field_changed_on_disk_is_named(tmp_path: Path, outputs: list[Output]) -> None:
    document = _generated_dashboard(outputs)
    document["title"] = "Renamed in the UI"
    assert _changed_detail(tmp_path, outputs, DASHBOARD, json.dumps(document)) == "title differs"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("{not json", "not valid JSON on disk"),
        ("[]", "not a dashboard object on disk"),
        (None, "formatting differs"),  # the same document, laid out otherwise
    ],
)
def test_a_dashboard_that_is_no_longer_comparable_says_why(
    tmp_path: Path, outputs: list[Output], text: str | None, detail: str
) -> None:
    written = text if text is not None else json.dumps(_generated_dashboard(outputs))
    assert _changed_detail(tmp_path, outputs, DASHBOARD, written) == detail


def test_the_first_of_several_text_changes_is_the_one_pointed_at(
    tmp_path: Path, outputs: list[Output]
) -> None:
    """With two separate edits, `check` points at the earlier one: where a reader starts to look."""
    output = _text_output(outputs)
    lines = output.content.decode().splitlines(keepends=True)
    first, second = 2, len(lines) - 2  # 0-based; far apart, so they are two hunks
    lines[first], lines[second] = "# edited by hand, early\n", "# edited by hand, late\n"
    detail = _changed_detail(tmp_path, outputs, output.path, "".join(lines))
    assert (
        detail == f"2 line(s) on disk differ from 2 generated line(s), first at -{first + 1} +{first + 1}"
    ), detail


def test_a_panel_retitled_on_disk_is_one_changed_panel_named_as_defined(
    tmp_path: Path, outputs: list[Output]
) -> None:
    """Grafana keys a dashboard's panels by id (viewPanel=<id>), not by title: a title edited by hand
    is a change to that one panel, which `check` names by the title the definitions give it."""
    document = _generated_dashboard(outputs)
    edited = next(p for p in document["panels"] if p["type"] != "row")
    defined_title = edited["title"]
    edited["title"] = f"{defined_title} (edited)"
    detail = _changed_detail(tmp_path, outputs, DASHBOARD, json.dumps(document))
    assert detail == f"panel {defined_title!r} differs", detail
