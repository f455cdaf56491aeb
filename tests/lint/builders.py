"""Small, deliberately broken definitions for the lint rule tests."""

from __future__ import annotations

import grafanalib.core as g

from datasources import DATASOURCES, PROMETHEUS
from machinery import queries as q
from machinery.definitions import DashboardDefinition, Folder
from machinery.grafanalib_ext import DatasourceRef
from machinery.lint import Finding, LintContext, Rule
from machinery.style import PanelSpec, Row, dashboard, prom, timeseries
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


def findings(rule: Rule, *dashboards: DashboardDefinition, datasources: list | None = None) -> list[Finding]:  # type: ignore[type-arg]
    context = LintContext(list(dashboards), datasources if datasources is not None else list(DATASOURCES))
    return sorted(rule.check(context), key=Finding.sort_key)
