"""Metamorphic invariants of the Grafana-side comparison (push planning, diff, the pushed hash).

Every rendered dashboard is pushed to a stand-in that stores it the way Grafana does, read back
through the dashboard kind's own `fetch`, and planned with `decide`. Two rules hold for all of them:
- what Grafana does to a dashboard without anyone editing it is "unchanged": it answers with its keys
  in an order of its own, adds `id`, `version` and `iteration`, sends the JSON with its own
  whitespace, and its dashboard editor re-sorts `panels` by `gridPos` (top to bottom, then left to
  right) on save: the one list whose order Grafana does not keep. Every other list (tags, targets,
  variables, threshold steps) is shown in its order, so its order counts;
- any single edit of a field Grafana shows (each leaf of the rendered dashboard, found by walking it,
  so a new panel or option is covered the day it is added) is a conflict on that dashboard, with a
  summary that names a change, and a change on our side alone is an update.
"""

from __future__ import annotations

import copy
import functools
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from dashboards_as_code.dashboard_panels import panel_layers
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.grafana_api.plan import Decision, decide
from dashboards_as_code.kinds.base import Desired
from dashboards_as_code.kinds.comparable import DASHBOARD_IGNORED_FIELDS
from dashboards_as_code.kinds.dashboard import KIND
from dashboards_as_code.render.documents import build_documents
from tests.conftest import REPO

Path = tuple[str | int, ...]


@functools.cache
def _desired() -> tuple[Desired, ...]:
    """The project's dashboards as push wants them (read once: hypothesis calls the tests many times)."""
    return tuple(KIND.desired(build_documents(load_project(REPO))))


def _uids() -> list[str]:
    return [d.uid for d in _desired()]


def _desired_named(uid: str) -> Desired:
    (found,) = [d for d in _desired() if d.uid == uid]
    return found


class StoringGrafana:
    """Holds what was pushed as Grafana stores it and answers `GET /dashboards/uid/...` with it.

    `resave` stands for what Grafana does between our push and our next read: it gets the stored
    dashboard and returns the one Grafana then answers with.
    """

    url = "http://grafana.test:3000"

    def __init__(self) -> None:
        self.stored: dict[str, Any] | None = None
        self.folder_uid: str = ""

    def send(self, action: str, method: str, path: str, body: object = None) -> object:
        assert isinstance(body, dict) and path == "/dashboards/db", (method, path)
        self.stored = copy.deepcopy(body["dashboard"])
        self.folder_uid = str(body.get("folderUid") or "")
        return {"status": "success"}

    def read(self, action: str, path: str, params: dict[str, Any] | None = None) -> object:
        assert self.stored is not None
        meta = {"folderUid": self.folder_uid, "provisioned": False, "canSave": True, "version": 3}
        return {"meta": meta, "dashboard": copy.deepcopy(self.stored)}


def pushed(desired: Desired) -> StoringGrafana:
    """A Grafana holding `desired` exactly as our push sent it."""
    grafana = StoringGrafana()
    KIND.write(grafana, desired, None, force=False)
    return grafana


def shuffled_keys(node: Any, rng: random.Random) -> Any:
    """`node` with the keys of every object in another order (lists keep theirs)."""
    if isinstance(node, dict):
        keys = list(node)
        rng.shuffle(keys)
        return {key: shuffled_keys(node[key], rng) for key in keys}
    if isinstance(node, list):
        return [shuffled_keys(item, rng) for item in node]
    return node


