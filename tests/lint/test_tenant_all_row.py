"""tenant-all-row: a `$tenant` filter on a series without an `__all__` row is refused where All is `__all__`,
with the builder call that fixes it; and a series with that row is refused where All is a regex (`.*`)."""

from __future__ import annotations

import dataclasses
import sys

import pytest

import telemetry.contract as contract_module
from dashboards_as_code import queries as q
from dashboards_as_code.defaults import ALL_TENANTS, TENANT_VARIABLE
from dashboards_as_code.definitions.prometheus_rule import RecordingRule, RuleGroup
from dashboards_as_code.definitions.types import DashboardDefinition
from dashboards_as_code.lint import Finding, LintContext
from dashboards_as_code.lint.checks.tenant_all_row import CHECK
from dashboards_as_code.panels.grafanalib_ext import QueryVariable
from dashboards_as_code.panels.style import Row, dashboard
from dashboards_as_code.promql.tree import grouping_labels, parse, vector_selectors
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from datasources import PROMETHEUS
from telemetry.contract import (
    SOCKETIO_CONNECTIONS,
    TENANT_SPAN_CALLS,
    WHATSAPP_MESSAGES_SENT,
    WHATSAPP_SESSIONS_ACTIVE,
)
from tests.lint.builders import FOLDER, check, context, document, findings, panel, project, raw

UID = "tenants"


def tenant_board(
    *exprs: q.PromQL, all_value: str | None = ALL_TENANTS, uid: str = UID, single: bool = False
) -> DashboardDefinition:
    """A dashboard with a `$tenant` variable (All = `all_value`; or, `single`, one tenant at a time:
    no All, no multi) and one panel per expression."""
    variable = QueryVariable(
        name=TENANT_VARIABLE,
        label="Tenant",
        query=q.label_values(TENANT_SPAN_CALLS, "tenant_id"),
        datasource=PROMETHEUS.ref,
        all_value=all_value,
        multi=not single,
        include_all=not single,
    )
    panels = [panel(f"Panel {i}", expr=expr) for i, expr in enumerate(exprs)]
    definition = dashboard(
        uid=uid,
        title=f"Test {uid}",
        folder=FOLDER,
        description="test",
        rows=[Row("Row", panels)],
        variables=[variable],
    )
    definition.source = f"dashboards/{uid}.py"
    return definition


def old_recipe() -> q.PromQL:
    """The README's former recipe: a contract signal with the tenant filter, straight from
    dashboards_as_code.queries."""
    return q.sum_by(q.rate(q.select(WHATSAPP_MESSAGES_SENT), "5m"))


