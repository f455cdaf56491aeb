"""The rule group derived from the dashboards' queries: every rule a query carries is written once,
a hand-written twin is not duplicated, and two rules for one series are refused with both places named."""

from __future__ import annotations

from collections.abc import Callable

import grafanalib.core as g
import pytest

from config import CONFIG
from dashboards_as_code import queries as q
from dashboards_as_code.defaults import ALL_TENANTS, DERIVED_GROUP_SUFFIX
from dashboards_as_code.definitions.derived_rules import derived_rule_group, with_derived_rules
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import RecordingRule, RuleGroup
from dashboards_as_code.definitions.types import DashboardDefinition
from dashboards_as_code.errors import DefinitionError
from dashboards_as_code.panels.grafanalib_ext import LokiTarget
from dashboards_as_code.panels.style import PanelSpec, logs, loki
from dashboards_as_code.render.documents import build_documents
from datasources import LOKI
from prometheus_rules import RULE_GROUPS
from telemetry.contract import (
    BACKEND_LOGS,
    SERVER_SPANS_ONLY,
    SOCKETIO_CONNECTIONS,
    STATUS_CODE_ERROR,
    TENANT_SPAN_CALLS,
    WHATSAPP_MESSAGES_SENT,
)
from tests.conftest import REPO
from tests.lint.builders import board, panel

FAILED = q.eq("status_code", STATUS_CODE_ERROR)


def _rules(group: RuleGroup | None) -> list[tuple[str, dict[str, str], str]]:
    assert group is not None
    return [(r.record, dict(r.labels), r.expr.text) for r in group.recording]


def test_the_project_writes_every_rule_its_queries_carry() -> None:
    """Loaded as `build` loads it, the project's rule file has each rule a Prometheus target needs."""
    project = load_project(REPO)
    rules = build_documents(project).rules
    assert rules is not None
    written = [
        (r["record"], r.get("labels", {}), r["expr"])
        for g in rules["groups"]
        for r in g["rules"]
        if "record" in r
    ]
    needed = [
        (recording.record, dict(recording.labels), recording.expr.text)
        for definition in project.dashboards
        for item in definition.dashboard.panels
        for target in getattr(item, "targets", None) or []
        for recording in getattr(target.expr, "recordings", ())
    ]
    assert needed, "no dashboard query carries a recording rule"
    for rule in needed:
        assert written.count(rule) == 1, rule
    names = [g["name"] for g in rules["groups"]]
    assert f"{CONFIG.name}{DERIVED_GROUP_SUFFIX}" in names and len(names) == len(set(names))


def test_rules_shared_by_panels_are_written_once() -> None:
    definition = board(
        panel("A", expr=q.tenant_sum(WHATSAPP_MESSAGES_SENT)),
        panel("B", expr=q.ratio(q.tenant_sum(WHATSAPP_MESSAGES_SENT), q.tenant_sum(WHATSAPP_MESSAGES_SENT))),
    )
    rules = _rules(derived_rule_group("p", [definition], []))
    assert [(record, labels) for record, labels, _ in rules] == [
        ("tenant_id:tiktickets_whatsapp_messages_sent:rate5m", {}),
        ("tenant_id:tiktickets_whatsapp_messages_sent:rate5m", {"tenant_id": ALL_TENANTS}),
    ]


def test_panels_in_a_collapsed_row_count_too() -> None:
    definition = board(panel("A", expr=q.tenant_sum(WHATSAPP_MESSAGES_SENT)))
    row, *panels = definition.dashboard.panels
    row.panels, row.collapsed = panels, True
    definition.dashboard.panels = [row]
    assert len(_rules(derived_rule_group("p", [definition], []))) == 2


def _log_panel() -> PanelSpec:
    """A Loki logs panel: its target is LogQL, which records nothing."""
    return logs(
        "Recent logs",
        description="test panel",
        datasource=LOKI.ref,
        targets=[loki(q.log_lines(BACKEND_LOGS))],
    )


