"""The demo's traffic is the traffic it promises: DEMO_RPS requests a second, and WhatsApp sessions
that connect and drop, so the session gauge reads what is connected now.

Dashboards, alerts and the doctor are tried against the demo's numbers. A demo that sent 100
requests/s whatever DEMO_RPS said would make every rate panel and every capacity estimate lie, and a
session gauge that only grows (a disconnect counted +1) would show tenants with 7 WhatsApp sessions
when each has one connection. One bounded run at a low rate, against the recording OTLP receiver,
is read two ways: the requests counted (by the demo and by the backend's server spans), and the
`whatsapp.sessions.active` data points beside the demo's own connect/disconnect log records.
"""

from __future__ import annotations

import math
import re
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass
from time import monotonic, sleep, time_ns
from typing import Any

import pytest

from dashboards_as_code.external_tools import NODE
from monitoring.tools import DEMO
from telemetry.contract import CONTRACT, Emitter
from tests.demo.otlp_receiver import Received, attributes, data_points, otlp_receiver
from tests.demo.test_demo_backend import demo_environment, run_demo
from tests.tooling import require_tool

RPS = 5
"""Low, so the rate is the demo's timer and never the machine's limit: a loaded 2-core machine still
sends 5 requests a second, and a demo that ignores DEMO_RPS (100/s or more) is 20 times off."""
SECONDS = 20
"""Long enough that the demo's session churn (a random tenant every 700 ms; a connected one drops
with a chance of 0.3) drops a session at least once: no drop in 28 draws has a chance of 0.7**28,
about 5e-5."""
TENANTS = 3
SLOWEST = 0.5
"""A loaded machine delays the demo's timers, so fewer requests go out, never more: the lower bound
allows half the asked rate. The upper bound allows nothing for load, only the model's own edges."""
SESSIONS = next(
    m for m in CONTRACT.metrics if m.emitter == Emitter.BACKEND and m.otel_name.endswith("sessions.active")
)
FINAL_COUNT = re.compile(r"^demo: (?P<sent>\d+) requests sent", re.MULTILINE)


@dataclass
class Run:
    stdout: str
    received: Received


