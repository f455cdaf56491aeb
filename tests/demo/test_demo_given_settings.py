"""What the demo keeps of what it is given: the resource attributes a user sets win over its defaults,
and a tenant named in DEMO_FAILING_TENANTS (a list as typed, with a space and a trailing comma) still
sends its warm-up message, which succeeds.

demo.js: "defaults are set only where none is given", and "Every tenant first: each one sends a
message (that succeeds) ... so each tenant is in every tenant-scoped series from the first export on".
One short run against the recording OTLP receiver is read for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from telemetry.contract import CONTRACT, Emitter
from tests.demo.otlp_receiver import Received, attributes, data_points
from tests.demo.test_demo_backend import received_from_demo

FAILING = "tenant-002"
GIVEN = {"service.namespace": "acme", "deployment.environment.name": "staging"}
MESSAGES = next(
    m for m in CONTRACT.metrics if m.emitter == Emitter.BACKEND and m.otel_name.endswith("messages.sent")
)


@dataclass
class Run:
    stdout: str
    received: Received


@pytest.fixture(scope="module")
def run() -> Run:
    stdout, received = received_from_demo(
        DEMO_DURATION="2s",
        DEMO_TENANTS="3",
        DEMO_RPS="2",
        DEMO_FAILING_TENANTS=f" {FAILING},",  # a list as typed: a space, a trailing comma
        OTEL_RESOURCE_ATTRIBUTES=",".join(f"{k}={v}" for k, v in GIVEN.items()),
    )
    return Run(stdout, received)


def test_resource_attributes_the_user_gives_win_over_the_demos_defaults(run: Run) -> None:
    """A backend run as another namespace or environment reports as that one (its job label is made of
    service.namespace), and the defaults it was not given are still added."""
    resources = [attributes(resource) for resource, _ in run.received.metrics()]
    assert resources, run.stdout
    for resource in resources:
        assert {k: resource.get(k) for k in GIVEN} == GIVEN
        assert str(resource.get("service.instance.id", "")).startswith("demo-")


def test_a_failing_tenants_warm_up_message_succeeds(run: Run) -> None:
    """Every request of a failing tenant fails but the warm-up's message, so the failing tenant, the
    one a support engineer looks for, is in the messages-sent series like every other tenant."""
    tenants = {
        str(attributes(point)["tenant_id"])
        for _, metric in run.received.metrics()
        if metric["name"] == MESSAGES.otel_name
        for point in data_points(metric)
    }
    assert f"every request of {FAILING} fails" in run.stdout, run.stdout
    assert tenants == {"tenant-001", FAILING, "tenant-003"}, run.stdout


def test_at_an_error_ratio_of_one_every_tenants_warm_up_message_still_succeeds() -> None:
    """DEMO_ERROR_RATIO=1 (README: every request fails) is a share of the traffic, not of the warm-up:
    each tenant's first message succeeds as it does for a named failing tenant, so every tenant is in
    the messages-sent series even while every other request fails with a 5xx."""
    tenants = 5
    stdout, received = received_from_demo(
        DEMO_DURATION="2s", DEMO_TENANTS=str(tenants), DEMO_RPS="5", DEMO_ERROR_RATIO="1"
    )
    assert ", 100 % fail with a 5xx" in stdout, stdout
    sent = {
        str(attributes(point)["tenant_id"])
        for _, metric in received.metrics()
        if metric["name"] == MESSAGES.otel_name
        for point in data_points(metric)
    }
    assert sent == {f"tenant-{n:03d}" for n in range(1, tenants + 1)}, stdout


def test_a_resource_attribute_given_with_spaces_around_its_key_still_wins() -> None:
    """`OTEL_RESOURCE_ATTRIBUTES="service.namespace = acme, deployment.environment.name = staging"`, as
    a person may write it in `.env`: the SDK trims each key and value, and the demo, which adds its own
    defaults only for keys not given, trims them the same way, so the backend reports as acme in
    staging, not as the demo's default namespace and environment appended after them."""
    given = "service.namespace = acme, deployment.environment.name = staging"
    stdout, received = received_from_demo(
        DEMO_DURATION="1s", DEMO_TENANTS="1", DEMO_RPS="1", OTEL_RESOURCE_ATTRIBUTES=given
    )
    resources = [attributes(resource) for resource, _ in received.metrics()]
    assert resources, stdout
    for resource in resources:
        assert {k: resource.get(k) for k in GIVEN} == GIVEN, resource
