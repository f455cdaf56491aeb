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


def test_ids_zero_and_one_are_ids_and_only_a_missing_or_null_id_is_missing() -> None:
    """Grafana takes any distinct integer as a panel id, 0 included (a hand-edited or imported JSON
    model may start there): ids 0, 1 and 2 are no finding. "has no id" is for a panel whose `id`
    is absent or null, not for one whose id is merely falsy."""
    definition = board(panel("First"), panel("Second"))
    lint = context(definition)
    panels = document(lint, definition)["panels"]
    for number, each in enumerate(panels):
        each["id"] = number
    assert [p["id"] for p in panels] == [0, 1, 2]
    assert [(f.location.panel, f.message) for f in check(CHECK, lint)] == []
    panels[1]["id"] = None
    del panels[2]["id"]
    assert sorted((f.location.panel, f.message) for f in check(CHECK, lint)) == [
        ("First", "has no id"),
        ("Second", "has no id"),
    ]
