"""A panel's identity in `check` and `diff` is its id, for every panel of every rendered dashboard.

Grafana addresses a panel by its id (`viewPanel=<id>`, `editPanel=<id>`), and both reports say so
(render/staleness.py for `check`, kinds/changes.py for `diff` and `push --dry-run`). So, whichever
panel it is:
- retitled: one panel changed (check: that panel "differs", named as defined; diff: "renamed 'old'
  to 'new'"), never one panel removed and another added;
- moved (its `gridPos`): one panel changed, named, and nothing else;
- the panels listed in another order: no panel is named at all (the same panels, in the same places).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboards_as_code.dashboard_panels import every_panel
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.kinds.changes import summarise_dashboard
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from dashboards_as_code.render.formats import Output
from dashboards_as_code.render.staleness import compare_outputs
from tests.conftest import REPO


@functools.cache
def _dashboard_outputs() -> tuple[Output, ...]:
    """The dashboard JSON files `build` writes (the provisioning ones), read once for every example."""
    documents = build_documents(load_project(REPO))
    uids = {d.uid for d in documents.dashboards}
    return tuple(
        o for o in render_outputs(documents) if o.path.endswith(".json") and Path(o.path).stem in uids
    )


def _paths() -> list[str]:
    return [o.path for o in _dashboard_outputs()]


def _output(path: str) -> Output:
    (found,) = [o for o in _dashboard_outputs() if o.path == path]
    return found


def _document(path: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_output(path).content)
    return document


def check_detail(root: Path, path: str, on_disk: dict[str, Any]) -> str:
    """What `check` says of the dashboard file `path` when `on_disk` is written there."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(on_disk, indent=2))
    (drift,) = compare_outputs(root, [_output(path)], path.split("/", 1)[0])
    assert drift.kind == "changed", drift
    return drift.detail


def top_panels(path: str) -> Iterator[tuple[int, str]]:
    for index, panel in enumerate(_document(path)["panels"]):
        yield index, str(panel["title"])


def every_case() -> list[tuple[str, int]]:
    return [(path, index) for path in _paths() for index, _title in top_panels(path)]


@pytest.mark.parametrize(("path", "index"), every_case())
def test_check_reads_a_retitled_or_moved_panel_as_that_one_panel_changed(
    tmp_path: Path, path: str, index: int
) -> None:
    """A title or a position edited by hand in a generated file: `check` names that panel, by the title
    the definitions give it, as the one thing that differs."""
    defined = _document(path)
    title = defined["panels"][index]["title"]
    retitled = copy.deepcopy(defined)
    retitled["panels"][index]["title"] = f"{title} (edited)"
    assert check_detail(tmp_path, path, retitled) == f"panel {title!r} differs"
    moved = copy.deepcopy(defined)
    moved["panels"][index]["gridPos"]["y"] += 1000
    assert check_detail(tmp_path, path, moved) == f"panel {title!r} differs"


def panels_in(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel the diff compares: the top level and those inside collapsed rows."""
    return list(every_panel(document))


@pytest.mark.parametrize("path", _paths())
def test_diff_reads_a_retitled_or_moved_panel_as_that_one_panel_changed(path: str) -> None:
    """In Grafana (live) a panel was retitled or moved; ours is as defined. The summary is one rename,
    old title to new, or one settings change named by our title: never a removal plus an addition."""
    desired = _document(path)
    for index, panel in enumerate(panels_in(desired)):
        title = str(panel["title"])
        live = copy.deepcopy(desired)
        panels_in(live)[index]["title"] = f"{title} (edited)"
        assert summarise_dashboard(live, desired) == f"renamed {title + ' (edited)'!r} to {title!r}"
        live = copy.deepcopy(desired)
        panels_in(live)[index]["gridPos"]["x"] = (panel["gridPos"]["x"] + 1) % 24
        assert summarise_dashboard(live, desired) == f"settings changed in {title!r}"


@settings(max_examples=15, derandomize=True, deadline=None)
@given(data=st.data())
def test_panels_listed_in_another_order_name_no_panel(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """The same panels with the same ids and positions, listed in another order (Grafana's editor saves
    them sorted by position; a hand edit may move a block of JSON): neither report names a panel as
    removed, added or changed."""
    path = data.draw(st.sampled_from(_paths()))
    desired = _document(path)
    live = {**desired, "panels": data.draw(st.permutations(desired["panels"]))}
    assert summarise_dashboard(live, desired) == "no change"
    detail = check_detail(tmp_path_factory.mktemp("check"), path, live)
    assert "panel" not in detail, detail
