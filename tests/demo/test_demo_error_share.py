"""DEMO_ERROR_RATIO is the share of the demo's requests that fail, as the telemetry shows it.

Dashboards and burn-rate alerts are tried against the demo's traffic: a ratio that came out as its
complement (0.03 asked, 97 % failing) would make a healthy demo page someone, and 0 would not give a
clean run. Each case runs the real `node demo.js` against the recording OTLP receiver and counts the
server spans that arrive: a failed request is a server span with status ERROR and HTTP 503.

The demo draws each request's fate at random, so the observed share of n requests is binomial around
the asked ratio r: it must lie within r +- 4 standard deviations, sqrt(r (1 - r) / n). That bound is
missed by chance about once in 16,000 runs; ratios of 0 and 1 admit no spread at all.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.demo.otlp_receiver import attributes, otlp_receiver
from tests.demo.test_demo_backend import run_demo

RPS = 200
"""High enough that a few seconds give hundreds of requests, low enough for a shared 2-core machine."""
DURATION = "4s"
MIN_REQUESTS = 200
"""Below this the binomial bound is too wide to tell a ratio from its neighbours: the run is no test."""
SIGMAS = 4
TENANTS = 4


def _is(value: Any, name: str, number: int) -> bool:
    """OTLP enums: protobuf-as-JSON writes their names, OTLP JSON their numbers."""
    return value in (name, number)


def server_spans(ratio: float) -> list[dict[str, Any]]:
    """The server spans (one per request the backend answered) of a short demo run at `ratio`."""
    with otlp_receiver() as (endpoint, received):
        completed, _ = run_demo(
            endpoint,
            DEMO_DURATION=DURATION,
            DEMO_TENANTS=str(TENANTS),
            DEMO_RPS=str(RPS),
            DEMO_ERROR_RATIO=f"{ratio:g}",
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return [span for _, span in received.spans() if _is(span.get("kind"), "SPAN_KIND_SERVER", 2)]


def failed(span: dict[str, Any]) -> bool:
    return _is(span.get("status", {}).get("code"), "STATUS_CODE_ERROR", 2)


@pytest.mark.parametrize("ratio", [0.0, 0.2, 1.0])
def test_the_share_of_failed_requests_is_the_error_ratio(ratio: float) -> None:
    spans = server_spans(ratio)
    n = len(spans)
    assert n >= MIN_REQUESTS, f"only {n} requests in {DURATION} at {RPS}/s: too few to measure a share"
    errors = [span for span in spans if failed(span)]
    # A failure is what a user sees as one: HTTP 503, and every 503 is a failed span.
    status_503 = [span for span in spans if str(attributes(span).get("http.response.status_code")) == "503"]
    assert len(errors) == len(status_503) and all(failed(span) for span in status_503)
    # Each tenant's first request (a message sent) never fails, so that every tenant is in every
    # series from the start (README, the demo's knobs): the ratio is the share of the others.
    drawn = n - TENANTS
    share = len(errors) / drawn
    tolerance = SIGMAS * math.sqrt(ratio * (1 - ratio) / drawn)
    assert abs(share - ratio) <= tolerance, (
        f"DEMO_ERROR_RATIO={ratio:g}: {len(errors)} of the {drawn} requests after each tenant's first "
        f"failed ({share:.3f}), outside {ratio:g} +- {tolerance:.3f}"
    )
