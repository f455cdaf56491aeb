from engine.lint.checks.panel_ids import CHECK
from tests.lint.builders import board, check, context, document, panel


def test_auto_numbered_panels_pass() -> None:
    assert check(CHECK, context(board(panel("a"), panel("b")))) == []


def test_duplicate_panel_id_and_ref_id() -> None:
    definition = board(panel("First"), panel("Second"))
    lint = context(definition)
    panels = document(lint, definition)["panels"]
    panels[2]["id"] = panels[1]["id"]
    panels[2]["targets"].append(dict(panels[2]["targets"][0]))
    messages = [f.message for f in check(CHECK, lint)]
    assert f"id {panels[1]['id']} is also the id of panel 'First'" in messages
    assert "refId 'A' is empty or used by several queries" in messages
