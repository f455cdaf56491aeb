import grafanalib.core as g

from dashboards_as_code.lint.checks.grid_integers import CHECK
from tests.lint.builders import board, check, context, document, panel


def test_generated_layout_is_whole_numbers(overview) -> None:  # type: ignore[no-untyped-def]
    assert check(CHECK, context(overview)) == []


def test_a_fractional_or_text_grid_value_is_caught() -> None:
    definition = board(panel("Half", grid=g.GridPos(h=8, w=12, x=0, y=1)), panel("Text"))
    lint = context(definition)
    half, text = (p for p in document(lint, definition)["panels"] if p["type"] != "row")
    half["gridPos"]["w"] = 4.5
    text["gridPos"]["x"] = "12"
    messages = {(f.location.panel, f.message) for f in check(CHECK, lint)}
    assert messages == {
        ("Half", "gridPos w=4.5 is not a whole number"),
        ("Text", "gridPos x='12' is not a whole number"),
    }


def test_a_boolean_grid_value_is_not_a_whole_number() -> None:
    """In Python `True` is an int, in JSON it is not: Grafana gets `"w": true`, not a width of 1."""
    definition = board(panel("Flag"))
    lint = context(definition)
    flag = next(p for p in document(lint, definition)["panels"] if p["type"] != "row")
    flag["gridPos"]["h"] = True
    messages = [f.message for f in check(CHECK, lint)]
    assert messages == ["gridPos h=True is not a whole number"]
