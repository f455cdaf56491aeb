from engine.lint.checks.panel_titles import CHECK
from tests.lint.builders import board, findings, panel


def test_distinct_titles_pass(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(CHECK, overview) == []


def test_two_panels_with_one_title() -> None:
    (finding,) = findings(CHECK, board(panel("Errors"), panel("Latency"), panel("Errors")))
    assert finding.location.panel == "Errors"
    assert finding.check == "panel-titles" and "also the title of another panel" in finding.message


def test_the_same_title_on_two_dashboards_is_fine() -> None:
    assert findings(CHECK, board(panel("Errors"), uid="one"), board(panel("Errors"), uid="two")) == []
