"""alert-routes: an alert whose severity no route handles is reported, naming its group and rule."""

from __future__ import annotations

import dataclasses

from dashboards_as_code.definitions.alert_routing import AlertRouting, Receiver, SeverityRoute
from dashboards_as_code.definitions.prometheus_rule import AlertRule, RuleGroup
from dashboards_as_code.lint.checks.alert_routes import CHECK
from tests.lint.builders import check, context


def _alert(severity: str) -> AlertRule:
    return AlertRule(
        alert="Mine", expr="up == 0", severity=severity, summary="s", description="d", runbook="r"
    )


def _with(*groups: RuleGroup, routing: AlertRouting | None = None, keep_routing: bool = True) -> list[str]:
    lint = context()
    project = dataclasses.replace(
        lint.project,
        rule_groups=[*lint.project.rule_groups, *groups],
        alert_routing=routing if routing is not None or not keep_routing else lint.project.alert_routing,
    )
    lint.documents = dataclasses.replace(lint.documents, project=project)
    return [f.message for f in check(CHECK, lint)]


def test_every_alert_of_the_project_has_a_route() -> None:
    assert _with() == []


def test_a_severity_without_a_route_is_reported_with_the_routed_ones() -> None:
    (message,) = _with(RuleGroup(name="mine", interval="1m", alerts=(_alert("critical"),)))
    assert message.startswith("rule group 'mine', alert Mine: severity 'critical' has no route")
    assert "prometheus_rules/routing.py" in message and "(routed: page, ticket)" in message


def test_only_the_routed_severities_count() -> None:
    only_page = AlertRouting(
        group_by=("alertname",),
        routes=(SeverityRoute(severity="page", receiver="p"),),
        receivers=(Receiver(name="p"),),
    )
    ticket = RuleGroup(name="mine", interval="1m", alerts=(_alert("ticket"),))
    found = _with(ticket, routing=only_page)
    assert any(m.startswith("rule group 'mine', alert Mine: severity 'ticket'") for m in found)
    assert all("(routed: page)" in m for m in found)


def test_a_project_without_routing_is_not_checked() -> None:
    assert (
        _with(RuleGroup(name="mine", interval="1m", alerts=(_alert("critical"),)), keep_routing=False) == []
    )
