import pytest

from dashboards_as_code.lint.checks.panel_title_text import CHECK
from dashboards_as_code.panels.style import Row, dashboard
from tests.lint.builders import FOLDER, board, check, context, document, findings, panel


def test_real_titles_pass(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(CHECK, overview) == []


@pytest.mark.parametrize(
    ("title", "escape"),
    [
        ("Errors\x00", "U+0000 (NULL, a control character)"),
        ("Error\nrate", "U+000A (LINE FEED, a control character)"),
        ("Error\trate", "U+0009 (TAB"),
        ("Error\x7f", "U+007F (DELETE"),
        ("Error\x85", "U+0085"),
        ("Error\u2028rate", "U+2028 (LINE SEPARATOR, a line break)"),
        ("Error \u202erate", "U+202E (RIGHT-TO-LEFT OVERRIDE, a bidirectional control"),
        ("Error \u2066rate", "U+2066 (LEFT-TO-RIGHT ISOLATE"),
        ("Error \u200frate", "U+200F (RIGHT-TO-LEFT MARK"),
        ("Error \u061crate", "U+061C (ARABIC LETTER MARK"),
    ],
)
def test_a_control_or_bidi_character_is_named_as_an_escape(title: str, escape: str) -> None:
    (finding,) = findings(CHECK, board(panel(title)))
    assert finding.check == "panel-title-text" and finding.location.dashboard == "test-board"
    assert escape in finding.message and finding.message.startswith("panel title ")
    bad = next(c for c in title if not (c.isprintable() and c not in "\u202e\u2066\u200f\u061c"))
    assert bad not in str(finding), "the character itself must never be printed"


def test_a_row_title_is_checked_too() -> None:
    definition = dashboard(
        uid="rows", title="Rows", folder=FOLDER, description="d", rows=[Row("Over\u202eview", [panel("a")])]
    )
    definition.source = "dashboards/rows.py"
    (finding,) = findings(CHECK, definition)
    assert finding.message.startswith("row title 'Over\\u202eview' contains U+202E")
    assert "dashboards/rows.py" in str(finding)


def test_a_title_in_a_collapsed_row_is_checked() -> None:
    definition = board(panel("a"))
    lint = context(definition)
    nested = {"type": "timeseries", "title": "Hidden\nline", "targets": [{"refId": "A"}]}
    document(lint, definition)["panels"].append(
        {"type": "row", "title": "More", "collapsed": True, "panels": [nested]}
    )
    (finding,) = check(CHECK, lint)
    assert "U+000A" in finding.message and finding.location.panel == "Hidden\nline"


def test_a_title_longer_than_1000_characters_is_cut_in_the_message() -> None:
    (finding,) = findings(CHECK, board(panel("x" * 10_000)))
    assert "is 10000 characters; a title holds at most 1000" in finding.message
    assert len(str(finding)) < 400
    assert findings(CHECK, board(panel("x" * 1000))) == []


def test_untitled_panels_and_rows_are_allowed() -> None:
    definition = board(panel("a"))
    lint = context(definition)
    for item in document(lint, definition)["panels"]:
        item["title"] = ""
    assert check(CHECK, lint) == []


def test_a_title_of_spaces_is_untitled_too() -> None:
    """Grafana shows a title of spaces as no title at all: the same hover header as an empty one."""
    definition = board(panel("a"))
    lint = context(definition)
    for item in document(lint, definition)["panels"]:
        item["title"] = "   "
    assert check(CHECK, lint) == []
