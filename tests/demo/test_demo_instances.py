"""DEMO_INSTANCE=k/n: the demo stands in for one of n backend instances, as the scale benchmark runs
two to measure what a second instance costs per tenant.

The contract budgets a tenant's WhatsApp sessions as held by one instance at a time (a further
instance adds no session series), while requests, messages and Socket.io clients reach every
instance. An instance that held every tenant's session would make the benchmark's second instance
cost one series per tenant more than the budget says, and two instances with one service.instance.id
would be one series where there are two. One short run of instance 2 of 3 over 7 tenants, against the
recording OTLP receiver, checks both.
"""

from __future__ import annotations

from telemetry.contract import CONTRACT, Emitter
from tests.demo.otlp_receiver import attributes, data_points
from tests.demo.test_demo_backend import received_from_demo

TENANTS = 7
INDEX, COUNT = 2, 3
SESSIONS, MESSAGES, CONNECTIONS = (
    next(m for m in CONTRACT.metrics if m.emitter == Emitter.BACKEND and m.otel_name.endswith(suffix))
    for suffix in ("sessions.active", "messages.sent", "socketio.connections")
)


def _tenant(number: int) -> str:
    return f"tenant-{number:03d}"


def test_instance_k_of_n_holds_every_nth_tenants_session_and_names_itself() -> None:
    stdout, received = received_from_demo(
        DEMO_DURATION="3s", DEMO_TENANTS=str(TENANTS), DEMO_RPS="2", DEMO_INSTANCE=f"{INDEX}/{COUNT}"
    )
    assert f"instance {INDEX} of {COUNT}" in stdout, stdout

    tenants_of: dict[str, set[str]] = {SESSIONS.otel_name: set(), MESSAGES.otel_name: set()}
    instance_ids: set[str] = set()
    for resource, metric in received.metrics():
        if metric["name"] in tenants_of:
            tenants_of[metric["name"]] |= {attributes(p)["tenant_id"] for p in data_points(metric)}
            instance_ids.add(str(attributes(resource)["service.instance.id"]))

    # Tenants 2, 5 (1-based): the k-th, then every n-th after it.
    held = {_tenant(n) for n in range(INDEX, TENANTS + 1, COUNT)}
    assert held == {_tenant(2), _tenant(5)}  # the arithmetic above, spelled out
    assert tenants_of[SESSIONS.otel_name] == held
    # Every tenant's first request sends a message, whichever instance holds its session.
    assert tenants_of[MESSAGES.otel_name] == {_tenant(n) for n in range(1, TENANTS + 1)}
    assert len(instance_ids) == 1 and next(iter(instance_ids)).endswith(f"-{INDEX}"), instance_ids


def _session_tenants(**env: str) -> tuple[set[str], set[str]]:
    """(tenants with a session data point, whatsapp_ids of those points) over a short run."""
    _, received = received_from_demo(DEMO_DURATION="3s", DEMO_RPS="1", DEMO_SOCKET_TENANTS="0", **env)
    points = [
        attributes(point)
        for _, metric in received.metrics()
        if metric["name"] == SESSIONS.otel_name
        for point in data_points(metric)
    ]
    return {str(p.get("tenant_id")) for p in points}, {str(p.get("whatsapp_id")) for p in points}


def test_past_the_first_warm_up_chunk_an_instance_still_holds_only_its_own_sessions() -> None:
    """The warm-up connects each tenant's session in the instance that holds it, in chunks of 250
    tenants: instance 1 of 3 over 500 tenants holds tenants 1, 4, 7, ... 499 in both chunks (250 is
    not a multiple of 3, so a chunk that counted its tenants from its own start would pick others)."""
    tenants, count = 500, 3
    found, _ = _session_tenants(DEMO_TENANTS=str(tenants), DEMO_INSTANCE=f"1/{count}")
    held = {_tenant(n) for n in range(1, tenants + 1, count)}
    assert found == held, (
        f"not held but with a session: {sorted(found - held)[:8]}; held without: {sorted(held - found)[:8]}"
    )


def test_an_instance_beyond_the_tenants_holds_no_session_at_all() -> None:
    """DEMO_INSTANCE=3/3 with DEMO_TENANTS=2 (the README allows it: k <= n, whatever the tenants): that
    instance holds no tenant's WhatsApp connection, so it exports no session series, not one for a
    tenant nobody has."""
    found, whatsapp_ids = _session_tenants(DEMO_TENANTS="2", DEMO_INSTANCE="3/3")
    assert not found and not whatsapp_ids, (found, whatsapp_ids)


def test_an_instance_takes_the_socket_clients_of_every_tenant_not_only_of_those_it_holds() -> None:
    """README: instance k of n "takes requests and sockets for every tenant" (a load balancer spreads
    Socket.io clients over every instance; only a WhatsApp connection lives in one). Instance 2 of 3
    with every one of 7 tenants opening a client at the start has each of them in its connection gauge."""
    _, received = received_from_demo(
        DEMO_DURATION="2s",
        DEMO_TENANTS=str(TENANTS),
        DEMO_SOCKET_TENANTS=str(TENANTS),
        DEMO_RPS="1",
        DEMO_INSTANCE=f"{INDEX}/{COUNT}",
    )
    connected = {
        str(attributes(point)["tenant_id"])
        for _, metric in received.metrics()
        if metric["name"] == CONNECTIONS.otel_name
        for point in data_points(metric)
    }
    assert connected == {_tenant(n) for n in range(1, TENANTS + 1)}
