"""The one-line change summaries `diff` and `push --dry-run` print, from their docstrings: each kind of
change named once with the panels it touched (by title), panels matched by id (so a rename is a rename,
not a removal and an addition), panels inside a collapsed row counted like the others, the dashboard's
own fields by name, a folder move with the General folder named, and "no change" for none."""

from __future__ import annotations

from typing import Any

from dashboards_as_code.kinds.changes import summarise_dashboard, summarise_fields, unified_diff


def panel(id_: int | None, title: str, expr: str = "up", **settings: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"title": title, "type": "timeseries", "targets": [{"expr": expr}], **settings}
    if id_ is not None:
        found["id"] = id_
    return found


def dashboard(*panels: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"uid": "d", "title": "D", "panels": list(panels), **fields}


def test_identical_dashboards_in_one_folder_are_no_change() -> None:
    both = dashboard(panel(1, "A"), panel(2, "B"))
    assert summarise_dashboard(both, both, "f", "f") == "no change"


def test_added_and_removed_panels_are_counted_and_named() -> None:
    live = dashboard(panel(1, "Kept"), panel(2, "Gone"))
    desired = dashboard(panel(1, "Kept"), panel(3, "New one"), panel(4, "New two"))
    assert summarise_dashboard(live, desired) == (
        "2 panel(s) added ('New one', 'New two'); 1 panel(s) removed ('Gone')"
    )


def test_a_retitled_panel_is_renamed_from_the_old_title_to_the_new() -> None:
    """Panels are matched by id: a new title on the same id is a rename, old title first."""
    summary = summarise_dashboard(dashboard(panel(7, "Old title")), dashboard(panel(7, "New title")))
    assert summary == "renamed 'Old title' to 'New title'"


def test_a_panel_without_an_id_is_matched_by_its_title() -> None:
    live = dashboard(panel(None, "Untitled id", expr="up"))
    desired = dashboard(panel(None, "Untitled id", expr="down"))
    assert summarise_dashboard(live, desired) == "queries changed in 'Untitled id'"


def test_the_panels_of_a_collapsed_row_are_compared_like_the_others() -> None:
    """A collapsed row holds its panels inside it: an edit there is named by that panel's title."""
    row_live = {"id": 10, "type": "row", "title": "Row", "collapsed": True, "panels": [panel(11, "Inner")]}
    row_desired = {**row_live, "panels": [panel(11, "Inner", expr="sum(up)"), panel(12, "Inner new")]}
    summary = summarise_dashboard(dashboard(row_live), dashboard(row_desired))
    assert "1 panel(s) added ('Inner new')" in summary
    assert "queries changed in 'Inner'" in summary


def test_dashboard_fields_are_named_sorted_and_panels_are_not_one_of_them() -> None:
    live = dashboard(panel(1, "A"), title="Old", refresh="1m", tags=["x"])
    desired = dashboard(
        panel(1, "A", expr="rate(x[5m])"), title="New", refresh="30s", tags=["x"], editable=False
    )
    assert summarise_dashboard(live, desired) == (
        "queries changed in 'A'; dashboard fields changed: editable, refresh, title"
    )


def test_a_move_names_both_folders_and_the_general_folder_for_none() -> None:
    same = dashboard(panel(1, "A"))
    assert (
        summarise_dashboard(same, same, None, "tiktickets") == "moved from folder 'General' to 'tiktickets'"
    )
    assert (
        summarise_dashboard(same, same, "tiktickets", None) == "moved from folder 'tiktickets' to 'General'"
    )
    assert summarise_dashboard(same, same, "a", "b") == "moved from folder 'a' to 'b'"


def test_the_parts_come_in_one_order_joined_by_semicolons() -> None:
    live = dashboard(panel(1, "A"), panel(2, "B"), panel(3, "C"), refresh="1m")
    desired = dashboard(
        panel(1, "A2"), panel(3, "C", expr="other"), panel(2, "B", unit="s"), panel(4, "D"), refresh="5m"
    )
    assert summarise_dashboard(live, desired, "x", "y") == (
        "1 panel(s) added ('D'); renamed 'A' to 'A2'; queries changed in 'C'; settings changed in 'B'; "
        "dashboard fields changed: refresh; moved from folder 'x' to 'y'"
    )


def test_a_datasource_summary_names_the_changed_fields_sorted() -> None:
    """A field only one side has is a change too: added in the code, or left in Grafana."""
    live = {"uid": "p", "name": "Prometheus", "url": "http://a", "jsonData": {"x": 1}, "access": "direct"}
    desired = {"uid": "p", "name": "Prometheus", "url": "http://b", "jsonData": {"x": 2}, "isDefault": True}
    assert summarise_fields(live, desired) == "fields changed: access, isDefault, jsonData, url"
    assert summarise_fields(live, dict(live)) == "no change"


def test_the_unified_diff_goes_from_grafana_to_the_code_with_sorted_keys() -> None:
    """What a reviewer reads under the summary: Grafana's version as `---`, the code's as `+++`, each
    JSON object's keys sorted so that a key Grafana returns in another order is no change."""
    live = {"title": "Old", "uid": "d"}
    desired = {"uid": "d", "title": "New"}
    lines = unified_diff(live, desired, "dashboards/d.json").splitlines()
    assert lines[:2] == ["--- grafana/dashboards/d.json", "+++ code/dashboards/d.json"]
    assert [line for line in lines[2:] if line[:1] in "+-"] == ['-  "title": "Old",', '+  "title": "New",']


def test_the_diff_of_a_new_object_adds_every_line() -> None:
    lines = unified_diff(None, {"uid": "d"}, "dashboards/d.json").splitlines()
    assert [line for line in lines[2:] if line[:1] in "+-"] == ["+{", '+  "uid": "d"', "+}"]