def _plain_string_panel() -> PanelSpec:
    """A panel whose target is grafanalib's own, its query a plain string (no PromQL object)."""
    spec = panel("Raw")
    spec.panel.targets = [g.Target(expr="sum(up)", refId="A")]
    return spec


@pytest.mark.parametrize("first", [_log_panel, _plain_string_panel], ids=["logql", "plain string"])
def test_a_panel_after_one_without_promql_still_gets_its_rules(first: Callable[[], PanelSpec]) -> None:
    """A dashboard whose first panel's query is not PromQL (a logs panel's LogQL, a plain string)
    still has the rules of a later `tenant_sum` panel derived: without them Prometheus records
    nothing and that panel reads series that do not exist. (Planted-bug sample 14, m3 M12)"""
    later = q.tenant_sum(WHATSAPP_MESSAGES_SENT)
    definition = board(first(), panel("Sent", expr=later))
    group = derived_rule_group("p", [definition], [])
    assert group is not None, "no rule derived: the 'Sent' panel reads series nobody records"
    rules = _rules(group)
    assert [(record, labels) for record, labels, _ in rules] == [
        ("tenant_id:tiktickets_whatsapp_messages_sent:rate5m", {}),
        ("tenant_id:tiktickets_whatsapp_messages_sent:rate5m", {"tenant_id": ALL_TENANTS}),
    ]
    assert rules == [(r.record, dict(r.labels), r.expr.text) for r in later.recordings]


def test_no_query_needs_a_rule_no_group() -> None:
    assert derived_rule_group("p", [board(panel("A"))], []) is None
    assert with_derived_rules("p", [board(panel("A"))], list(RULE_GROUPS)) == list(RULE_GROUPS)


def test_a_hand_written_identical_rule_is_not_duplicated() -> None:
    expr = q.tenant_sum(SOCKETIO_CONNECTIONS)
    hand = RuleGroup(name="hand", interval="30s", recording=tuple(_as_rules(expr)))
    assert derived_rule_group("p", [board(panel("A", expr=expr))], [hand]) is None
    # Only the per-tenant rule by hand: its twin is still derived.
    half = RuleGroup(name="hand", interval="30s", recording=tuple(_as_rules(expr))[:1])
    assert [
        labels for _, labels, _ in _rules(derived_rule_group("p", [board(panel("A", expr=expr))], [half]))
    ] == [{"tenant_id": ALL_TENANTS}]


def _as_rules(expr: q.PromQL) -> list[RecordingRule]:
    return [
        RecordingRule(
            record=r.record,
            expr=r.expr,
            grafana_unit=r.grafana_unit,
            histogram_unit=r.histogram_unit,
            labels=dict(r.labels),
        )
        for r in expr.recordings
    ]


def _definition(uid: str, *exprs: q.PromQL) -> DashboardDefinition:
    return board(*(panel(f"{uid} panel {i}", expr=e) for i, e in enumerate(exprs)), uid=uid)


def test_two_panels_that_need_one_series_recorded_differently_are_refused() -> None:
    servers = q.tenant_sum(TENANT_SPAN_CALLS, FAILED, where=(SERVER_SPANS_ONLY,))
    every_span = q.tenant_sum(TENANT_SPAN_CALLS, FAILED)
    with pytest.raises(DefinitionError) as refused:
        derived_rule_group("p", [_definition("one", servers), _definition("two", every_span)], [])
    error = refused.value
    assert (error.location.dashboard, error.location.panel) == ("two", "two panel 0")
    assert "panel 'one panel 0' (query A) of dashboard 'one'" in error.message
    assert "panel 'two panel 0' (query A) of dashboard 'two'" in error.message
    assert "tenant_id_status_code:tenant_span_metrics_calls:rate5m" in error.message
    assert 'span_kind="SPAN_KIND_SERVER"' in error.message and "where=" in error.message


