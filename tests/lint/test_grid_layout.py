import grafanalib.core as g

from dashboards_as_code.lint.checks.grid_layout import CHECK
from tests.lint.builders import board, check, context, document, findings, panel


def test_packed_layout_passes() -> None:
    assert findings(CHECK, board(panel("a"), panel("b"), panel("c"))) == []


def test_overlap_names_both_panels() -> None:
    definition = board(
        panel("Left", grid=g.GridPos(h=8, w=12, x=0, y=1)),
        panel("Right", grid=g.GridPos(h=8, w=12, x=6, y=4)),
    )
    (finding,) = findings(CHECK, definition)
    assert finding.check == "grid-layout"
    assert finding.location.panel == "Right"
    assert "overlaps panel 'Left'" in finding.message


def test_panel_past_column_24() -> None:
    (finding,) = findings(CHECK, board(panel("Wide", grid=g.GridPos(h=8, w=12, x=16, y=1))))
    assert finding.location.panel == "Wide"
    assert "leaves the 24-column grid" in finding.message


def test_touching_panels_do_not_overlap() -> None:
    definition = board(
        panel("Left", grid=g.GridPos(h=8, w=12, x=0, y=1)),
        panel("Right", grid=g.GridPos(h=8, w=12, x=12, y=1)),
        panel("Below", grid=g.GridPos(h=8, w=24, x=0, y=9)),
    )
    assert findings(CHECK, definition) == []


def _collapsed(*held: dict[str, object], below: dict[str, object] | None = None) -> list[dict[str, object]]:
    """A dashboard's panels: a collapsed row at the top holding `held`, and `below` after it."""
    row = {"type": "row", "title": "Details", "collapsed": True, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}}
    return [{**row, "panels": list(held)}, *([below] if below else [])]


def _grid_findings(panels: list[dict[str, object]]) -> list[str]:
    definition = board(panel("a"))
    lint = context(definition)
    document(lint, definition)["panels"] = panels
    return [f"{f.location.panel}: {f.message}" for f in check(CHECK, lint)]


def _box(title: str, x: int, y: int, w: int = 12, h: int = 8) -> dict[str, object]:
    return {"type": "timeseries", "title": title, "gridPos": {"h": h, "w": w, "x": x, "y": y}}


def test_touching_panels_do_not_overlap_in_either_listing_order() -> None:
    """A panel that starts where another ends (below it, or to its right) only touches it: Grafana
    keeps both where they were put, so no finding, whichever of the two the JSON lists first (a
    hand-edited model need not list panels top to bottom). Each pair is checked in both orders,
    and one row lower (one cell shared) is an overlap in both orders."""
    pairs = {
        "stacked": (_box("Above", 0, 0), _box("Below", 0, 8)),
        "side by side": (_box("Left", 0, 0), _box("Right", 12, 0)),
    }
    for name, (first, second) in pairs.items():
        assert _grid_findings([first, second]) == [], name
        assert _grid_findings([second, first]) == [], f"{name}, listed the other way round"
    lower = _box("Lower", 0, 7)
    assert len(_grid_findings([_box("Above", 0, 0), lower])) == 1
    assert len(_grid_findings([lower, _box("Above", 0, 0)])) == 1


def test_two_panels_of_a_collapsed_row_that_overlap_are_found() -> None:
    """They overlap once the row opens: a walk of the top level alone never saw them."""
    found = _grid_findings(_collapsed(_box("Left", 0, 1), _box("Right", 6, 4)))
    assert found == ["Right: overlaps panel 'Left' (gridPos 6,4 12x8)"]


def test_a_collapsed_rows_panel_past_column_24_is_found() -> None:
    assert _grid_findings(_collapsed(_box("Wide", 16, 1))) == [
        "Wide: gridPos x=16 w=12 y=1 h=8 leaves the 24-column grid"
    ]


def test_a_collapsed_rows_panels_share_no_grid_with_the_panels_below_the_row() -> None:
    """Below a collapsed row, the next panel sits at y=1, where the row's panels will be once it opens
    (Grafana then moves it down): not an overlap."""
    assert _grid_findings(_collapsed(_box("Held", 0, 1), below=_box("Below", 0, 1))) == []


def test_a_panel_of_no_height_leaves_the_grid() -> None:
    """Grafana's grid counts whole rows of at least one: a panel of height 0 takes no room and cannot
    be seen (nor grabbed to resize), as a panel of width 0 cannot."""
    (finding,) = findings(CHECK, board(panel("Flat", grid=g.GridPos(h=0, w=12, x=0, y=1))))
    assert finding.location.panel == "Flat"
    assert "gridPos x=0 w=12 y=1 h=0 leaves the 24-column grid" in finding.message
