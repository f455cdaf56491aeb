"""The `cardinality-overflow` cause against a small fake Prometheus: what it asks (the subquery's step),
and what its detail promises (the earliest first sample, a span as a person reads it, at most three
series shown and how many more, the contract's limit written with its thousands separator)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from dashboards_as_code.doctor.causes import CauseCode
from dashboards_as_code.doctor.overflow import MAX_STEPS, HiddenTenants, Limit, _span, selects_tenants
from dashboards_as_code.doctor.prometheus_api import Sample
from dashboards_as_code.queries import Matcher

NOW = 1_800_000_000.0
ACME = Matcher("tenant_id", "=", "acme")


@dataclass
class FakePrometheus:
    """`count()` answers from `counts` (0 for any other selector); `first_sample_times` from `overflow`."""

    counts: dict[str, int]
    overflow: list[Sample]
    scrape_interval: float = 15.0
    now: float = NOW
    asked: list[tuple[str, str, str]] = field(default_factory=list)

    def count(self, selector: str) -> int:
        return self.counts.get(selector, 0)

    def first_sample_times(self, selector: str, lookback: str, step: str) -> list[Sample]:
        self.asked.append((selector, lookback, step))
        return self.overflow


def _folded(overflow: list[Sample], scrape_interval: float = 15.0) -> FakePrometheus:
    """acme is known (a series of another metric has it), `x` has data, but none of acme's."""
    return FakePrometheus({"x": 5, '{tenant_id="acme"}': 2}, overflow, scrape_interval)


def _series(count: int, first: float = NOW - 600) -> list[Sample]:
    return [Sample({"route": f"/r{i}", "otel_metric_overflow": "true"}, first + i) for i in range(count)]


def _detail(api: FakePrometheus, range_s: float = 3600, limits: dict[str, Limit] | None = None) -> str:
    hidden = HiddenTenants(api, limits or {}, range_s)  # type: ignore[arg-type]
    (cause,) = hidden.causes("x", (ACME,), lambda name: [name])
    assert cause.code is CauseCode.CARDINALITY_OVERFLOW
    return cause.detail


@pytest.mark.parametrize(
    ("seconds", "read"),
    [(40, "40 s"), (59.6, "1 min"), (60, "1 min"), (723, "12 min 3 s"), (3600, "1 h"), (5400, "90 min"),
     (21600, "6 h")],
)  # fmt: skip
def test_a_span_reads_as_a_person_says_it(seconds: float, read: str) -> None:
    assert _span(seconds) == read


def test_three_overflow_series_are_shown_and_the_rest_counted() -> None:
    detail = _detail(_folded(_series(5)))
    assert detail.count('otel_metric_overflow="true"') == 3
    assert "; and 2 more" in detail


def test_exactly_three_overflow_series_are_all_shown_with_no_more() -> None:
    detail = _detail(_folded(_series(3)))
    assert detail.count('otel_metric_overflow="true"') == 3
    assert "more" not in detail


def test_an_overflow_series_is_shown_with_its_labels_sorted() -> None:
    detail = _detail(_folded([Sample({"z": "1", "a": "2", "otel_metric_overflow": "true"}, NOW - 60)]))
    assert '{a="2", otel_metric_overflow="true", z="1"}' in detail


def test_since_is_the_earliest_first_sample_of_the_overflow_series() -> None:
    series = [Sample({"i": "0"}, NOW - 60), Sample({"i": "1"}, NOW - 900), Sample({"i": "2"}, NOW - 300)]
    detail = _detail(_folded(series))
    assert "(15 min ago;" in detail
    assert "since 2027-01-15 07:45:00 UTC" in detail  # NOW - 900 s, to the second


def test_a_first_sample_ahead_of_the_clock_is_zero_seconds_ago_not_negative() -> None:
    detail = _detail(_folded([Sample({"i": "0"}, NOW + 30)]))
    assert "(0 s ago;" in detail


def test_the_contracts_limit_is_written_with_its_thousands_separator() -> None:
    limit = Limit(2000, "the tickets service's OTel SDK", "definitions/contract.py, page Metrics")
    detail = _detail(_folded(_series(1)), limits={"x": limit})
    assert "to the contract's 2,000 attribute sets (definitions/contract.py, page Metrics)" in detail


def test_the_first_sample_subquery_steps_by_the_scrape_interval_on_a_short_range() -> None:
    api = _folded(_series(1), scrape_interval=30)
    _detail(api, range_s=3600)
    assert api.asked == [('x{otel_metric_overflow="true"}', "3600s", "30s")]


def test_the_first_sample_subquery_keeps_to_prometheus_point_limit_on_a_long_range() -> None:
    api = _folded(_series(1))
    range_s = 30 * 86400
    _detail(api, range_s=range_s)
    ((_, lookback, step),) = api.asked
    assert lookback == "2592000s"
    assert step == f"{round(range_s / MAX_STEPS)}s" == "236s"
    assert range_s / int(re.sub(r"s$", "", step)) <= 11_000


def test_a_selection_that_finds_one_series_is_not_an_overflow() -> None:
    api = FakePrometheus({'x{tenant_id="acme"}': 1, "x": 5, '{tenant_id="acme"}': 2}, _series(1))
    hidden = HiddenTenants(api, {}, 3600)  # type: ignore[arg-type]
    assert hidden.causes("x", (ACME,), lambda name: [name]) == []


def test_a_tenant_regex_python_cannot_read_is_taken_to_name_tenants() -> None:
    """RE2 syntax Python's `re` refuses (`\\pL`, a Unicode class) is assumed to name tenants."""
    assert selects_tenants(Matcher("tenant_id", "=~", r"\pL+"))