def test_real_overview_passes(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(CHECK, overview) == []


def test_the_old_recipe_is_refused_with_the_builder_that_fixes_it() -> None:
    (finding,) = findings(CHECK, tenant_board(old_recipe()))
    assert (finding.location.dashboard, finding.location.panel) == (UID, "Panel 0")
    assert finding.location.file == f"dashboards/{UID}.py"
    assert finding.message.startswith('query A applies tenant_id=~"$tenant" to the raw series ')
    assert "tiktickets_whatsapp_messages_sent_total" in finding.message
    assert f"$tenant = {ALL_TENANTS}" in finding.message
    assert "q.tenant_sum(WHATSAPP_MESSAGES_SENT)" in finding.message


def test_the_fix_names_the_signal_after_a_later_load_replaced_the_contract_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another project's load (a test's copy, `--project`, doctor) replaces or drops the contract module
    in sys.modules; the name to paste was read when this project loaded, so it survives that."""
    monkeypatch.delitem(sys.modules, "telemetry.contract")
    (finding,) = findings(CHECK, tenant_board(old_recipe()))
    assert "q.tenant_sum(WHATSAPP_MESSAGES_SENT)" in finding.message


def _suggested(finding: Finding) -> q.PromQL:
    """The builder call the message proposes, evaluated as a definition would write it."""
    call = finding.message.split("read it with ", 1)[1].split(" from dashboards_as_code.define", 1)[0]
    value = eval(call, {"q": q, **vars(contract_module)})  # our own message, evaluated as a definition
    assert isinstance(value, q.PromQL), call
    return value


def test_the_proposed_fix_passes_for_matchers_by_and_top_k() -> None:
    by_number = q.sum_by(
        q.rate(q.select(WHATSAPP_MESSAGES_SENT, q.eq("whatsapp_id", "wa-1")), "5m"), "whatsapp_id"
    )
    per_tenant = q.topk(7, q.sum_by(q.rate(q.select(WHATSAPP_MESSAGES_SENT), "5m"), "tenant_id"))
    gauge = q.sum_by(q.select(WHATSAPP_SESSIONS_ACTIVE, q.ne("whatsapp_id", "")))
    refused = findings(CHECK, tenant_board(old_recipe(), by_number, per_tenant, gauge))
    assert [f.location.panel for f in refused] == ["Panel 0", "Panel 1", "Panel 2", "Panel 3"]
    fixes = [_suggested(f) for f in refused]
    assert "by=(" in refused[1].message and "q.tenant_topk(7, " in refused[2].message
    assert findings(CHECK, tenant_board(*fixes)) == []
    # Each fix selects what the refused query selected: its matchers and its grouping.
    originals = [old_recipe(), by_number, per_tenant, gauge]
    for original, fix in zip(originals, fixes, strict=True):
        assert _selection(fix) == _selection(original), (original.text, fix.text)
    assert _grouping(fixes[1]) == _grouping(by_number) == {"whatsapp_id"}


def _selection(expr: q.PromQL) -> set[tuple[str, str, str]]:
    """The matchers of an expression's selectors, less the signal's identity and the tenant filter."""
    identity = {("job", "MatchOp.Equal", "tiktickets/tiktickets-backend")}
    return {
        (m.name, str(m.op), m.value)
        for selector in vector_selectors(parse(expr.text))
        for m in selector.matchers.matchers
        if m.name != "tenant_id"
    } - identity


def _grouping(expr: q.PromQL) -> set[str]:
    grouping = grouping_labels(parse(expr.text))
    return set(grouping[1]) if grouping else set()


def test_the_builder_passes_at_all() -> None:
    built = (q.tenant_sum(WHATSAPP_MESSAGES_SENT), q.tenant_topk(5, SOCKETIO_CONNECTIONS))
    assert findings(CHECK, tenant_board(*built)) == []


def test_the_matcher_may_be_spelled_with_braces() -> None:
    expr = raw('sum(tiktickets_socketio_connections{tenant_id=~"${tenant}"})')
    (finding,) = findings(CHECK, tenant_board(expr))
    assert (
        "tiktickets_socketio_connections" in finding.message
        and "q.tenant_sum(SOCKETIO_CONNECTIONS)" in finding.message
    )


def test_a_regex_all_value_needs_no_all_row() -> None:
    """With All = `.*` a raw series is right at All: Grafana sends a regex that matches every tenant."""
    assert findings(CHECK, tenant_board(old_recipe(), all_value=".*")) == []
    assert findings(CHECK, tenant_board(old_recipe(), all_value=None)) == []


def test_a_series_with_an_all_row_double_counts_at_a_regex_all_value() -> None:
    (finding,) = findings(CHECK, tenant_board(q.tenant_sum(WHATSAPP_SESSIONS_ACTIVE), all_value=".*"))
    assert "has a tenant_id=\"__all__\" row, but $tenant's All value is '.*'" in finding.message
    assert "all_value=ALL_TENANTS" in finding.message
    # The top-k branches that exclude the All row count nothing twice; its All gate is still wrong at `.*`.
    (topk,) = findings(CHECK, tenant_board(q.tenant_topk(5, SOCKETIO_CONNECTIONS), all_value=".*"))
    assert topk.location.panel == "Panel 0"


def test_a_single_select_variable_may_read_raw_and_recorded_series() -> None:
    """One tenant at a time: the value is a real tenant, never `__all__`, so a raw contract series is
    right (its tenant's series) and a recorded one is read for that tenant's row alone. Even when the
    JSON still carries an `allValue` (as the helper once wrote it for every variable): without
    `includeAll` Grafana never sends it."""
    exprs = (old_recipe(), q.tenant_sum(WHATSAPP_SESSIONS_ACTIVE), q.tenant_topk(5, SOCKETIO_CONNECTIONS))
    for all_value in (ALL_TENANTS, ".*"):
        definition = tenant_board(*exprs, all_value=all_value, single=True)
        lint = context(definition)
        (variable,) = document(lint, definition)["templating"]["list"]
        assert (variable["includeAll"], variable["multi"]) == (False, False)
        variable["allValue"] = all_value
        assert check(CHECK, lint) == [], all_value


def _with_rules(definition: DashboardDefinition, *rules: RecordingRule) -> LintContext:
    full = project(definition)
    extra = RuleGroup(name="extra", interval="30s", recording=rules)
    full = dataclasses.replace(full, rule_groups=[*full.rule_groups, extra])
    documents = dataclasses.replace(build_documents(dataclasses.replace(full, rule_groups=[])), project=full)
    return LintContext(documents, render_outputs(documents))


def test_a_recorded_series_without_its_twin_is_refused() -> None:
    rule = RecordingRule(
        record="tenant_id:tiktickets_socketio_connections:max",
        expr=q.PromQL(
            "max by (tenant_id) (tiktickets_socketio_connections)",
            (SOCKETIO_CONNECTIONS,),
            labels=frozenset({"tenant_id"}),
        ),
        grafana_unit="short",
    )
    definition = tenant_board(q.sum_by(q.select_recorded(rule.record, rule.series_labels)))
    (finding,) = check(CHECK, _with_rules(definition, rule))
    assert (
        "the recorded series tenant_id:tiktickets_socketio_connections:max, whose rule has no"
        in finding.message
    )
    assert (
        "record its __all__ twin" in finding.message
        and "q.tenant_sum(SOCKETIO_CONNECTIONS)" in finding.message
    )
    twin = rule.model_copy(
        update={
            "expr": q.PromQL("max(tiktickets_socketio_connections)", (SOCKETIO_CONNECTIONS,)),
            "labels": {"tenant_id": ALL_TENANTS},
        }
    )
    assert check(CHECK, _with_rules(definition, rule, twin)) == []


def test_a_board_without_a_tenant_variable_is_not_this_checks_business() -> None:
    assert findings(CHECK, context_free_board()) == []


def context_free_board() -> DashboardDefinition:
    definition = tenant_board(old_recipe(), uid="no-variable")
    definition.dashboard.templating.list = []
    return definition


def test_context_of_the_overview_keeps_its_rules(overview) -> None:  # type: ignore[no-untyped-def]
    """The Overview's tenant panels read derived rules: the lint context knows them, with their twins."""
    from dashboards_as_code.definitions.derived_rules import derived_rule_group  # noqa: PLC0415 (this test only)

    lint = context(overview)
    derived = derived_rule_group("p", [overview], [])
    assert derived is not None
    # The records the Overview's queries brought (hand-written per-tenant rules, such as the tenant
    # SLO's hourly rates, are read by no `$tenant` = All panel and have no All row by design).
    tenant_series = {rule.record for rule in derived.recording if lint.catalog[rule.record].tenant_scoped}
    assert tenant_series and all(lint.catalog[name].all_row for name in tenant_series)


@pytest.mark.parametrize(
    "matcher",
    ['tenant_id=~"[[tenant]]"', 'tenant_id=~"${tenant:regex}"', 'tenant_id="$tenant"'],
    ids=["legacy-brackets", "braces-with-format", "equality"],
)
def test_every_spelling_of_the_tenant_filter_is_held_to_the_all_row(matcher: str) -> None:
    """Grafana fills `[[tenant]]` and `${tenant:regex}` like `$tenant`, and a single-value `=` gets the
    same `__all__` at All: each reads the raw series' missing row, and the panel is empty at All."""
    expr = raw(f"sum(tiktickets_socketio_connections{{{matcher}}})")
    (finding,) = findings(CHECK, tenant_board(expr))
    assert "the raw series tiktickets_socketio_connections" in finding.message
    assert "q.tenant_sum(SOCKETIO_CONNECTIONS)" in finding.message


def test_a_selector_that_leaves_out_the_all_row_counts_no_tenant_twice() -> None:
    """At All = `.*`, `tenant_id!="__all__"` next to the tenant filter drops the pre-summed row: each
    tenant is counted once, so nothing is refused; without it the same selector is."""
    summed = q.tenant_sum(WHATSAPP_MESSAGES_SENT)
    assert summed.text.count('tenant_id=~"$tenant"') == 1
    without_row = dataclasses.replace(
        summed,
        text=summed.text.replace('tenant_id=~"$tenant"', f'tenant_id=~"$tenant", tenant_id!="{ALL_TENANTS}"'),
    )
    assert findings(CHECK, tenant_board(without_row, all_value=".*")) == []
    (finding,) = findings(CHECK, tenant_board(summed, all_value=".*"))
    assert "twice the total" in finding.message
