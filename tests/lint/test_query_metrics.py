from engine.lint.checks.query_metrics import CHECK
from engine.queries import PromQL
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
