"""The routing model refuses what Alertmanager would refuse, or silently misroute, with a message
naming the part; and writes the configuration Alertmanager's documentation describes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dashboards_as_code.definitions.alert_routing import (
    UNROUTED,
    AlertRouting,
    Inhibition,
    Receiver,
    SeverityRoute,
    Webhook,
)

PAGER = Receiver(name="pager", webhooks=(Webhook(url_file="/run/secrets/pager-url"),))


def _routing(**changes: object) -> AlertRouting:
    fields: dict[str, object] = {
        "group_by": ("alertname",),
        "routes": (SeverityRoute(severity="page", receiver="pager"),),
        "receivers": (PAGER,),
    }
    fields.update(changes)
    return AlertRouting.model_validate(fields)


@pytest.mark.parametrize(
    ("url_file", "says"),
    [
        ("https://hooks.example.com/T0/B0/secret", "looks like a URL"),
        ("secrets/pager-url", "must be an absolute path"),
    ],
)
def test_a_webhook_names_a_file_never_a_url(url_file: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Webhook(url_file=url_file)


def test_a_route_to_an_undefined_receiver_names_both() -> None:
    with pytest.raises(
        ValidationError, match="severity 'ticket' names receiver 'desk', which is not defined"
    ):
        _routing(routes=(SeverityRoute(severity="ticket", receiver="desk"),))


def test_a_severity_routed_twice_is_refused() -> None:
    twice = (
        SeverityRoute(severity="page", receiver="pager"),
        SeverityRoute(severity="page", receiver="pager"),
    )
    with pytest.raises(ValidationError, match=r"severities routed twice .*: page"):
        _routing(routes=twice)


def test_receiver_names_are_unique_and_the_root_ones_is_reserved() -> None:
    with pytest.raises(ValidationError, match="receivers named twice: pager"):
        _routing(receivers=(PAGER, PAGER))
    with pytest.raises(ValidationError, match=f"receiver name '{UNROUTED}'"):
        _routing(receivers=(PAGER, Receiver(name=UNROUTED)))
    # Wherever it comes in the list: the first receiver is no more allowed the root's name.
    with pytest.raises(ValidationError, match=f"receiver name '{UNROUTED}'"):
        _routing(receivers=(Receiver(name=UNROUTED), PAGER))


@pytest.mark.parametrize("field", ["group_wait", "group_interval", "repeat_interval"])
def test_a_route_duration_that_is_not_one_is_named(field: str) -> None:
    with pytest.raises(
        ValidationError, match=f"route for severity 'page', {field}: not a duration: '1 hour'"
    ):
        SeverityRoute.model_validate({"severity": "page", "receiver": "pager", field: "1 hour"})


def test_label_names_are_checked_in_grouping_and_inhibitions() -> None:
    with pytest.raises(ValidationError, match="group_by: 'tenant-id' is not a label name"):
        _routing(group_by=("alertname", "tenant-id"))
    with pytest.raises(ValidationError, match=r"inhibition \(x\) equal: 'slo name' is not a label name"):
        Inhibition(why="x", source={"a": "1"}, target={"b": "2"}, equal=("slo name",))
    # Alertmanager refuses a configuration that groups by one label twice ("duplicated label").
    with pytest.raises(
        ValidationError, match=r"group_by: a label is named twice in \['alertname', 'alertname'\]"
    ):
        _routing(group_by=("alertname", "alertname"))
    with pytest.raises(ValidationError, match=r"inhibition \(x\) equal: a label is named twice"):
        Inhibition(why="x", source={"a": "1"}, target={"b": "2"}, equal=("slo", "slo"))
    with pytest.raises(ValidationError, match="source and target need a matcher each"):
        Inhibition(why="x", source={}, target={"b": "2"})


def test_the_document_routes_each_severity_and_drops_the_rest() -> None:
    routing = _routing(
        inhibitions=(
            Inhibition(why="x", source={"severity": "page", "slo": "=~.+"}, target={"severity": "ticket"}),
        )
    )
    document = routing.document()
    # Alertmanager's root route must name a receiver; ours has no integration, so what reaches it is dropped.
    assert document["route"]["receiver"] == UNROUTED
    assert {"name": UNROUTED} in document["receivers"]
    (route,) = document["route"]["routes"]
    assert route["matchers"] == ['severity="page"'] and route["receiver"] == "pager"
    (rule,) = document["inhibit_rules"]
    # A value starting with `=~` is a regex matcher; the others are equality, values quoted.
    assert rule["source_matchers"] == ['severity="page"', 'slo=~".+"']
    assert rule["target_matchers"] == ['severity="ticket"'] and "equal" not in rule
    pager = next(r for r in document["receivers"] if r["name"] == "pager")
    assert pager["webhook_configs"] == [{"url_file": "/run/secrets/pager-url", "send_resolved": True}]
    assert routing.receiver_for("page") == "pager" and routing.receiver_for("critical") == UNROUTED


def test_each_route_keeps_its_own_pacing() -> None:
    """group_wait, group_interval and repeat_interval are three different promises (first notice,
    re-notice of a changed group, reminder of an unchanged one): each reaches the file as given."""
    route = SeverityRoute(
        severity="page", receiver="pager", group_wait="10s", group_interval="3m", repeat_interval="2h"
    )
    document = route.document()
    assert (document["group_wait"], document["group_interval"], document["repeat_interval"]) == (
        "10s",
        "3m",
        "2h",
    )
    defaults = SeverityRoute(severity="page", receiver="pager").document()
    # Alertmanager's own defaults (its configuration documentation): 30s, 5m, 4h.
    assert (defaults["group_wait"], defaults["group_interval"], defaults["repeat_interval"]) == (
        "30s",
        "5m",
        "4h",
    )


def test_a_quote_in_a_matcher_value_is_escaped() -> None:
    rule = Inhibition(why="x", source={"a": 'say "hi"'}, target={"b": "c\\d"}).document()
    assert rule["source_matchers"] == ['a="say \\"hi\\""'] and rule["target_matchers"] == ['b="c\\\\d"']


def test_resolved_alerts_are_declared_after_alertmanagers_default_five_minutes() -> None:
    """An alert Prometheus stops sending is resolved after `resolve_timeout`; unless the routing says
    otherwise, that is Alertmanager's documented default of 5m, and a value given reaches the file."""
    assert _routing().document()["global"] == {"resolve_timeout": "5m"}
    assert _routing(resolve_timeout="10m").document()["global"] == {"resolve_timeout": "10m"}


def test_each_webhook_of_a_receiver_keeps_its_own_resolved_choice_and_none_is_a_null_receiver() -> None:
    """A receiver may notify several integrations, and one that only opens tickets may not want the
    "resolved" notifications (`send_resolved=False`): Alertmanager gets each webhook with its own choice.
    A receiver without a webhook is Alertmanager's null receiver: a name and no integration at all."""
    ops = Receiver(
        name="ops",
        webhooks=(
            Webhook(url_file="/run/secrets/tickets", send_resolved=False),
            Webhook(url_file="/run/secrets/chat"),
        ),
    )
    assert ops.document() == {
        "name": "ops",
        "webhook_configs": [
            {"url_file": "/run/secrets/tickets", "send_resolved": False},
            {"url_file": "/run/secrets/chat", "send_resolved": True},
        ],
    }
    assert Receiver(name="blackhole").document() == {"name": "blackhole"}
