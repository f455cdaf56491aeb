"""The rule file as Prometheus reads it, rendered from small rule groups (no project loaded): what the
docstrings of dashboards_as_code/definitions/prometheus_rule.py and dashboards_as_code/render/documents.py
promise about each alert's links, labels and `for`, the order of groups and rules, and the rule model's
guards."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dashboards_as_code.definitions.prometheus_rule import (
    AlertRule,
    RecordingRule,
    RuleGroup,
    recorded_series,
)
from dashboards_as_code.errors import DefinitionError
from dashboards_as_code.queries import PromQL
from dashboards_as_code.render.documents import rules_document

URL = "https://grafana.example.com"
DOCUMENTS: dict[str, dict[str, Any]] = {
    "board": {
        "uid": "board",
        "panels": [
            {"id": 3, "type": "row", "title": "Requests"},
            {"id": 7, "type": "timeseries", "title": "Error rate"},
            {"id": 9, "type": "stat", "title": "Error rate"},
        ],
    }
}


def alert(**fields: Any) -> AlertRule:
    base: dict[str, Any] = {
        "alert": "Burning",
        "expr": "vector(1) > 0",
        "severity": "ticket",
        "summary": "s",
        "description": "{{ $value }}",
        "runbook": "runbook-burning",
    }
    return AlertRule(**{**base, **fields})


def rendered(*alerts: AlertRule, documents: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    group = RuleGroup(name="g", interval="1m", alerts=alerts)
    rules: list[dict[str, Any]] = rules_document([group], DOCUMENTS if documents is None else documents, URL)[
        "groups"
    ][0]["rules"]
    return rules


def recording(record: str, expr: str = "sum(up)", **fields: Any) -> RecordingRule:
    return RecordingRule(record=record, expr=PromQL(expr, ()), grafana_unit="short", **fields)


def test_a_link_to_a_panel_opens_the_first_panel_with_that_title() -> None:
    (rule,) = rendered(alert(dashboard="board", dashboard_panel="Error rate"))
    assert rule["annotations"]["dashboard_url"] == f"{URL}/d/board?viewPanel=7"


def test_a_link_sets_every_variable_in_order_then_opens_the_panel() -> None:
    (rule,) = rendered(
        alert(
            dashboard="board",
            dashboard_panel="Error rate",
            dashboard_variables={"tenant": "{{ $labels.tenant_id }}", "route": "all"},
        )
    )
    assert rule["annotations"]["dashboard_url"] == (
        f"{URL}/d/board?var-tenant={{{{ $labels.tenant_id }}}}&var-route=all&viewPanel=7"
    )


def test_a_link_to_a_whole_dashboard_still_sets_its_variables() -> None:
    """`dashboard_variables` is what makes a per-tenant alert open its own tenant: without a panel too."""
    (rule,) = rendered(alert(dashboard="board", dashboard_variables={"tenant": "{{ $labels.tenant_id }}"}))
    assert rule["annotations"]["dashboard_url"] == f"{URL}/d/board?var-tenant={{{{ $labels.tenant_id }}}}"
    (plain,) = rendered(alert(dashboard="board"))
    assert plain["annotations"]["dashboard_url"] == f"{URL}/d/board"


def test_an_alert_without_a_dashboard_has_no_dashboard_link() -> None:
    (rule,) = rendered(alert())
    assert rule["annotations"] == {
        "summary": "s",
        "description": "{{ $value }}",
        "runbook_url": "README.md#runbook-burning",
    }


def test_a_link_to_a_dashboard_the_project_lacks_names_the_alert_and_the_uid() -> None:
    with pytest.raises(DefinitionError) as refused:
        rendered(alert(alert="Lost", dashboard="nowhere"))
    assert "alert Lost links to unknown dashboard 'nowhere'" in str(refused.value)


def test_a_link_to_a_panel_the_dashboard_lacks_names_the_alert_and_the_panel() -> None:
    with pytest.raises(DefinitionError) as refused:
        rendered(alert(alert="Lost", dashboard="board", dashboard_panel="Latency"))
    assert "alert Lost links to panel 'Latency', which the dashboard lacks" in str(refused.value)


def test_the_runbook_link_is_the_runbook_url_and_the_anchor() -> None:
    group = RuleGroup(name="g", interval="1m", alerts=(alert(),))
    document = rules_document([group], DOCUMENTS, URL, runbook_url="https://docs.example.com/runbooks")
    assert document["groups"][0]["rules"][0]["annotations"]["runbook_url"] == (
        "https://docs.example.com/runbooks#runbook-burning"
    )


def test_an_alert_carries_its_severity_beside_its_own_labels_and_its_for() -> None:
    (rule,) = rendered(alert(severity="page", labels={"signal": "span_calls"}, duration="15m"))
    assert rule["labels"] == {"severity": "page", "signal": "span_calls"}
    assert rule["for"] == "15m"


def test_an_alert_without_a_for_fires_at_once() -> None:
    """Prometheus' own default: an alert with no `for` fires at the first evaluation its expr holds."""
    (rule,) = rendered(alert())
    assert rule["for"] == "0s"


