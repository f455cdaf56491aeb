"""What the demo itself prints: its status line's figures and what it says when an export fails.

The other demo tests watch the telemetry that arrives; a person running `make demo` reads the status
line ("N requests sent, N errors, N/N tenants, N export failures, N spans dropped (queue full)") and,
when the Collector refuses the data, the `flush failed: ...` line. Each figure is compared with what the
backend really did, as the recording OTLP receiver saw it: the errors are the requests that failed with
a 5xx (the planned 404s are answers, not failures), the tenants are the tenants that were served. A
refused export is counted and said, and whatever the refusing side repeats of the OTLP headers (a bearer
token, an API key) is masked however the header was written (spaces, URL-encoding, several headers, a
per-signal variable).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.demo.otlp_receiver import Received, attributes, otlp_receiver, refusing_receiver
from tests.demo.otlp_receiver import _Handler as _OtlpHandler
from tests.demo.test_demo_backend import run_demo
from tests.local_http import serving

STATUS = re.compile(
    r"^demo: (?P<sent>\d+) requests sent, (?P<errors>\d+) errors, (?P<seen>\d+)/(?P<tenants>\d+) tenants, "
    r"(?P<failures>\d+) export failures, (?P<dropped>\d+) spans dropped \(queue full\) \(OTLP ",
    re.MULTILINE,
)
RPS = 200
"""Enough requests in a few seconds that the planned 404s (2 % of the requests that do not fail) occur
with certainty: 800 requests give 16 on average, none with a chance of about 1e-7."""
SECONDS = 4
TENANTS = 3
PLANNED_404_SHARE = 0.02
"""The README's "a few 404s": demo.js asks for a missing record in 2 % of the requests it does not
plan to fail. The observed share of n requests is binomial around it; SIGMAS of spread is missed by
chance about once in 16,000 runs (as in test_demo_error_share.py)."""
SIGMAS = 4
SETTLE_NS = 300_000_000
"""The demo prints its last status line 300 ms after it stops sending; a 5xx server span that ended
that long before the last request arrived was answered, and counted, before that line."""


def final_status(stdout: str) -> dict[str, int]:
    """The figures of the status line printed when the run ended (the last one)."""
    lines = list(STATUS.finditer(stdout))
    assert lines, stdout
    return {key: int(value) for key, value in lines[-1].groupdict().items()}


def _nanos(span: dict[str, Any], key: str) -> int:
    return int(span[key])  # protobuf-as-JSON writes a fixed64 as a string, OTLP JSON as a number


def _status_code(span: dict[str, Any]) -> int:
    return int(attributes(span)["http.response.status_code"])


@dataclass
class Answered:
    """The server spans of a run: the requests the backend answered, as the receiver saw them."""

    spans: list[dict[str, Any]]

    def with_status(self, low: int, high: int) -> list[dict[str, Any]]:
        return [span for span in self.spans if low <= _status_code(span) <= high]

    def settled_failures(self) -> int:
        """The 5xx answers the demo had certainly seen when it printed its last line (see SETTLE_NS)."""
        last_start = max(_nanos(span, "startTimeUnixNano") for span in self.spans)
        return sum(
            1
            for span in self.with_status(500, 599)
            if _nanos(span, "endTimeUnixNano") < last_start - SETTLE_NS
        )


def answered(received: Received) -> Answered:
    return Answered([span for _, span in received.spans() if span.get("kind") in ("SPAN_KIND_SERVER", 2)])


@pytest.mark.parametrize("ratio", [0.0, 1.0])
def test_the_status_line_counts_the_5xx_answers_as_errors_and_the_tenants_served(ratio: float) -> None:
    """At DEMO_ERROR_RATIO=0 no request fails, whatever 404s were planned: "0 errors". At 1 every
    answer is a 503: the errors are the 5xx server spans (all of them but the few still in flight
    when the line was printed). The tenants are those the backend served, out of DEMO_TENANTS."""
    with otlp_receiver() as (endpoint, received):
        completed, _ = run_demo(
            endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL="http/json",
            DEMO_DURATION=f"{SECONDS}s",
            DEMO_TENANTS=str(TENANTS),
            DEMO_RPS=str(RPS),
            DEMO_ERROR_RATIO=f"{ratio:g}",
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    status, server = final_status(completed.stdout), answered(received)
    assert len(server.spans) >= RPS, f"only {len(server.spans)} requests answered: the run is no test"
    failed = server.with_status(500, 599)
    assert server.settled_failures() <= status["errors"] <= len(failed), (
        f"the status line says {status['errors']} errors; the backend answered {len(failed)} requests "
        f"with a 5xx ({server.settled_failures()} of them well before the line); {completed.stdout}"
    )
    if ratio == 0:
        missing, n = len(server.with_status(404, 404)), len(server.spans)
        assert missing, "no planned 404 was answered: the run cannot tell"
        spread = SIGMAS * math.sqrt(PLANNED_404_SHARE * (1 - PLANNED_404_SHARE) / n)
        assert abs(missing / n - PLANNED_404_SHARE) <= spread, (
            f"{missing} of {n} requests answered 404; planned {PLANNED_404_SHARE:.0%} +- {spread:.3f}"
        )
    else:
        assert server.settled_failures() >= len(server.spans) // 2, "the run cannot tell"
    tenants_served = {attributes(span)["tenant_id"] for span in server.spans}
    assert (status["seen"], status["tenants"]) == (len(tenants_served), TENANTS), completed.stdout
    assert status["sent"] >= len(server.spans), completed.stdout


def test_a_refused_export_is_counted_on_the_status_line_and_said_at_the_flush() -> None:
    """A Collector that answers 401: the status lines count the refused exports (metrics every
    second), and the final flush, which fails, says so and exits 1, not 0 as if all was sent."""
    with refusing_receiver() as (endpoint, refused):
        completed, _ = run_demo(
            endpoint, DEMO_DURATION="3s", DEMO_TENANTS="2", OTEL_BSP_SCHEDULE_DELAY="60000"
        )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    failures = final_status(completed.stdout)["failures"]
    assert 1 <= failures <= len(refused.headers), (failures, len(refused.headers), output)
    assert "demo: flush failed: rejected credentials" in completed.stderr, output


# -- header secrets ---------------------------------------------------------------------------------

TOKEN = "PLANTEDbearer0007"
API_KEY = "PLANTEDapikey0008"
BASIC = "UExBTlRFRGJhc2ljMDAwOQ"  # base64 of a user:password, sent with its '==' padding


@dataclass(frozen=True)
class Headers:
    """OTLP header variables as a user may write them, and the secrets the exporter sends from them."""

    id: str
    env: dict[str, str]
    secrets: tuple[str, ...]


HEADER_CASES = [
    Headers("bearer", {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer {TOKEN}"}, (TOKEN,)),
    Headers("spaces", {"OTEL_EXPORTER_OTLP_HEADERS": f" Authorization = Bearer {TOKEN} "}, (TOKEN,)),
    # The OTel specification: header values are URL-decoded; the exporter sends "Basic <b64>==".
    Headers("url-encoded", {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Basic%20{BASIC}%3D%3D"}, (BASIC,)),
    # The OTel specification: what follows a ';' is metadata the exporter drops; "Bearer <token>" goes out.
    Headers(
        "parameters", {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer {TOKEN};rotated=2026"}, (TOKEN,)
    ),
    Headers(
        "two-headers",
        {"OTEL_EXPORTER_OTLP_HEADERS": f"x-api-key={API_KEY},authorization=Bearer {TOKEN}"},
        (API_KEY, TOKEN),
    ),
    Headers(
        "per-signal",
        {
            "OTEL_EXPORTER_OTLP_HEADERS": f"x-api-key={API_KEY}",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"authorization=Bearer {TOKEN}",
        },
        (API_KEY, TOKEN),
    ),
]


@pytest.mark.parametrize("case", HEADER_CASES, ids=lambda case: case.id)
def test_a_refusal_that_repeats_the_otlp_headers_is_printed_masked(case: Headers) -> None:
    """The receiver's 401 repeats every header it was sent; the demo prints that refusal
    (`flush failed: rejected credentials ...`) with each header value masked, in any form the user
    wrote it: the exporter sends the value trimmed and URL-decoded, and that is what comes back."""
    with refusing_receiver() as (endpoint, refused):
        completed, _ = run_demo(
            endpoint,
            DEMO_DURATION="1s",
            DEMO_TENANTS="2",
            DEMO_STATUS_INTERVAL="200ms",
            # Spans and logs wait for the flush at the end, so the flush fails for certain.
            OTEL_BSP_SCHEDULE_DELAY="60000",
            OTEL_BLRP_SCHEDULE_DELAY="60000",
            **case.env,
        )
    output = completed.stdout + completed.stderr
    sent = " ".join(value for headers in refused.headers for value in headers.values())
    for secret in case.secrets:
        assert secret in sent, f"the exporter never sent {secret}: the run cannot tell ({sent[:300]})"
    assert completed.returncode == 1 and "flush failed: rejected credentials" in completed.stderr, output
    leaked = [secret for secret in case.secrets if secret in output]
    assert not leaked, output


TINY_QUEUE = 8
"""Spans the batch processor may hold here: one request alone makes more (server and Express spans)."""
BURST_TENANTS = 250
"""The demo serves each tenant's first request at once, 250 at a time: a burst of a thousand spans."""
BURST_ONLY_RPS = "0.001"
"""The demo's lowest rate, one request every 1000 s: no request but the burst's within the run."""
BURST_SECONDS = 8
"""The burst's requests are answered (their spans ended) long before the run stops and flushes, on a
loaded machine too: a span that ends once the flush has begun is discarded by the SDK, neither exported
nor counted as dropped (seen under load: 250 answered in about 7 s with a third of a core)."""
ANSWERED = "POST /api/messages ok"
"""The log record of each burst request (a message that succeeds), written as it is answered."""


