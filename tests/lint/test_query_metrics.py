from machinery.lint.rules.query_metrics import RULE
from machinery.queries import PromQL
from tests.lint.builders import board, findings, panel


def test_contract_queries_pass() -> None:
    assert findings(RULE, board(panel("a"))) == []


def test_metric_outside_the_contract() -> None:
    expr = PromQL('sum(rate(http_requests_total{job="x"}[$__rate_interval]))', ())
    (finding,) = findings(RULE, board(panel("Legacy", expr=expr)))
    assert finding.location.panel == "Legacy"
    assert (
        "reads 'http_requests_total', which neither the telemetry contract nor a recording rule"
        in finding.message
    )


def test_unparsable_query() -> None:
    (finding,) = findings(RULE, board(panel("Broken", expr=PromQL("sum(rate(x[5m])) by (", ()))))
    assert "does not parse" in finding.message
