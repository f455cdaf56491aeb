from dashboards_as_code.lint.checks.panel_docs import CHECK
from tests.lint.builders import board, check, context, document, panel


def test_described_panels_with_units_pass() -> None:
    assert check(CHECK, context(board(panel("a")))) == []


def test_missing_description_and_unit() -> None:
    definition = board(panel("Bare"))
    lint = context(definition)
    bare = document(lint, definition)["panels"][1]
    bare["description"] = " "
    del bare["fieldConfig"]["defaults"]["unit"]
    result = check(CHECK, lint)
    assert [(f.location.panel, f.message) for f in result] == [
        ("Bare", "has no description"),
        ("Bare", "has no unit (fieldConfig.defaults.unit)"),
    ]
