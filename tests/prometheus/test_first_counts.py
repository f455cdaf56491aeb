"""A series' first scrape already holds counts, and rate() and increase() must see them.

A tenant's first errors, a new route, a status code seen for the first time: each is a new series whose
first scrape already counts something. Prometheus computes increase() from the samples it has, so the
counts before its first sample are lost unless it stores a zero at the series' start. The Collector
exports that start (`_created` in OpenMetrics, from the OTLP start time), and the stack's Prometheus
stores the zero (`--enable-feature=created-timestamp-zero-ingestion`, which the tests' Prometheus reads
from the compose file). A push to Cortex gets the same zero from the OTLP start time, so both answer alike.
"""

from __future__ import annotations

import time
from pathlib import Path

from dashboards_as_code.external_tools import PROMETHEUS
from tests.local_http import QuietHandler, serving
from tests.prometheus.server import running_prometheus, stack_features
from tests.tooling import require_tool

ERRORS = 5
"""What the new series counted before Prometheus first scraped it."""


def _new_series_with(count: int, created: float) -> type[QuietHandler]:
    """An OpenMetrics endpoint with one counter that started at `created` and stays at `count`."""
    body = (
        "# TYPE tenant_errors counter\n"
        f'tenant_errors_total{{tenant_id="tenant-001"}} {count}\n'
        f'tenant_errors_created{{tenant_id="tenant-001"}} {created:.3f}\n'
        "# EOF\n"
    ).encode()

    class Exposition(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server dispatches on this name)
            self.reply(200, body, "application/openmetrics-text; version=1.0.0; charset=utf-8")

    return Exposition


def test_the_counts_a_new_series_holds_at_its_first_scrape_are_in_its_increase(tmp_path: Path) -> None:
    assert "created-timestamp-zero-ingestion" in stack_features(), "the premise: the stack's flag"
    with serving(_new_series_with(ERRORS, time.time() - 0.5)) as url:
        target = url.removeprefix("http://")
        with running_prometheus(require_tool(PROMETHEUS), tmp_path, target) as prometheus:
            prometheus.wait_for("count_over_time(tenant_errors_total[1m])", 3)
            [result] = prometheus.query('increase(tenant_errors_total{tenant_id="tenant-001"}[1m])')
    assert float(result["value"][1]) >= ERRORS, f"the first {ERRORS} errors are not in increase(): {result}"