def test_a_hand_written_rule_with_another_expression_is_refused() -> None:
    expr = q.tenant_sum(SOCKETIO_CONNECTIONS)
    (per_tenant, _) = _as_rules(expr)
    other = per_tenant.model_copy(
        update={"expr": q.PromQL("max by (tenant_id) (tiktickets_socketio_connections)", ())}
    )
    hand = RuleGroup(name="hand-written", interval="30s", recording=(other,))
    with pytest.raises(DefinitionError) as refused:
        derived_rule_group("p", [_definition("board", expr)], [hand])
    assert refused.value.location.panel == "board panel 0"
    assert "'hand-written'" in refused.value.message and "max by (tenant_id)" in refused.value.message


def test_a_hand_written_group_may_not_take_the_derived_groups_name() -> None:
    taken = RuleGroup(name=f"p{DERIVED_GROUP_SUFFIX}", interval="30s")
    with pytest.raises(DefinitionError, match="the name of the group derived"):
        derived_rule_group("p", [_definition("board", q.tenant_sum(SOCKETIO_CONNECTIONS))], [taken])


def test_a_logql_query_before_a_promql_query_in_one_panel_does_not_hide_the_promql_querys_rules() -> None:
    """A mixed panel (Grafana's `-- Mixed --` datasource) may list a Loki query first: the Prometheus
    query after it still reads its recorded series, so its rule and the All row's are derived."""
    definition = board(panel("Mixed", expr=q.tenant_sum(WHATSAPP_MESSAGES_SENT)))
    _, mixed = definition.dashboard.panels
    logs = LokiTarget(expr=q.LogQL('{service_name="tiktickets-backend"}', ()), ref_id="A")
    (metrics,) = mixed.targets
    metrics.ref_id = "B"
    mixed.targets = [logs, metrics]
    assert [(record, labels) for record, labels, _ in _rules(derived_rule_group("p", [definition], []))] == [
        ("tenant_id:tiktickets_whatsapp_messages_sent:rate5m", {}),
        ("tenant_id:tiktickets_whatsapp_messages_sent:rate5m", {"tenant_id": ALL_TENANTS}),
    ]


def test_a_conflict_points_at_the_file_of_the_dashboard_whose_query_clashes() -> None:
    """`check` prints a problem at its file, so the person knows which definition to open: a query
    that needs a series recorded apart from another dashboard's, or from a hand-written rule, is
    located in that query's dashboard file (`dashboards/<name>.py`), not nowhere."""
    servers = q.tenant_sum(TENANT_SPAN_CALLS, FAILED, where=(SERVER_SPANS_ONLY,))
    every_span = q.tenant_sum(TENANT_SPAN_CALLS, FAILED)
    with pytest.raises(DefinitionError) as between_dashboards:
        derived_rule_group("p", [_definition("one", servers), _definition("two", every_span)], [])
    assert between_dashboards.value.location.file == "dashboards/two.py"
    hand = RuleGroup(name="hand", interval="30s", recording=tuple(_as_rules(servers)))
    with pytest.raises(DefinitionError) as with_a_hand_written_rule:
        derived_rule_group("p", [_definition("three", every_span)], [hand])
    assert with_a_hand_written_rule.value.location.file == "dashboards/three.py"
    assert "dashboards/three.py" in str(with_a_hand_written_rule.value)


def test_the_derived_group_comes_after_the_hand_written_groups_in_their_order() -> None:
    """The rule file lists the hand-written groups as `prometheus_rules` defines them, then the derived
    one: adding a dashboard query that needs a rule appends to the file instead of moving every
    hand-written group (a reviewer's diff of the committed rules shows only what was added)."""
    hand = list(RULE_GROUPS)
    groups = with_derived_rules("p", [_definition("board", q.tenant_sum(SOCKETIO_CONNECTIONS))], hand)
    assert [g.name for g in groups] == [*(g.name for g in hand), f"p{DERIVED_GROUP_SUFFIX}"]