def _answered(received: Received) -> int:
    return sum(1 for _, record in received.logs() if record.get("body", {}).get("stringValue") == ANSWERED)


def test_the_status_line_counts_the_spans_the_sdk_dropped_for_want_of_queue() -> None:
    """The SDK drops a finished span its batch processor has no room for and says so only in a
    warning: the status line turns it into a count, and an export every 5 s behind a queue of
    TINY_QUEUE spans, given the burst of the tenants' first requests, drops some. With the demo's own
    queue the same traffic drops none. The count is of spans, not of the SDK's warnings (each names
    many): the spans dropped and the spans received add up, per request sent, to about what the run
    that dropped none received. Not exactly: the SDK reports the spans it dropped only when a later
    span finds room in the queue, so drops in the run's last export window, flushed by the shutdown,
    are never reported (seen in CI under load: 90 % accounted for). A count of warnings instead of
    spans accounts for about two thirds (3.24 spans per request against 5.04), below the 80 % allowed.

    Only the burst is sent, and every request of it is answered before the run ends (checked): with
    requests paced until the stop, those still in flight at the flush lost their spans uncounted, a
    share that differed between the two runs under load (3.04 spans accounted per request against 2.66)."""
    figures: dict[str | None, tuple[int, int]] = {}
    sent: dict[str | None, int] = {}
    for queue in (str(TINY_QUEUE), None):
        size = {"OTEL_BSP_MAX_QUEUE_SIZE": queue} if queue else {}
        with otlp_receiver() as (endpoint, received):
            completed, _ = run_demo(
                endpoint,
                DEMO_DURATION=f"{BURST_SECONDS}s",
                DEMO_TENANTS=str(BURST_TENANTS),
                DEMO_RPS=BURST_ONLY_RPS,
                OTEL_BSP_SCHEDULE_DELAY="5000",
                **size,
            )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        status = final_status(completed.stdout)
        assert _answered(received) == status["sent"] == BURST_TENANTS, (
            f"queue {queue}: {_answered(received)} of {status['sent']} requests answered before the flush; "
            "the others' spans were discarded uncounted, so the run cannot tell"
        )
        figures[queue], sent[queue] = (status["dropped"], len(received.spans())), status["sent"]
    (tiny_dropped, tiny_received), (own_dropped, own_received) = figures[str(TINY_QUEUE)], figures[None]
    assert tiny_dropped > 0, figures
    assert own_dropped == 0, figures
    assert tiny_received < own_received, figures
    spans_per_request = own_received / sent[None]
    accounted = (tiny_dropped + tiny_received) / sent[str(TINY_QUEUE)]
    assert 0.8 * spans_per_request <= accounted <= 1.03 * spans_per_request, (figures, sent)


