import pytest

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


def _without_unit(kind: str) -> list[tuple[str | None, str]]:
    definition = board(panel("Notes"))
    lint = context(definition)
    shown = document(lint, definition)["panels"][1]
    shown["type"] = kind
    del shown["fieldConfig"]["defaults"]["unit"]
    return [(f.location.panel, f.message) for f in check(CHECK, lint)]


@pytest.mark.parametrize("kind", ["text", "logs", "news", "dashlist"])
def test_a_panel_that_shows_no_number_needs_no_unit(kind: str) -> None:
    """Written out, not read from the check: notes and runbook links (text), log lines, a feed and a
    list of dashboards have no value a unit could format, and a dashboard holding one must build."""
    assert _without_unit(kind) == []


@pytest.mark.parametrize("kind", ["timeseries", "stat", "gauge", "bargauge"])
def test_a_panel_that_shows_numbers_needs_a_unit(kind: str) -> None:
    assert _without_unit(kind) == [("Notes", "has no unit (fieldConfig.defaults.unit)")]
