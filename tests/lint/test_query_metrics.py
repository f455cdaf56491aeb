import pytest

from dashboards_as_code.defaults import GRAFANA_INTERVAL_VARIABLES
from dashboards_as_code.lint.checks.query_metrics import CHECK
from dashboards_as_code.queries import PromQL
from tests.lint.builders import board, check, context, document, findings, panel


def test_contract_queries_pass() -> None:
    assert findings(CHECK, board(panel("a"))) == []


def test_metric_outside_the_contract() -> None:
    expr = PromQL('sum(rate(http_requests_total{job="x"}[$__rate_interval]))', ())
    (finding,) = findings(CHECK, board(panel("Legacy", expr=expr)))
    assert finding.location.panel == "Legacy"
    assert (
        "reads 'http_requests_total', which neither the telemetry contract nor a recording rule"
        in finding.message
    )


def test_unparsable_query() -> None:
    (finding,) = findings(CHECK, board(panel("Broken", expr=PromQL("sum(rate(x[5m])) by (", ()))))
    assert "does not parse" in finding.message


@pytest.mark.parametrize("builtin", GRAFANA_INTERVAL_VARIABLES)
def test_a_braced_built_in_interval_parses_like_the_plain_one(builtin: str) -> None:
    """`[${__rate_interval}]` is as valid in Grafana as `[$__rate_interval]`: the check must fill in
    both forms before parsing, or a working panel is refused as a query that does not parse."""
    braced = "${" + builtin[1:] + "}"
    expr = PromQL(f"sum(rate(tiktickets_socketio_connections[{braced}]))", ())
    assert findings(CHECK, board(panel("Braced", expr=expr))) == []


MIXED = {"type": "datasource", "uid": "-- Mixed --"}
"""What Grafana saves as the datasource of a panel whose queries each name their own."""


@pytest.mark.parametrize("panel_datasource", [MIXED, None], ids=["mixed-panel", "panel-without-datasource"])
def test_a_prometheus_query_is_checked_by_its_own_datasource_not_its_panels(
    panel_datasource: dict[str, str] | None,
) -> None:
    """Grafana sends each query to the datasource the query names: in a `-- Mixed --` panel, or a
    panel that names none, a query on Prometheus is still a PromQL query that Prometheus runs, and an
    unknown metric in it still shows no data. The check must find it there as in any other panel."""
    expr = PromQL('sum(rate(http_requests_total{job="x"}[$__rate_interval]))', ())
    definition = board(panel("Mixed", expr=expr))
    lint = context(definition)
    (shown,) = [p for p in document(lint, definition)["panels"] if p.get("title") == "Mixed"]
    if panel_datasource is None:
        del shown["datasource"]
    else:
        shown["datasource"] = panel_datasource
    assert [t["datasource"]["type"] for t in shown["targets"]] == ["prometheus"]
    found = check(CHECK, lint)
    assert [f.location.panel for f in found] == ["Mixed"], "the query is checked"
    assert "reads 'http_requests_total', which neither the telemetry contract" in found[0].message
