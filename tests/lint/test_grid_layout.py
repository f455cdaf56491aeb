import grafanalib.core as g

from engine.lint.checks.grid_layout import CHECK
from tests.lint.builders import board, findings, panel


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
