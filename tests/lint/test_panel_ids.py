from machinery.lint.rules.panel_ids import RULE
from tests.lint.builders import board, check, context, panel


def test_auto_numbered_panels_pass() -> None:
    assert check(RULE, context(board(panel("a"), panel("b")))) == []


def test_duplicate_panel_id_and_ref_id() -> None:
    definition = board(panel("First"), panel("Second"))
    lint = context(definition)
    panels = lint.document(definition)["panels"]
    panels[2]["id"] = panels[1]["id"]
    panels[2]["targets"].append(dict(panels[2]["targets"][0]))
    messages = [f.message for f in check(RULE, lint)]
    assert f"id {panels[1]['id']} is also the id of panel 'First'" in messages
    assert "refId 'A' is empty or used by several queries" in messages
