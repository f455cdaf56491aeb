"""DEMO_FAILING_TENANTS and DEMO_SLOW_TENANTS trouble exactly the tenants named, as the telemetry shows.

The per-tenant dashboards and alerts are proven on the demo's traffic (issue 22): a failing tenant
must be the one named, every one of its requests failing, and no other tenant failing for it; a slow
tenant's requests must all be over the latency SLO's threshold, and the others not. Each case runs the
real `node demo.js` against the recording OTLP receiver and reads the server spans that arrive.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from telemetry.contract import LATENCY_THRESHOLD_SECONDS
from tests.demo.otlp_receiver import attributes, otlp_receiver
from tests.demo.test_demo_backend import run_demo
from tests.demo.test_demo_error_share import failed

FAILING, SLOW, HEALTHY = "tenant-002", "tenant-003", "tenant-001"


def _spans_by_tenant() -> dict[str, list[dict[str, Any]]]:
    with otlp_receiver() as (endpoint, received):
        completed, _ = run_demo(
            endpoint,
            DEMO_DURATION="4s",
            DEMO_TENANTS="4",
            DEMO_RPS="100",
            DEMO_ERROR_RATIO="0",
            DEMO_FAILING_TENANTS=FAILING,
            DEMO_SLOW_TENANTS=SLOW,
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"every request of {FAILING} fails" in completed.stdout, completed.stdout
    assert f"every request of {SLOW} is" in completed.stdout, completed.stdout
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, span in received.spans():
        if span.get("kind") in ("SPAN_KIND_SERVER", 2):
            found[str(attributes(span).get("tenant_id"))].append(span)
    return found


def _seconds(span: dict[str, Any]) -> float:
    return (int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])) / 1e9


def test_only_the_named_tenants_fail_or_are_slow() -> None:
    spans = _spans_by_tenant()
    threshold = float(LATENCY_THRESHOLD_SECONDS)
    for tenant in (FAILING, SLOW, HEALTHY):
        assert len(spans[tenant]) >= 20, f"{tenant}: {len(spans[tenant])} requests, too few to tell"
    # Every request of the failing tenant fails, but its first: the warm-up's message, which never does,
    # so that each tenant is in every series from the start.
    assert sum(not failed(span) for span in spans[FAILING]) <= 1
    assert not any(failed(span) for tenant in (SLOW, HEALTHY) for span in spans[tenant])
    # Every request of the slow tenant is over the threshold; most of the others' are not.
    assert all(_seconds(span) > threshold for span in spans[SLOW])
    over = sum(_seconds(span) > threshold for span in spans[HEALTHY]) / len(spans[HEALTHY])
    assert over < 0.5, f"{HEALTHY}: {over:.0%} of requests over {threshold} s without being named slow"
