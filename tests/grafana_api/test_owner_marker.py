"""The owner marker: written on push, stripped before comparing, read by prune; and prune's decision table."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dashboards_as_code import defaults
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.types import ProjectConfig
from dashboards_as_code.grafana_api.plan import Decision, prune_decision
from dashboards_as_code.kinds.base import Live
from dashboards_as_code.kinds.comparable import (
    DASHBOARD_IGNORED_FIELDS,
    DATASOURCE_IGNORED_FIELDS,
    DATASOURCE_OWNER_MARKER,
    OWNER_MARKER_PREFIX,
    PUSH_MARKER_PREFIX,
    comparable_dashboard,
    content_sha,
    mark_dashboard,
    mark_datasource,
    split_dashboard,
    split_datasource,
)
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from tests.conftest import REPO

BOARD: dict[str, Any] = {"uid": "x", "title": "X", "tags": [defaults.MANAGED_TAG], "panels": []}


def test_a_pushed_dashboard_carries_its_owner_and_compares_as_the_definition() -> None:
    pushed = mark_dashboard(BOARD, "payments")
    assert "dac-project:payments" in pushed["tags"]
    document, markers = split_dashboard(pushed)
    assert document == comparable_dashboard(BOARD) and markers.owner == "payments"
    assert markers.sha == content_sha(BOARD)  # the owner never enters the hash


@pytest.mark.parametrize(
    ("owner_tags", "owner"),
    [
        ([], None),
        (["dac-project:"], None),
        (["dac-project:a", "dac-project:b"], None),
        (["dac-project:a", "dac-project:a"], "a"),
    ],
    ids=["none", "empty", "two-owners", "repeated"],
)
def test_an_owner_marker_that_names_no_single_project_is_unknown(
    owner_tags: list[str], owner: str | None
) -> None:
    _, markers = split_dashboard({**BOARD, "tags": [*BOARD["tags"], *owner_tags]})
    assert markers.owner == owner


def test_a_pushed_datasource_carries_its_owner_in_json_data_and_compares_without_it() -> None:
    source = {"uid": "p", "name": "P", "type": "prometheus", "jsonData": {"timeInterval": "15s"}}
    pushed = mark_datasource(source, "payments")
    assert pushed["jsonData"][DATASOURCE_OWNER_MARKER] == "payments"
    document, markers = split_datasource(pushed)
    assert document == source and markers == markers.__class__(sha=content_sha(source), owner="payments")


def test_the_markers_are_documented_among_the_ignored_fields() -> None:
    assert f"tags[{OWNER_MARKER_PREFIX}*]" in DASHBOARD_IGNORED_FIELDS
    assert f"jsonData.{DATASOURCE_OWNER_MARKER}" in DATASOURCE_IGNORED_FIELDS


def test_no_marker_enters_a_generated_file() -> None:
    for output in render_outputs(build_documents(load_project(REPO))):
        text = output.content.decode(errors="replace")
        assert OWNER_MARKER_PREFIX not in text and PUSH_MARKER_PREFIX not in text, output.path
        assert DATASOURCE_OWNER_MARKER not in text, output.path


def test_a_project_name_leaves_room_for_the_owner_tag_within_grafanas_limit() -> None:
    longest = "p" * defaults.PROJECT_NAME_MAX_LENGTH
    assert len(f"{OWNER_MARKER_PREFIX}{longest}") == defaults.GRAFANA_TAG_MAX_LENGTH
    ProjectConfig(name=longest, contract_title="t")
    with pytest.raises(ValidationError, match="owner tag"):
        ProjectConfig(name=longest + "p", contract_title="t")


def _live(**fields: Any) -> Live:
    document = comparable_dashboard(BOARD)
    values: dict[str, Any] = {"pushed_sha": content_sha(document), "owner": "tiktickets"} | fields
    return Live(document=document, raw=BOARD, **values)


@pytest.mark.parametrize(
    ("live", "force", "decision", "says"),
    [
        (None, False, Decision.UNCHANGED, "already deleted"),
        (_live(provisioned=True), True, Decision.PROVISIONED, "provisioning files"),
        (_live(managed=False), True, Decision.LEAVE, "not managed"),
        (_live(owner=None), True, Decision.LEAVE, "owner unknown"),
        (_live(owner="payments"), True, Decision.LEAVE, "owned by project 'payments'"),
        (_live(owner="payments", pushed_sha=None), True, Decision.LEAVE, "owned by project 'payments'"),
        (_live(pushed_sha=None), False, Decision.CONFLICT, "edited in Grafana since the last push"),
        (_live(pushed_sha="0" * 16), False, Decision.CONFLICT, "not deleted"),
        (_live(pushed_sha="0" * 16), True, Decision.DELETE, "edited in Grafana"),
        (
            _live(),
            False,
            Decision.DELETE,
            "no longer defined in dashboards/; owned by this project ('tiktickets')",
        ),
    ],
    ids=[
        "gone",
        "provisioned",
        "untagged",
        "unknown-owner",
        "other-project",
        "other-project-edited",
        "ours-no-hash",
        "ours-edited",
        "ours-edited-forced",
        "ours",
    ],
)
def test_prune_deletes_only_this_projects_unedited_objects(
    live: Live | None, force: bool, decision: Decision, says: str
) -> None:
    op, summary = prune_decision(live, "dashboard", "tiktickets", force=force)
    assert (op, says in summary) == (decision, True), summary
