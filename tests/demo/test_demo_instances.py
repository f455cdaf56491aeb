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
SESSIONS, MESSAGES = (
    next(m for m in CONTRACT.metrics if m.emitter == Emitter.BACKEND and m.otel_name.endswith(suffix))
    for suffix in ("sessions.active", "messages.sent")
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