# -- the metric export timeout ------------------------------------------------------------------------

SLOW_COLLECTOR_SECONDS = 1.5
"""How long the slow Collector below takes to answer a metrics export: longer than a 300 ms
OTEL_METRIC_EXPORT_TIMEOUT, shorter than a 3 s OTEL_METRIC_EXPORT_INTERVAL."""


class _SlowMetricsHandler(_OtlpHandler):
    """The recording receiver, answering each metrics export SLOW_COLLECTOR_SECONDS late."""

    def do_POST(self) -> None:  # noqa: N802 (http.server dispatches on this name)
        if self.path == "/v1/metrics":
            time.sleep(SLOW_COLLECTOR_SECONDS)
        super().do_POST()


@pytest.mark.parametrize(("timeout", "fails"), [("300", True), (None, False)])
def test_a_metric_export_slower_than_the_export_timeout_is_an_export_failure(
    timeout: str | None, fails: bool
) -> None:
    """OTEL_METRIC_EXPORT_TIMEOUT=300 with exports every 3 s: a Collector taking 1.5 s to answer makes
    every periodic metrics export time out, and the status line counts it. Unset, the timeout is the
    export interval (the SDK's 30 s default cannot exceed it), so the same Collector is merely slow."""
    received = Received()
    handler = type("Handler", (_SlowMetricsHandler,), {"received": received, "prefix": ""})
    settings = {"OTEL_METRIC_EXPORT_TIMEOUT": timeout} if timeout else {}
    with serving(handler) as endpoint:
        completed, _ = run_demo(
            endpoint,
            DEMO_DURATION="4s",
            DEMO_TENANTS="2",
            DEMO_RPS="2",
            OTEL_METRIC_EXPORT_INTERVAL="3000",
            **settings,
        )
    status = final_status(completed.stdout)  # printed before the final flush, which may fail too
    assert received.requests["/v1/metrics"], "the premise: the periodic export reached the Collector"
    if fails:
        assert status["failures"] >= 1, completed.stdout + completed.stderr
    else:
        assert status["failures"] == 0 and completed.returncode == 0, completed.stdout + completed.stderr
