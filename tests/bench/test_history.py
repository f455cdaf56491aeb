"""The 7 d history of bench/history.py: which series are counters, how often each has a sample, and
the Go writer (tools/gotools/cmd/tsdbfill) against the real Prometheus that serves its blocks.

The benchmark's 7 d figure is only as honest as the history: a writer that put the samples at the
wrong pace or spacing would make the Overview look faster or slower than a week of real data.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.history import SeriesSpec, fill, is_counter, sample_steps
from bench.overview_at_scale import Prometheus
from dashboards_as_code.definitions.prometheus_rule import RecordingRule, RuleGroup
from dashboards_as_code.external_tools import PROMETHEUS
from dashboards_as_code.queries import PromQL
from monitoring.tools import GO
from tests.tooling import require_tool


def test_raw_sums_and_histograms_are_counters_and_recorded_series_are_not() -> None:
    assert is_counter("tenant_span_metrics_calls_total")
    assert is_counter("traces_span_metrics_duration_seconds_bucket")
    assert not is_counter("tiktickets_whatsapp_sessions_active")
    assert not is_counter("le:traces_span_metrics_duration_seconds_bucket:rate5m")  # a rate, recorded


def test_raw_series_are_spaced_by_the_scrape_interval_and_recorded_ones_by_their_group(
    tmp_path: Path,
) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 30s\n  evaluation_interval: 15s\n")
    rule = RecordingRule(
        record="job:x:rate5m",
        expr=PromQL("sum by (job) (rate(x_total[5m]))", (), labels=frozenset({"job"})),
        grafana_unit="reqps",
    )
    groups = [RuleGroup(name="g", interval="1m", recording=(rule,))]
    assert sample_steps(config, groups) == (30, {"job:x:rate5m": 60})


DAY = 86_400


def test_the_writer_puts_a_days_samples_at_each_series_pace(tmp_path: Path) -> None:
    """A counter at 2/s every 15 s and a gauge around 10 every 60 s, one day up to now, served by the
    real Prometheus: a day's worth of samples on each one's spacing, the counter's rate, the gauge's
    daily mean (its wave averages out over a whole day)."""
    require_tool(GO)
    require_tool(PROMETHEUS)
    end = float(int(time.time()))
    specs = [
        SeriesSpec({"__name__": "paced_total", "tenant_id": "t1"}, counter=True, value=2.0, step_s=15),
        SeriesSpec({"__name__": "level", "tenant_id": "t1"}, counter=False, value=10.0, step_s=60),
    ]
    data = tmp_path / "data"
    written = fill(specs, data, end, days=1)
    assert written["series"] == 2 and written["samples"] == DAY // 15 + DAY // 60
    (tmp_path / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n")
    served = Prometheus(data, tmp_path / "prometheus.log")
    try:

        def value(query: str) -> float:
            result = served.get("/api/v1/query", query=query, time=str(end - 1))["data"]["result"]
            assert len(result) == 1, (query, result)
            return float(result[0]["value"][1])

        # Asked a second before `end`: the day from the first sample (at end - 1 d) to the last (a step
        # before `end`), ranges being open on the left.
        assert value("count_over_time(paced_total[1d])") == DAY // 15
        assert value("count_over_time(level[1d])") == DAY // 60
        assert value("rate(paced_total[1h])") == pytest.approx(2.0)
        assert value("avg_over_time(level[1d])") == pytest.approx(10.0, rel=0.01)
        assert value("max_over_time(level[1d])") == pytest.approx(12.0, rel=0.01)  # the +-20 % wave
    finally:
        served.stop()