@pytest.fixture(scope="module")
def run() -> Run:
    with otlp_receiver() as (endpoint, received):
        completed, _ = run_demo(
            endpoint,
            DEMO_DURATION=f"{SECONDS}s",
            DEMO_TENANTS=str(TENANTS),
            DEMO_RPS=str(RPS),
            DEMO_STATUS_INTERVAL="5s",
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"ran for {SECONDS}s" in completed.stdout, completed.stdout
    return Run(completed.stdout, received)


# -- the request rate -------------------------------------------------------------------------------


def expected_requests() -> tuple[int, int]:
    """(fewest, most) requests of a run: one per tenant at the start (each tenant is seen early),
    then DEMO_RPS a second for DEMO_DURATION. At most one more tick than the duration holds, for a
    tick that falls due together with the end."""
    steady = RPS * SECONDS
    return TENANTS + math.floor(steady * SLOWEST), TENANTS + math.ceil(steady) + 1


def test_the_demo_sends_demo_rps_requests_a_second(run: Run) -> None:
    fewest, most = expected_requests()
    counts = FINAL_COUNT.findall(run.stdout)
    assert counts, run.stdout
    sent = int(counts[-1])  # the status line printed at the end of the run
    assert fewest <= sent <= most, (
        f"DEMO_RPS={RPS} for {SECONDS}s with {TENANTS} tenants: {sent} requests sent, "
        f"expected {fewest} to {most}"
    )


def test_the_backend_answers_as_many_requests_as_the_demo_sends(run: Run) -> None:
    """What Prometheus counts (the Collector's spanmetrics read the server spans) is bounded the same
    way: never more than the rate allows nor than the demo sent; fewer only by the few still in
    flight when it stopped."""
    fewest, most = expected_requests()
    sent = int(FINAL_COUNT.findall(run.stdout)[-1])
    server = [span for _, span in run.received.spans() if span.get("kind") in ("SPAN_KIND_SERVER", 2)]
    assert fewest <= len(server) <= min(sent, most), (
        f"{len(server)} server spans; {sent} requests sent; expected {fewest} to {most}"
    )


# -- the session gauge ------------------------------------------------------------------------------


def _value(point: dict[str, Any]) -> float:
    """An OTLP number data point's value (protobuf-as-JSON writes an int64 as a string)."""
    return float(point["asDouble"] if "asDouble" in point else point["asInt"])


def session_points(received: Received) -> list[tuple[int, str, str, float]]:
    """(time, tenant_id, whatsapp_id, value) of every exported session data point."""
    return [
        (int(point["timeUnixNano"]), found["tenant_id"], found["whatsapp_id"], _value(point))
        for _, metric in received.metrics()
        if metric["name"] == SESSIONS.otel_name
        for point in data_points(metric)
        for found in [attributes(point)]
    ]


def session_events(received: Received) -> Counter[tuple[str, str]]:
    """(tenant_id, "connected" | "disconnected") -> how many times the demo logged it."""
    events: Counter[tuple[str, str]] = Counter()
    for _, record in received.logs():
        body = str(next(iter(record.get("body", {}).values()), ""))
        found = re.fullmatch(r"WhatsApp session (connected|disconnected)", body)
        if found:
            events[attributes(record)["tenant_id"], found[1]] += 1
    return events


def test_each_whatsapp_connection_reads_zero_or_one_session(run: Run) -> None:
    """Every data point is one WhatsApp connection of one tenant (tenant_id, whatsapp_id), which is
    connected or not: a cumulative gauge of sessions can only read 0 or 1 for it, at every export."""
    points = session_points(run.received)
    assert {tenant for _, tenant, _, _ in points} == {f"tenant-{n:03d}" for n in range(1, TENANTS + 1)}
    wrong = sorted({(tenant, whatsapp, n) for _, tenant, whatsapp, n in points if n not in (0, 1)})
    assert not wrong, f"sessions of one WhatsApp connection other than 0 or 1: {wrong}"


def test_a_disconnect_takes_the_session_away(run: Run) -> None:
    """At the end (the flush after the last change) each tenant's gauge is its connects minus its
    disconnects, as the demo logged them; the run disconnected at least once, so a disconnect that
    did not count -1 shows here."""
    events = session_events(run.received)
    assert sum(n for (_, event), n in events.items() if event == "disconnected"), (
        f"no session was dropped in {SECONDS}s: the run cannot tell; events {dict(events)}"
    )
    last: dict[str, tuple[int, float]] = {}
    for time, tenant, _, value in session_points(run.received):
        if tenant not in last or time > last[tenant][0]:
            last[tenant] = (time, value)
    final = {tenant: value for tenant, (_, value) in sorted(last.items())}
    connected = {
        tenant: events[tenant, "connected"] - events[tenant, "disconnected"] for tenant in sorted(last)
    }
    assert final == connected, f"gauge at the end {final}; connected by the logs {connected}; {dict(events)}"


MESSAGES = next(
    m for m in CONTRACT.metrics if m.emitter == Emitter.BACKEND and m.otel_name.endswith("messages.sent")
)
IN_FLIGHT = 2
"""A message request still being answered at the stop may be counted and its span not exported, or
the other way round; the demo waits 300 ms for them, so hardly ever more than one or two."""


def test_each_message_sent_is_counted_once_for_its_tenant(run: Run) -> None:
    """`tiktickets.whatsapp.messages.sent` counts WhatsApp messages sent: one per `POST /api/messages`
    answered 2xx (a failed or missing one sent nothing), under the tenant that sent it. At the end each
    tenant's counter is the count of those server spans, within the requests still in flight."""
    counted: dict[str, float] = {}
    for _, metric in run.received.metrics():
        if metric["name"] == MESSAGES.otel_name:
            for point in data_points(metric):
                tenant = attributes(point)["tenant_id"]
                counted[tenant] = max(
                    counted.get(tenant, 0.0), _value(point)
                )  # cumulative: the last is the most
    answered: Counter[str] = Counter()
    for _, span in run.received.spans():
        found = attributes(span)
        if (
            span.get("kind") in ("SPAN_KIND_SERVER", 2)
            and found.get("http.route") == "/api/messages"
            and 200 <= int(found.get("http.response.status_code", 0)) < 300
        ):
            answered[found["tenant_id"]] += 1
    assert sum(answered.values()) >= TENANTS, f"the premise: every tenant sends a message first {answered}"
    off = {t: (counted.get(t, 0.0), answered[t]) for t in set(counted) | set(answered)}
    assert sum(abs(c - a) for c, a in off.values()) <= IN_FLIGHT, f"tenant: (counted, answered spans) {off}"


# -- a rate above one request per timer tick --------------------------------------------------------

HIGH_RPS = 400
"""Above 100/s: Node's timers fire at most every 10 ms or so, so the demo sends a batch of
DEMO_RPS/100 requests per tick. A demo that sent one request per tick whatever the rate would send
at most 100/s, a quarter of this."""
HIGH_SECONDS = 5
HIGH_SLOWEST = 0.3
"""Generous: a loaded 2-core machine, serving and exporting these requests itself, was seen to
reach about half of the asked rate; one request per tick cannot reach more than a quarter."""


def test_a_rate_above_one_request_per_tick_is_sent_in_batches() -> None:
    """DEMO_RPS=400 is what the error-ratio tests run with and what a user asks for to fill the
    capacity panels: the backend must serve (and the receiver see the server spans of) at least 30 %
    of 400 x 5 s, and the demo never sends more than it was asked to."""
    with otlp_receiver() as (endpoint, received):
        completed, _ = run_demo(
            endpoint,
            DEMO_DURATION=f"{HIGH_SECONDS}s",
            DEMO_TENANTS=str(TENANTS),
            DEMO_RPS=str(HIGH_RPS),
            DEMO_STATUS_INTERVAL="5s",
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    asked = HIGH_RPS * HIGH_SECONDS
    fewest = math.floor(asked * HIGH_SLOWEST)
    most = TENANTS + asked + 2 * HIGH_RPS // 100  # a batch that falls due together with the end
    counts = FINAL_COUNT.findall(completed.stdout)
    assert counts, completed.stdout
    sent = int(counts[-1])
    server = [span for _, span in received.spans() if span.get("kind") in ("SPAN_KIND_SERVER", 2)]
    assert fewest <= len(server) and fewest <= sent <= most, (
        f"DEMO_RPS={HIGH_RPS} for {HIGH_SECONDS}s: {sent} requests sent, {len(server)} server spans "
        f"received; expected {fewest} to {most}"
    )


# -- a stalled process -------------------------------------------------------------------------------

STALL_RPS = 10
STALL_RUN_SECONDS = 6
STALL_SECONDS = 3.0
"""The demo is stopped (SIGSTOP) 1 s into a 6 s run, for 3 s: at 10/s, 30 requests fall due while
it cannot send. Forgiven, the run sends at most one second's worth of them (the late tick's cap);
queued, it sends all 30 in the seconds after SIGCONT, 60 over the run instead of at most 44."""


def test_requests_missed_while_the_process_was_stopped_are_skipped_not_sent_in_a_burst() -> None:
    """A demo suspended (Ctrl-Z, a laptop asleep, a machine swapping) must not come back with a burst
    of everything that fell due meanwhile: the rate panels would show a spike the "backend" never
    had, and the latency and error panels a load nobody asked for. So after SIGCONT it goes on at
    DEMO_RPS: the run's count is the rate times the time it was running, plus at most a second's
    worth, whatever the length of the stop."""
    node, script = require_tool(NODE), require_tool(DEMO)
    with otlp_receiver() as (endpoint, _):
        process = subprocess.Popen(
            [node, script],
            env=demo_environment(
                endpoint,
                DEMO_DURATION=f"{STALL_RUN_SECONDS}s",
                DEMO_TENANTS=str(TENANTS),
                DEMO_RPS=str(STALL_RPS),
                DEMO_STATUS_INTERVAL="10s",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            assert "backend on 127.0.0.1" in process.stdout.readline()  # its clock starts here
            sleep(1)
            process.send_signal(signal.SIGSTOP)
            stopped_at = monotonic()
            sleep(STALL_SECONDS)
            stalled = monotonic() - stopped_at
            process.send_signal(signal.SIGCONT)
            out, err = process.communicate(timeout=STALL_RUN_SECONDS + 30)
        finally:
            process.send_signal(signal.SIGCONT)
            process.kill()
    assert process.returncode == 0, err
    counts = FINAL_COUNT.findall(out)
    assert counts, out
    sent = int(counts[-1])
    running = STALL_RUN_SECONDS - stalled
    fewest = TENANTS + math.floor(STALL_RPS * running * SLOWEST)
    most = TENANTS + math.ceil(STALL_RPS * running) + math.ceil(STALL_RPS) + 1  # + the late tick's cap
    assert fewest <= sent <= most, (
        f"DEMO_RPS={STALL_RPS} for {STALL_RUN_SECONDS}s, stopped for {stalled:.1f}s: {sent} requests sent, "
        f"expected {fewest} to {most} (what fell due during the stop is not sent afterwards)"
    )


# -- the Socket.io connection gauge -----------------------------------------------------------------

CONNECTIONS = next(
    m
    for m in CONTRACT.metrics
    if m.emitter == Emitter.BACKEND and m.otel_name.endswith("socketio.connections")
)
MOST_SOCKETS = 5
"""demo.js keeps between 1 and 5 Socket.io clients open per tenant (README: clients that come and go)."""


def test_the_connection_gauge_reads_the_clients_connected_now(run: Run) -> None:
    """The Overview's Socket.io panel reads this gauge as "connections open now", per tenant with at
    least one: it never leaves 1..5 for a tenant, and a tenant whose clients all closed is no longer a
    series. After the demo closes every client at the end, its last export (the flush at shutdown,
    which still carries the sessions) holds no connection at all; a gauge that kept every tenant it
    ever saw (a cumulative instrument) would still send each of them there."""
    points = [
        (int(point["timeUnixNano"]), attributes(point)["tenant_id"], _value(point))
        for _, metric in run.received.metrics()
        if metric["name"] == CONNECTIONS.otel_name
        for point in data_points(metric)
    ]
    assert {tenant for _, tenant, _ in points} == {f"tenant-{n:03d}" for n in range(1, TENANTS + 1)}
    outside = sorted({(tenant, n) for _, tenant, n in points if not 1 <= n <= MOST_SOCKETS})
    assert not outside, f"connections outside 1..{MOST_SOCKETS}: {outside}"
    final_export = max(int(p["timeUnixNano"]) for _, m in run.received.metrics() for p in data_points(m))
    assert any(t == final_export for t, _, _, _ in session_points(run.received)), (
        "the premise: no final flush"
    )
    still_sent = sorted({tenant for t, tenant, _ in points if t == final_export})
    assert not still_sent, f"tenants with no open client still sent at the end: {still_sent}"


CHURN_TENANTS = 100
"""Each with a client from the start (DEMO_SOCKET_TENANTS): the churn picks one tenant every 500 ms,
so nearly every pick finds a tenant with its single client, and one that closed it (a chance of 0.4
per pick) would stay out of the gauge for the rest of the run."""
CHURN_SECONDS = 10
"""About 20 picks: a churn allowed to close a last client fails to do so in all of them with a
chance of about 0.6**20, 4e-5."""


def connection_tenants_by_export(received: Received) -> list[tuple[int, frozenset[str]]]:
    """(collection time, tenants in the connection gauge) of each metrics export, in time order."""
    exports = []
    with received.lock:
        requests = list(received.requests["/v1/metrics"])
    for request in requests:
        metrics = [
            metric
            for resource in request.get("resourceMetrics", [])
            for scope in resource.get("scopeMetrics", [])
            for metric in scope.get("metrics", [])
        ]
        times = [int(point["timeUnixNano"]) for metric in metrics for point in data_points(metric)]
        if not times:
            continue
        tenants = frozenset(
            attributes(point)["tenant_id"]
            for metric in metrics
            if metric["name"] == CONNECTIONS.otel_name
            for point in data_points(metric)
        )
        exports.append((max(times), tenants))
    return sorted(exports, key=lambda export: export[0])


def test_churn_never_closes_a_tenants_last_client_so_it_stays_in_the_connection_gauge() -> None:
    """The demo keeps between 1 and 5 Socket.io clients per tenant that has one (its clients come and
    go, README), and the README's scale runs count on every tenant with a socket being in the
    Socket.io gauge: a tenant's last client is never closed before the run ends, so the tenant stays
    in the gauge at every export instead of leaving the Socket.io panel whenever the churn picks it.
    Read at every export until the stop can begin (the demo closes every client then)."""
    started = time_ns()
    with otlp_receiver() as (endpoint, received):
        completed, _ = run_demo(
            endpoint,
            DEMO_DURATION=f"{CHURN_SECONDS}s",
            DEMO_TENANTS=str(CHURN_TENANTS),
            DEMO_SOCKET_TENANTS=str(CHURN_TENANTS),
            DEMO_RPS="5",
            OTEL_METRIC_EXPORT_INTERVAL="500",
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    before_the_stop = started + CHURN_SECONDS * 1_000_000_000  # the stop timer starts after this process
    exports = [
        (at, tenants) for at, tenants in connection_tenants_by_export(received) if at < before_the_stop
    ]
    assert len(exports) >= CHURN_SECONDS, f"the premise: an export every 500 ms; {len(exports)} exports"
    # Every tenant opened a client at the start: from its first export on, it is in every one.
    everyone = {f"tenant-{n:03d}" for n in range(1, CHURN_TENANTS + 1)}
    left: dict[str, int] = {}
    seen: set[str] = set()
    for _, tenants in exports:
        for tenant in seen - tenants:
            left[tenant] = left.get(tenant, 0) + 1
        seen |= tenants
    never = sorted(everyone - seen)
    assert not left and not never, (
        f"tenants missing from the connection gauge after their first export (exports missed): {left}; "
        f"tenants never in it, though each opened a client at the start: {never}"
    )


def test_every_tenant_gets_its_share_of_the_requests_the_last_one_too() -> None:
    """Requests go to tenants drawn evenly: with 3 tenants each gets about a third, so every tenant,
    the last one included, has traffic in the per-tenant panels, not only its warm-up message.
    (Below a ninth of the total, a third's expected share is more than five standard deviations off.)"""
    tenants = 3
    with otlp_receiver() as (endpoint, received):
        completed, _ = run_demo(
            endpoint, DEMO_DURATION="4s", DEMO_TENANTS=str(tenants), DEMO_RPS="30", DEMO_SOCKET_TENANTS="0"
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    served = Counter(
        str(attributes(span).get("tenant_id"))
        for _, span in received.spans()
        if span.get("kind") in ("SPAN_KIND_SERVER", 2)
    )
    total = sum(served.values())
    assert total >= 60, f"{total} requests in 4 s at DEMO_RPS=30: too few to tell"
    for n in range(1, tenants + 1):
        tenant = f"tenant-{n:03d}"
        assert served[tenant] >= total / (3 * tenants), f"{tenant}: {served[tenant]} of {total} requests"


BATCH_MS = 10
"""The README's DEMO_RPS row: "above 100/s sent in batches every 10 ms"."""
SPREAD_RPS = 400
SPREAD_WINDOW_MS = 2 * BATCH_MS
SPREAD_LEAST_SHARE = 0.5
"""At 400/s in batches every 10 ms, nearly every 20 ms window of the run has a request start in it
(a late timer empties a few); in batches every 100 ms at most a quarter would."""


def test_a_high_rate_is_spread_in_batches_every_ten_milliseconds() -> None:
    with otlp_receiver() as (endpoint, received):
        completed, _ = run_demo(
            endpoint,
            DEMO_DURATION="3s",
            DEMO_TENANTS=str(TENANTS),
            DEMO_RPS=str(SPREAD_RPS),
            DEMO_ERROR_RATIO="0",
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    starts = sorted(
        int(span["startTimeUnixNano"]) // 1_000_000
        for _, span in received.spans()
        if span.get("kind") in ("SPAN_KIND_SERVER", 2)
    )
    assert len(starts) > SPREAD_RPS, len(starts)
    # The steady middle of the run: past the warm-up's first second, before the last half second.
    first, last = starts[0] + 1000, starts[-1] - 500
    windows = range(first // SPREAD_WINDOW_MS, last // SPREAD_WINDOW_MS)
    busy = {start // SPREAD_WINDOW_MS for start in starts if first <= start < last}
    share = len(busy) / len(windows)
    assert share >= SPREAD_LEAST_SHARE, (
        f"requests started in {share:.0%} of the {SPREAD_WINDOW_MS} ms windows"
    )
