"""The claim readers of tests/stated.py read what a person reads and what Prometheus computes.

The alert-text and panel-text tests pass when a reader finds nothing: a reader that stopped seeing
`5 minutes` or `sum by (tenant_id)` would let every text bug through. These hold each reader to
hand-written texts and expressions whose answer is known (Prometheus' documented semantics).
"""

from __future__ import annotations

import pytest

from tests import stated


@pytest.mark.parametrize(
    ("text", "seconds", "before_ends_with"),
    [
        ("nothing sent for 5 minutes", [300.0], "for "),
        ("no data for 10m (absent)", [600.0], "for "),
        ("over the last 1h are failures", [3600.0], "last "),
        ("At the pace over the last hour", [3600.0], "last "),
        ("the SLO allows 0.50% over 30 days", [2592000.0], "over "),
        ("a dashboard's default range (6 h)", [21600.0], "("),
        ("Availability budget left (30 d)", [2592000.0], "("),
        ("without a matched route (404s, polling)", [], ""),
        ("100+ requests an hour", [3600.0], ""),
        ("at least 3, and more than 1%", [], ""),
    ],
)
def test_durations_in_prometheus_form_and_in_words(
    text: str, seconds: list[float], before_ends_with: str
) -> None:
    found = list(stated.stated_durations(text))
    assert [d.seconds for d in found] == seconds
    assert all(d.before.endswith(before_ends_with) for d in found)


def test_an_hour_after_a_count_is_a_rate_unit() -> None:
    text = "tenants with 100+ requests an hour"
    (match,) = stated.RATE_UNIT.finditer(text)
    (duration,) = stated.stated_durations(text)
    assert match.group(1) == "hour" and duration.end == match.end(1)


def test_thresholds_in_words() -> None:
    claims = dict(stated.stated_thresholds("at least 3, more than 1% of those with 100+ a day; half of it"))
    assert claims == {
        "at least 3": {(">=", 3.0)},
        "more than 1%": {(">", 0.01)},
        "100+": {(">=", 100.0)},
        "half": {(">", 0.5)},
    }
    (allows,) = stated.stated_thresholds("the SLO allows 0.50% over 30 days")
    assert allows == ("allows 0.50%", {(">", 0.005)})
    (less,) = stated.stated_thresholds("less than a dashboard's default range (6 h)")
    assert less[1] == {("<", 21600.0)}


def test_windows_through_recorded_series_and_not_grafanas_own() -> None:
    recorded = {"job:errors:rate1h": ["sum by (job) (rate(errors_total[1h]))"]}
    assert stated.windows("job:errors:rate1h > 0 and rate(x[5m]) > 0", recorded) == {3600.0, 300.0}
    assert stated.windows("rate(x[$__rate_interval]) - x offset $__range") == set()
    assert stated.windows("max_over_time(rate(x[1m])[30m:1m])") == {60.0, 1800.0}


def test_comparisons_keep_the_threshold_side_and_not_nested_comparisons() -> None:
    expr = "count(x * 3600 >= 100) >= 3 and on () count(y > (14.4 * 0.005)) > 0.01 * count(z)"
    assert stated.comparisons(expr) == {(">=", 100.0), (">=", 3.0), (">", 14.4), (">", 0.005), (">", 0.01)}
    assert 3600.0 in stated.literals(expr)
    assert stated.quantiles("histogram_quantile(0.99, sum by (le) (rate(b[5m])))") == {0.99}


CATALOG = {
    "calls_total": frozenset({"job", "instance", "tenant_id", "status_code"}),
    "tenant_id:calls:rate1h": frozenset({"tenant_id"}),
}


@pytest.mark.parametrize(
    ("expr", "labels"),
    [
        ("sum by (tenant_id) (rate(calls_total[5m]))", {"tenant_id"}),
        ("sum(rate(calls_total[5m]))", set()),
        ("sum without (instance) (rate(calls_total[5m]))", {"job", "tenant_id", "status_code"}),
        ("tenant_id:calls:rate1h * 3600 >= 100", {"tenant_id"}),
        ("topk(20, tenant_id:calls:rate1h)", {"tenant_id"}),
        ('label_replace(sum by (job) (calls_total), "metric", "$1", "job", "(.+)")', {"job", "metric"}),
        ("sum by (job) (calls_total) or sum by (job, instance) (calls_total)", {"job"}),
        (
            "max by (instance) (calls_total) > 0 unless on (instance) sum by (instance) (calls_total)",
            {"instance"},
        ),
        ('absent_over_time(calls_total{job="x"}[10m])', set()),
    ],
)
def test_the_labels_a_result_carries(expr: str, labels: set[str]) -> None:
    assert stated.result_labels(stated.parse(expr), CATALOG) == labels


def test_a_series_outside_the_catalog_may_carry_any_label() -> None:
    assert stated.result_labels(stated.parse('up{job="otel-collector"} == 0'), CATALOG) == stated.ANY
