from dashboards_as_code.lint.checks.panel_queries import CHECK, PANELS_WITHOUT_QUERIES
from dashboards_as_code.panels.style import timeseries
from datasources import PROMETHEUS
from tests.lint.builders import board, check, context, document, findings, panel


def test_real_panels_all_have_queries(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(CHECK, overview) == []


def test_a_panel_built_without_targets() -> None:
    empty = timeseries("Empty", description="d", unit="short", datasource=PROMETHEUS.ref, targets=[])
    (finding,) = findings(CHECK, board(panel("Full"), empty))
    assert finding.check == "panel-queries" and finding.severity == "error"
    assert finding.location.panel == "Empty" and finding.location.dashboard == "test-board"
    assert "has no query (no targets)" in finding.message and "timeseries" in finding.message


def test_a_panel_nested_in_a_collapsed_row_is_checked() -> None:
    definition = board(panel("a"))
    lint = context(definition)
    nested = {"type": "stat", "title": "Hidden", "targets": []}
    document(lint, definition)["panels"].append(
        {"type": "row", "title": "More", "collapsed": True, "panels": [nested]}
    )
    (finding,) = check(CHECK, lint)
    assert finding.location.panel == "Hidden" and "stat panel" in finding.message


def test_panels_that_read_no_datasource_and_rows_are_exempt() -> None:
    definition = board(panel("a"))
    lint = context(definition)
    panels = document(lint, definition)["panels"]
    assert panels[0]["type"] == "row" and not panels[0].get("targets")
    panels += [{"type": kind, "title": kind} for kind in sorted(PANELS_WITHOUT_QUERIES)]
    panels.append({"type": "timeseries", "title": "Shared", "libraryPanel": {"uid": "lib"}})
    assert check(CHECK, lint) == []
    panels.append({"type": "logs", "title": "No targets key"})
    (finding,) = check(CHECK, lint)
    assert finding.location.panel == "No targets key"


def test_an_annotations_list_panel_reads_no_query() -> None:
    """Grafana's annotations list panel (`annolist`) lists the annotations its options select: it has
    no targets to run, so one without targets is as it should be, not "No data"."""
    definition = board(panel("a"))
    lint = context(definition)
    document(lint, definition)["panels"].append({"type": "annolist", "title": "Deploys"})
    assert check(CHECK, lint) == []
