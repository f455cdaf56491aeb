"""rule-variables: a Grafana variable in a rule is reported, naming the group and the rule."""

from __future__ import annotations

import dataclasses

from dashboards_as_code import queries as q
from dashboards_as_code.definitions.prometheus_rule import AlertRule, RecordingRule, RuleGroup
from dashboards_as_code.lint.checks.rule_variables import CHECK
from telemetry.contract import SOCKETIO_CONNECTIONS
from tests.lint.builders import check, context


def _with(*groups: RuleGroup) -> list[str]:
    lint = context()
    project = dataclasses.replace(lint.project, rule_groups=[*lint.project.rule_groups, *groups])
    lint.documents = dataclasses.replace(lint.documents, project=project)
    return [f.message for f in check(CHECK, lint)]


def _recording(expr: q.PromQL) -> RuleGroup:
    return RuleGroup(
        name="mine",
        interval="1m",
        recording=(RecordingRule(record="a:b:c", expr=expr, grafana_unit="short"),),
    )


def test_the_projects_own_rules_hold_no_grafana_variable() -> None:
    assert _with() == []


def test_the_default_tenant_filter_in_a_recording_rule_is_reported() -> None:
    """`q.select` adds `tenant_id=~"$tenant"` to a tenant-labelled signal unless told not to."""
    (message,) = _with(_recording(q.sum_by(q.select(SOCKETIO_CONNECTIONS), "tenant_id")))
    assert message.startswith("rule group 'mine', a:b:c: the expression holds the Grafana variable '$tenant'")
    assert "tenant_filter=False" in message
    assert _with(_recording(q.sum_by(q.select(SOCKETIO_CONNECTIONS, tenant_filter=False), "tenant_id"))) == []


def test_every_spelling_in_an_alert_is_reported() -> None:
    for spelling in ("$tenant", "${tenant}", "${__range}", "[[tenant]]"):
        alert = AlertRule(
            alert="Mine",
            expr=f'sum(x{{tenant_id=~"{spelling}"}}) > 0',
            severity="ticket",
            summary="s",
            description="d",
            runbook="r",
        )
        (message,) = _with(RuleGroup(name="mine", interval="1m", alerts=(alert,)))
        assert "alert Mine: the expression holds the Grafana variable" in message, spelling
        assert spelling.strip("$[]{}") in message, spelling


def test_a_regex_group_of_label_replace_is_no_variable() -> None:
    alert = AlertRule(
        alert="Mine",
        expr='label_replace(up, "metric", "$1", "__name__", "(.+)") > 0',
        severity="ticket",
        summary="s",
        description="d",
        runbook="r",
    )
    assert _with(RuleGroup(name="mine", interval="1m", alerts=(alert,))) == []
