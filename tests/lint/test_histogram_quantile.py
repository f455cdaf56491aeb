import pytest

from dashboards_as_code.lint.checks.histogram_quantile import CHECK
from tests.lint.builders import board, findings, panel, raw

BUCKET = "traces_span_metrics_duration_seconds_bucket"


def test_contract_queries_pass(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(CHECK, overview) == []


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        (f"histogram_quantile(0.9, rate({BUCKET}[5m]))", "its second argument is not a sum"),
        (f"histogram_quantile(0.9, sum by (http_route) (rate({BUCKET}[5m])))", "does not keep `le`"),
        (f"histogram_quantile(0.9, sum without (le) (rate({BUCKET}[5m])))", "does not keep `le`"),
        (f"histogram_quantile(0.9, sum by (le) ({BUCKET}))", "not over rate()"),
        (
            "histogram_quantile(0.9, sum by (le) (rate(traces_span_metrics_duration_seconds_count[5m])))",
            "_bucket",
        ),
    ],
)
def test_wrong_shapes(expr: str, problem: str) -> None:
    (finding,) = findings(CHECK, board(panel("Latency", expr=raw(expr))))
    assert finding.location.panel == "Latency"
    assert problem in finding.message


def test_without_other_labels_keeps_le() -> None:
    expr = raw(f"histogram_quantile(0.9, sum without (instance) (rate({BUCKET}[5m])))")
    assert findings(CHECK, board(panel("Latency", expr=expr))) == []


def test_a_quantile_over_increase_is_fine() -> None:
    """increase() over the window is rate() times its length: the quantile of the same buckets."""
    expr = raw(f"histogram_quantile(0.9, sum by (le) (increase({BUCKET}[1h])))")
    assert findings(CHECK, board(panel("Latency", expr=expr))) == []


RECORDED = "le:traces_span_metrics_duration_seconds_bucket:rate5m"
"""A recorded bucket rate (the project's rules record it per `le`): a sum of it needs no rate()."""


def test_a_raw_bucket_beside_a_recorded_rate_is_still_read_without_rate() -> None:
    """Only a sum made of recorded bucket rates alone is exempt from rate(): one that also reads the raw
    `_bucket` counter adds its count since the process started to the rates, and the quantile is wrong."""
    assert (
        findings(
            CHECK, board(panel("Recorded", expr=raw(f"histogram_quantile(0.9, sum by (le) ({RECORDED}))")))
        )
        == []
    )
    mixed = raw(f"histogram_quantile(0.9, sum by (le) ({RECORDED} + {BUCKET}))")
    (finding,) = findings(CHECK, board(panel("Mixed", expr=mixed)))
    assert finding.location.panel == "Mixed" and "the sum is not over rate()/increase()" in finding.message
