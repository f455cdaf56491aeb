"""Small, deliberately broken definitions for the lint check tests."""

from __future__ import annotations

import dataclasses
from typing import Any

import grafanalib.core as g

import telemetry.contract
from config import CONFIG
from dashboards_as_code import queries as q
from dashboards_as_code.contract.model import TelemetryContract
from dashboards_as_code.definitions.datasource import Datasource, DatasourceRef
from dashboards_as_code.definitions.derived_rules import with_derived_rules
from dashboards_as_code.definitions.loader import CONTRACT_SOURCE, signal_names_of
from dashboards_as_code.definitions.types import DashboardDefinition, Folder, Project
from dashboards_as_code.lint import Check, Finding, LintContext
from dashboards_as_code.panels.style import PanelSpec, Row, dashboard, prom, timeseries
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from datasources import DATASOURCES, PROMETHEUS
from prometheus_rules import ALERT_ROUTING, RULE_GROUPS
from telemetry.contract import CONTRACT, SOCKETIO_CONNECTIONS
from tests.conftest import REPO

FOLDER = Folder(uid="test", title="Test")


def panel(
    title: str,
    *,
    grid: g.GridPos | None = None,
    datasource: DatasourceRef = PROMETHEUS.ref,
    expr: q.PromQL | None = None,
) -> PanelSpec:
    return timeseries(
        title,
        description="test panel",
        unit="short",
        datasource=datasource,
        targets=[prom(expr or q.sum_by(q.select(SOCKETIO_CONNECTIONS)))],
        grid=grid,
    )


def board(*panels: PanelSpec, uid: str = "test-board") -> DashboardDefinition:
    definition = dashboard(
        uid=uid, title=f"Test {uid}", folder=FOLDER, description="test", rows=[Row("Row", list(panels))]
    )
    definition.source = f"dashboards/{uid}.py"
    return definition


def project(
    *dashboards: DashboardDefinition,
    datasources: list[Datasource] | None = None,
    contract: TelemetryContract | None = None,
) -> Project:
    """This repository's project, with the given dashboards (datasources, contract) in place of its own;
    its rule groups, plus the rules those dashboards' queries need, derived as the loader derives them."""
    return Project(
        root=REPO,
        config=CONFIG,
        contract=contract or CONTRACT,
        contract_source=CONTRACT_SOURCE,
        definitions={
            "dashboard": list(dashboards),
            "datasource": datasources if datasources is not None else list(DATASOURCES),
        },
        rule_groups=with_derived_rules(CONFIG.name, list(dashboards), list(RULE_GROUPS)),
        alert_routing=ALERT_ROUTING,
        signal_names=signal_names_of(telemetry.contract),
    )


def context(
    *dashboards: DashboardDefinition,
    datasources: list[Datasource] | None = None,
    contract: TelemetryContract | None = None,
) -> LintContext:
    full = project(*dashboards, datasources=datasources, contract=contract)
    # Alerts link to the Overview's panels: without it the rule file cannot be rendered, so it is left
    # out of the outputs; the checks still know every recorded series (the catalog reads the project).
    linked = {alert.dashboard for group in full.rule_groups for alert in group.alerts} - {None}
    renderable = full if linked <= {d.uid for d in dashboards} else dataclasses.replace(full, rule_groups=[])
    documents = dataclasses.replace(build_documents(renderable), project=full)
    return LintContext(documents, render_outputs(documents))


def document(lint: LintContext, definition: DashboardDefinition) -> dict[str, Any]:
    """The normalised document the checks read for `definition` (tests edit it to plant a fault)."""
    return next(d.document for d in lint.dashboards if d.definition is definition)


def findings(
    check_: Check, *dashboards: DashboardDefinition, datasources: list[Datasource] | None = None
) -> list[Finding]:
    return check(check_, context(*dashboards, datasources=datasources))


def check(check_: Check, lint_context: LintContext) -> list[Finding]:
    return sorted(check_.run(lint_context), key=Finding.sort_key)


def raw(text: str) -> q.PromQL:
    """A hand-written expression, bypassing the builders (what a careless definition could do)."""
    return q.PromQL(text, ())
