from dashboards_as_code.lint.checks.panel_ids import CHECK
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


def test_a_duplicate_id_inside_a_collapsed_row_is_caught() -> None:
    """A collapsed row's panels live in its own `panels`, but their ids share the dashboard's space."""
    definition = board(panel("First"), panel("Second"))
    lint = context(definition)
    panels = document(lint, definition)["panels"]
    row = next(p for p in panels if p["type"] == "row")
    inner = {**panels[2], "title": "Folded"}
    panels.remove(panels[2])
    row.update(collapsed=True, panels=[inner])
    inner["id"] = panels[1]["id"]
    (finding,) = check(CHECK, lint)  # the row comes first: its panel is seen before "First"
    assert finding.message == f"id {panels[1]['id']} is also the id of panel 'Folded'"


def test_an_empty_ref_id_is_caught() -> None:
    """Grafana keys a panel's queries by refId: an empty one cannot be told apart or linked to."""
    definition = board(panel("Only"))
    lint = context(definition)
    only = next(p for p in document(lint, definition)["panels"] if p["type"] != "row")
    only["targets"][0]["refId"] = ""
    assert [f.message for f in check(CHECK, lint)] == ["refId '' is empty or used by several queries"]
