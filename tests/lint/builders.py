"""Small, deliberately broken definitions for the lint rule tests."""

from __future__ import annotations

import grafanalib.core as g

from datasources import DATASOURCES, PROMETHEUS
from machinery import queries as q
from machinery.datasource_model import Datasource
from machinery.definitions import DashboardDefinition, Folder
from machinery.grafanalib_ext import DatasourceRef
from machinery.lint import Finding, LintContext, Rule
from machinery.style import PanelSpec, Row, dashboard, prom, timeseries
from rules import RULE_GROUPS
from telemetry.contract import SOCKETIO_CONNECTIONS

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


def context(*dashboards: DashboardDefinition, datasources: list[Datasource] | None = None) -> LintContext:
    return LintContext(
        list(dashboards), datasources if datasources is not None else list(DATASOURCES), list(RULE_GROUPS)
    )


def findings(
    rule: Rule, *dashboards: DashboardDefinition, datasources: list[Datasource] | None = None
) -> list[Finding]:
    return check(rule, context(*dashboards, datasources=datasources))


def check(rule: Rule, lint_context: LintContext) -> list[Finding]:
    return sorted(rule.check(lint_context), key=Finding.sort_key)


def raw(text: str) -> q.PromQL:
    """A hand-written expression, bypassing the builders (what a careless definition could do)."""
    return q.PromQL(text, ())
