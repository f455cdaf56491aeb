import pytest

from dashboards_as_code.defaults import GRAFANA_INTERVAL_VARIABLES
from dashboards_as_code.lint.checks.query_metrics import CHECK
from dashboards_as_code.queries import PromQL
from tests.lint.builders import board, findings, panel


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