def sorted_by_grid(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grafana's save order (DashboardModel.sortPanelsByGridPos): by `gridPos.y`, then `gridPos.x`."""
    return sorted(panels, key=lambda p: (p.get("gridPos", {}).get("y", 0), p.get("gridPos", {}).get("x", 0)))


def grafana_resave(stored: dict[str, Any], rng: random.Random, indent: int | None) -> dict[str, Any]:
    """The same dashboard as Grafana answers with it after storing it, or after a user opened it and
    saved it unchanged: panels (and those of collapsed rows) in grid order, Grafana's ids and counters
    added, keys in another order, and a trip through JSON text with other whitespace."""
    document = copy.deepcopy(stored)
    document["panels"] = sorted_by_grid(document.get("panels", []))
    for panel in document["panels"]:
        if panel.get("panels"):
            panel["panels"] = sorted_by_grid(panel["panels"])
    document.update(id=rng.randrange(1, 10**6), version=rng.randrange(1, 50), iteration=1700000000000)
    text = json.dumps(shuffled_keys(document, rng), indent=indent, separators=None if indent else (",", ":"))
    answer: dict[str, Any] = json.loads(text)
    return answer


# No shrinking: a failure names its dashboard already, and shrinking a Random takes minutes.
@settings(max_examples=12, derandomize=True, deadline=None, phases=(Phase.explicit, Phase.generate))
@given(
    uid=st.sampled_from(_uids()),
    rng=st.randoms(use_true_random=False),
    indent=st.sampled_from([None, 1, 4]),
)
def test_a_dashboard_grafana_stored_without_an_edit_is_unchanged(
    uid: str, rng: random.Random, indent: int | None
) -> None:
    """Key order, Grafana's ids and counters, JSON whitespace and Grafana's panel order are not edits:
    reading them as one would make every pushed dashboard a conflict that only --force clears."""
    desired = _desired_named(uid)
    grafana = pushed(desired)
    assert grafana.stored is not None
    grafana.stored = grafana_resave(grafana.stored, rng, indent)
    action = decide(grafana, desired, force=False)  # type: ignore[arg-type]
    assert (action.op, action.error) == (Decision.UNCHANGED, None), action.summary
    live = KIND.fetch(grafana, uid)
    assert live is not None
    assert (live.owner, live.edited_since_push) == (desired.owner, False)  # our push's hash still matches


def test_grafanas_panel_order_is_the_rendered_order() -> None:
    """Grafana's editor saves panels sorted by grid position; compared lists are compared in order, so a
    dashboard rendered in another order would read as edited after any save in Grafana."""
    for desired in _desired():
        for layer in panel_layers(desired.document):
            assert layer == sorted_by_grid(layer), desired.uid


def leaves(node: Any, path: Path = ()) -> Iterator[Path]:
    """The path of every value a person can change in Grafana's JSON model editor: each scalar, and
    each empty object or list (where a value can be added)."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list) and node:
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))
    else:
        yield path


def edited(value: Any) -> Any:
    """Another value of the same kind, as an edit in Grafana would leave it."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + " (edited)"
    if isinstance(value, list):
        return [*value, "added"]
    if isinstance(value, dict):
        return {**value, "added": 1}
    return "set"  # a null made a value


def with_edit(document: dict[str, Any], path: Path) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = edited(node[path[-1]])
    return changed


def shown_fields(desired: Desired) -> list[Path]:
    """Every leaf of the rendered dashboard except the fields the ignored-fields table lists."""
    ignored = {name for name in DASHBOARD_IGNORED_FIELDS if "[" not in name}
    return [path for path in leaves(desired.document) if path and path[0] not in ignored]


@pytest.mark.parametrize("uid", _uids())
def test_every_single_edit_in_grafana_is_a_conflict_naming_the_dashboard(uid: str) -> None:
    """A title, a query, a threshold, a panel's position, a variable's value...: whichever field is
    edited in Grafana, push must stop on that dashboard rather than overwrite the edit, and say what
    changed. The fields are found by walking the rendered dashboard, so none is left out."""
    desired = _desired_named(uid)
    fields = shown_fields(desired)
    names = {path[0] for path in fields}
    assert {"title", "panels", "templating"} <= names  # the walk reaches what a person sees
    for path in fields:
        grafana = pushed(desired)
        assert grafana.stored is not None
        grafana.stored = with_edit(grafana.stored, path)
        action = decide(grafana, desired, force=False)  # type: ignore[arg-type]
        assert action.op is Decision.CONFLICT, path
        assert (action.kind, action.uid, action.title) == ("dashboard", uid, desired.title), path
        # "edited in Grafana since the last push: ..." (or "not created by dashboards-as-code: ..." for
        # an edit of the managed tag itself), then what changed
        assert action.summary.split(": ", 1)[1] != "no change", (path, action.summary)


def test_a_variables_saved_value_set_in_grafana_is_a_conflict() -> None:
    """Saving a dashboard with another value selected writes `current`; on a variable rendered without
    one (Grafana then opens on the first value), the saved value is an added field and still an edit."""
    for desired in _desired():
        for index, _variable in enumerate(desired.document["templating"]["list"]):
            grafana = pushed(desired)
            assert grafana.stored is not None
            saved = {"selected": True, "text": ["acme", "globex"], "value": ["acme", "globex"]}
            grafana.stored["templating"]["list"][index]["current"] = saved
            action = decide(grafana, desired, force=False)  # type: ignore[arg-type]
            assert action.op is Decision.CONFLICT, (desired.uid, index)
            assert "dashboard fields changed: templating" in action.summary


@pytest.mark.parametrize("uid", _uids())
def test_every_single_change_in_the_definitions_is_an_update(uid: str) -> None:
    """The other direction: Grafana holds our last push untouched (in its own key order, with its ids)
    and one field changed in the code. That is ours to write (an update), never "unchanged" and never
    a conflict: the hash our push recorded must match the content whatever order Grafana keeps it in."""
    desired = _desired_named(uid)
    rng = random.Random(uid)
    for path in shown_fields(desired)[:: max(1, len(shown_fields(desired)) // 200)]:
        grafana = pushed(desired)
        assert grafana.stored is not None
        grafana.stored = grafana_resave(grafana.stored, rng, indent=2)
        changed = Desired(
            desired.kind,
            desired.uid,
            desired.title,
            with_edit(desired.document, path),
            desired.owner,
            folder_uid=desired.folder_uid,
        )
        action = decide(grafana, changed, force=False)  # type: ignore[arg-type]
        assert action.op is Decision.UPDATE, (path, action.summary)
        assert action.summary != "no change", path
