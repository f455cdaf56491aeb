"""DEMO_SOCKET_TENANTS across the warm-up's chunks: exactly the first N tenants open a Socket.io
client at the start, however many chunks of 250 the tenants take.

The warm-up serves tenants in chunks of 250 (so 10,000 tenants are seconds of traffic, not one burst).
A chunk that counted its tenants from its own start would give the first N of EVERY chunk a client:
at 10,000 tenants and the default 200, 8,000 clients (16,000 open files) instead of 200. Here 500
tenants (two chunks) with N = 10, over a run of 3 s with exports every second, so only the warm-up
and at most a few of the churn's picks (one every 500 ms, any tenant) have opened clients by then.
"""

from __future__ import annotations

import math

from telemetry.contract import CONTRACT, Emitter
from tests.demo.otlp_receiver import attributes, data_points
from tests.demo.test_demo_backend import received_from_demo

TENANTS = 500
SOCKET_TENANTS = 10
RUN_MS = 3_000
CHURN_EVERY_MS = 500
"""demo.js: one Socket.io client connects or leaves every 500 ms, for a tenant picked at random."""
CONNECTIONS = next(
    m
    for m in CONTRACT.metrics
    if m.emitter == Emitter.BACKEND and m.otel_name.endswith("socketio.connections")
)


def test_only_the_first_n_tenants_open_a_client_at_the_start_across_chunks() -> None:
    _, received = received_from_demo(
        DEMO_DURATION=f"{RUN_MS}ms",
        DEMO_TENANTS=str(TENANTS),
        DEMO_SOCKET_TENANTS=str(SOCKET_TENANTS),
        DEMO_RPS="1",
        # exports every second in the run (the flush at the end has none: the demo closes its clients first)
        OTEL_METRIC_EXPORT_INTERVAL="1000",
    )
    with_clients = {
        attributes(point)["tenant_id"]
        for _, metric in received.metrics()
        if metric["name"] == CONNECTIONS.otel_name
        for point in data_points(metric)
    }
    first = {f"tenant-{n:03d}" for n in range(1, SOCKET_TENANTS + 1)}
    churned = math.ceil(RUN_MS / CHURN_EVERY_MS) + 1  # picks the churn may have made, one to spare
    assert first <= with_clients, (
        f"of the first {SOCKET_TENANTS}, without a client: {sorted(first - with_clients)}"
    )
    assert len(with_clients - first) <= churned, (
        f"{len(with_clients - first)} tenants past the first {SOCKET_TENANTS} have a client (the churn opens "
        f"at most {churned} in {RUN_MS} ms): {sorted(with_clients - first)[:12]}"
    )
