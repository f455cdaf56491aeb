import copy

from dashboards_as_code.lint.checks.panel_titles import CHECK
from tests.lint.builders import board, check, context, document, findings, panel


def test_distinct_titles_pass(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(CHECK, overview) == []


def test_two_panels_with_one_title() -> None:
    (finding,) = findings(CHECK, board(panel("Errors"), panel("Latency"), panel("Errors")))
    assert finding.location.panel == "Errors"
    assert finding.check == "panel-titles" and "also the title of another panel" in finding.message


def test_the_same_title_on_two_dashboards_is_fine() -> None:
    assert findings(CHECK, board(panel("Errors"), uid="one"), board(panel("Errors"), uid="two")) == []


def test_a_panel_inside_a_collapsed_row_shares_the_title_space() -> None:
    """A collapsed row keeps its panels in its own `panels`; expanded, they sit beside the others, so a
    title there that repeats one outside is just as ambiguous."""
    definition = board(panel("Errors"), panel("Latency"))
    lint = context(definition)
    panels = document(lint, definition)["panels"]
    row = next(p for p in panels if p["type"] == "row")
    inner = copy.deepcopy(next(p for p in panels if p.get("title") == "Errors"))
    row.update(collapsed=True, panels=[inner])
    (finding,) = check(CHECK, lint)
    assert finding.location.panel == "Errors" and "also the title of another panel" in finding.message


def test_a_row_may_share_its_title_with_a_panel() -> None:
    """Rows are headers, not panels: no alert links to one, so `Errors` over an `Errors` graph is fine."""
    definition = board(panel("Errors"))
    lint = context(definition)
    row = next(p for p in document(lint, definition)["panels"] if p["type"] == "row")
    row["title"] = "Errors"
    assert check(CHECK, lint) == []
