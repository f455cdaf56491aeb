"""The one walk of a dashboard's panels: collapsed rows' panels included, in the dashboard's order."""

from __future__ import annotations

from dashboards_as_code.dashboard_panels import every_panel, panel_layers

DOCUMENT = {
    "panels": [
        {"title": "top"},
        {"title": "row a", "type": "row", "collapsed": True, "panels": [{"title": "a1"}, {"title": "a2"}]},
        {"title": "row b", "type": "row", "collapsed": False, "panels": []},
        {"title": "after b"},
        {"title": "row c", "type": "row", "collapsed": True, "panels": [{"title": "c1"}]},
    ]
}


def test_every_panel_is_each_row_followed_by_what_it_holds() -> None:
    assert [p["title"] for p in every_panel(DOCUMENT)] == [
        "top", "row a", "a1", "a2", "row b", "after b", "row c", "c1",
    ]  # fmt: skip


def test_each_collapsed_row_is_a_grid_of_its_own() -> None:
    assert [[p["title"] for p in layer] for layer in panel_layers(DOCUMENT)] == [
        ["top", "row a", "row b", "after b", "row c"],
        ["a1", "a2"],
        ["c1"],
    ]


def test_a_dashboard_without_panels_or_with_junk_in_them_walks_nothing() -> None:
    assert list(every_panel({})) == [] and list(every_panel({"panels": None})) == []
    assert [p["title"] for p in every_panel({"panels": ["junk", {"title": "x", "panels": [3]}]})] == ["x"]