def test_groups_keep_their_order_and_recording_rules_come_before_alerts() -> None:
    """An alert reading a series recorded in its own group reads this evaluation's sample."""
    first = RuleGroup(name="first", interval="30s", recording=(recording("a:b:c"), recording("a:b:d")))
    second = RuleGroup(name="second", interval="1m", recording=(recording("x:y:z"),), alerts=(alert(),))
    groups = rules_document([first, second], DOCUMENTS, URL)["groups"]
    assert [(g["name"], g["interval"]) for g in groups] == [("first", "30s"), ("second", "1m")]
    assert [r.get("record") or r.get("alert") for r in groups[0]["rules"]] == ["a:b:c", "a:b:d"]
    assert [r.get("record") or r.get("alert") for r in groups[1]["rules"]] == ["x:y:z", "Burning"]


def test_a_recording_rule_writes_its_labels_and_only_when_it_has_some() -> None:
    assert recording("a:b:c").document() == {"record": "a:b:c", "expr": "sum(up)"}
    labelled = recording("a:b:c", labels={"tenant_id": "__all__"})
    assert labelled.document() == {"record": "a:b:c", "expr": "sum(up)", "labels": {"tenant_id": "__all__"}}


def test_a_label_a_recording_rule_sets_is_a_label_of_its_series() -> None:
    """The `tenant_id="__all__"` row is tenant-scoped through its rule's label, not through its expr."""
    rule = recording("tenant_id:x:sum", labels={"tenant_id": "__all__"})
    assert "tenant_id" in rule.series_labels
    assert rule.tenant_scoped


def test_recorded_series_keeps_the_first_rule_of_a_name() -> None:
    first = recording("tenant_id:x:sum", expr="sum by (tenant_id) (x)")
    second = recording("tenant_id:x:sum", expr="sum(x)", labels={"tenant_id": "__all__"})
    groups = (
        RuleGroup(name="a", interval="30s", recording=(first,)),
        RuleGroup(name="b", interval="30s", recording=(second,)),
    )
    assert recorded_series(groups)["tenant_id:x:sum"] is first


@pytest.mark.parametrize("duration", ["5minutes", "5m ", "1.5h", "", "m", "5M"])
def test_a_for_that_is_not_a_prometheus_duration_is_refused(duration: str) -> None:
    with pytest.raises(ValidationError, match="not a Prometheus duration"):
        alert(duration=duration)


@pytest.mark.parametrize("duration", ["0s", "90s", "1h30m", "250ms", "2d", "1w"])
def test_a_prometheus_duration_is_accepted(duration: str) -> None:
    assert alert(duration=duration).duration == duration


@pytest.mark.parametrize("interval", ["2m29", "1.5m", "2m29sec"])
def test_a_group_interval_that_is_not_a_prometheus_duration_is_refused(interval: str) -> None:
    with pytest.raises(ValidationError, match="not a Prometheus duration"):
        RuleGroup(name="g", interval=interval)
