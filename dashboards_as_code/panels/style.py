"""House style: panel helpers and the grid layout, so a dashboard definition reads like configuration.

Every helper insists on a description and a unit (a panel without them is the first thing an
on-call engineer curses), fills in the options grafanalib gets wrong or leaves out (thresholds as
steps, no `maxDataPoints: 100`, log details on), and leaves placement to `dashboard()`, which packs
panels left to right in rows of 24 columns.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grafanalib.core as g

from dashboards_as_code.defaults import DASHBOARD_TIME_FROM, MANAGED_TAG, TENANT_LABEL, TENANT_VARIABLE
from dashboards_as_code.definitions.datasource import DatasourceRef
from dashboards_as_code.definitions.types import DashboardDefinition, Folder, SectionsInV2
from dashboards_as_code.panels.grafanalib_ext import BarGauge, LokiTarget, PrometheusTarget, QueryVariable
from dashboards_as_code.queries import LogQL, PromQL

GRID_COLUMNS = 24

# Grafana unit ids used by the definitions (names that say what they mean).
REQUESTS_PER_SECOND = "reqps"
RATIO_AS_PERCENT = "percentunit"
SECONDS = "s"
COUNT = "short"


def explore_link(title: str, datasource: DatasourceRef, query: dict[str, Any]) -> dict[str, Any]:
    """A dashboard link that opens Explore on `datasource` with `query`, over the dashboard's time range.

    Explore reads its state from the `panes` parameter (JSON, URL-encoded); `$`, `{` and `}` stay as
    they are, so Grafana still replaces the dashboard's variables and `${__from}`/`${__to}` in it
    when the link is clicked."""
    pane = {
        "datasource": datasource.uid,
        "queries": [{"refId": "A", "datasource": datasource.to_json_data(), **query}],
        "range": {"from": "${__from}", "to": "${__to}"},
    }
    panes = urllib.parse.quote(json.dumps({"link": pane}, separators=(",", ":")), safe="${}")
    return {
        "title": title,
        "type": "link",
        "url": f"/explore?schemaVersion=1&orgId=1&panes={panes}",
        "includeVars": False,
        "keepTime": False,
        "targetBlank": True,
        "icon": "external link",
        "tooltip": title,
        "asDropdown": False,
        "tags": [],
    }


def dashboard_link(title: str, uid: str, *, tooltip: str, include_vars: bool = False) -> dict[str, Any]:
    """A dashboard link to another dashboard of the project, over the same time range; with
    `include_vars`, the variables go along (`$tenant` too: the target opens on the same tenants)."""
    return {
        "title": title,
        "type": "link",
        "url": f"/d/{uid}",
        "includeVars": include_vars,
        "keepTime": True,
        "targetBlank": False,
        "icon": "dashboard",
        "tooltip": tooltip,
        "asDropdown": False,
        "tags": [],
    }


def tenant_link(dashboard_uid: str, title: str = "Open this tenant's dashboard") -> dict[str, Any]:
    """A field data link from a series labelled tenant_id to the dashboard `dashboard_uid`, on that
    tenant (`var-tenant`) over the same time range (`${__url_time_range}`, which Grafana fills)."""
    return {
        "title": title,
        "url": (
            f"/d/{dashboard_uid}?var-{TENANT_VARIABLE}=${{__field.labels.{TENANT_LABEL}}}&${{__url_time_range}}"
        ),
        "targetBlank": False,
    }


def thresholds(base: str = "green", *levels: tuple[float, str]) -> list[dict[str, Any]]:
    """Threshold steps: the base colour from -inf, then `(value, colour)` upwards."""
    values = [v for v, _ in levels]
    if values != sorted(values):
        raise ValueError(f"threshold levels must increase: {values}")
    return [{"color": base, "value": None}] + [{"color": c, "value": v} for v, c in levels]


def prom(
    expr: PromQL, legend: str = "__auto", *, exemplar: bool = False, instant: bool = False
) -> PrometheusTarget:
    return PrometheusTarget(expr=expr, legend=legend, exemplar=exemplar, instant=instant)


def loki(expr: LogQL, *, max_lines: int | None = None) -> LokiTarget:
    return LokiTarget(expr=expr, max_lines=max_lines)


Target = PrometheusTarget | LokiTarget


@dataclass
class PanelSpec:
    """A panel before placement: grafanalib object plus its size (or a fixed position)."""

    panel: g.Panel
    width: int
    height: int
    grid: g.GridPos | None = None

    def __post_init__(self) -> None:
        # Checked here, where the panel is named, not later where the layout's arithmetic would fail.
        title = getattr(self.panel, "title", "?")
        for name, value, most in (("width", self.width, GRID_COLUMNS), ("height", self.height, 100)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
                raise ValueError(
                    f"panel {title!r}: {name} must be a whole number from 1 to {most}, got {value!r}"
                )


def _bind(targets: Sequence[Target], datasource: DatasourceRef) -> list[Target]:
    """Give each target the panel's datasource and a refId A, B, C... (one datasource per panel)."""
    for index, target in enumerate(targets):
        target.datasource = datasource
        target.ref_id = chr(ord("A") + index)
    return list(targets)


def timeseries(
    title: str,
    *,
    description: str,
    unit: str,
    datasource: DatasourceRef,
    targets: Sequence[PrometheusTarget],
    steps: list[dict[str, Any]] | None = None,
    width: int = 12,
    height: int = 8,
    grid: g.GridPos | None = None,
    min_value: float | None = 0,
) -> PanelSpec:
    panel = g.TimeSeries(
        title=title,
        description=description,
        dataSource=datasource,
        targets=_bind(targets, datasource),
        unit=unit,
        maxDataPoints=None,
        legendDisplayMode="table",
        legendPlacement="bottom",
        legendCalcs=["mean", "max", "lastNotNull"],
        tooltipMode="multi",
        tooltipSort="desc",
        fillOpacity=10,
        valueMin=min_value,
        extraJson={
            "fieldConfig": {
                "defaults": {
                    "thresholds": {"mode": "absolute", "steps": steps or thresholds()},
                    "custom": {"thresholdsStyle": {"mode": "dashed" if steps else "off"}},
                }
            },
            "options": {"legend": {"showLegend": True}},  # required by Grafana's schema; grafanalib omits it
        },
    )
    return PanelSpec(panel, width, height, grid)


def stat(
    title: str,
    *,
    description: str,
    unit: str,
    datasource: DatasourceRef,
    targets: Sequence[PrometheusTarget],
    steps: list[dict[str, Any]] | None = None,
    width: int = 6,
    height: int = 4,
    grid: g.GridPos | None = None,
) -> PanelSpec:
    panel = g.Stat(
        title=title,
        description=description,
        dataSource=datasource,
        targets=_bind(targets, datasource),
        format=unit,
        thresholds=steps or thresholds(),
        reduceCalc="lastNotNull",
        colorMode="value",
        graphMode="area",
        textMode="value",
        maxDataPoints=None,
        # Required by Grafana's stat Options type (grafanalib 0.7.1 predates them); Grafana's defaults.
        extraJson={
            "options": {"percentChangeColorMode": "standard", "showPercentChange": False, "wideLayout": True}
        },
    )
    return PanelSpec(panel, width, height, grid)


def bar_gauge(
    title: str,
    *,
    description: str,
    unit: str,
    datasource: DatasourceRef,
    targets: Sequence[PrometheusTarget],
    steps: list[dict[str, Any]] | None = None,
    width: int = 12,
    height: int = 8,
    grid: g.GridPos | None = None,
    data_links: Sequence[dict[str, Any]] = (),
) -> PanelSpec:
    # mypy cannot see the attrs fields BarGauge inherits from the untyped grafanalib Panel.
    panel = BarGauge(  # type: ignore[call-arg]
        title=title,
        description=description,
        dataSource=datasource,
        targets=_bind(targets, datasource),
        unit=unit,
        thresholds=steps or thresholds(),
        maxDataPoints=None,
        data_links=list(data_links),
    )
    return PanelSpec(panel, width, height, grid)


def logs(
    title: str,
    *,
    description: str,
    datasource: DatasourceRef,
    targets: Sequence[LokiTarget],
    width: int = 24,
    height: int = 10,
    grid: g.GridPos | None = None,
) -> PanelSpec:
    panel = g.Logs(
        title=title,
        description=description,
        dataSource=datasource,
        targets=_bind(targets, datasource),
        showTime=True,
        wrapLogMessages=True,
        sortOrder="Descending",
        enableLogDetails=True,  # derived-field links (trace_id -> Jaeger) live in log details
        dedupStrategy="none",
        maxDataPoints=None,
        extraJson={"options": {"showLogContextToggle": False}},  # required by Grafana's logs Options type
    )
    return PanelSpec(panel, width, height, grid)


@dataclass
class Row:
    title: str
    panels: list[PanelSpec] = field(default_factory=list)


def _place(rows: Sequence[Row]) -> list[g.Panel]:
    """Row headers full width, panels packed left to right, wrapping at 24 columns."""
    placed: list[g.Panel] = []
    y = 0
    for row in rows:
        placed.append(g.RowPanel(title=row.title, gridPos=g.GridPos(h=1, w=GRID_COLUMNS, x=0, y=y)))
        y += 1
        x, line_height = 0, 0
        for spec in row.panels:
            if spec.grid is not None:
                spec.panel.gridPos = spec.grid
                placed.append(spec.panel)
                continue
            if x + spec.width > GRID_COLUMNS:
                x, y, line_height = 0, y + line_height, 0
            spec.panel.gridPos = g.GridPos(h=spec.height, w=spec.width, x=x, y=y)
            placed.append(spec.panel)
            x += spec.width
            line_height = max(line_height, spec.height)
        y += line_height
    return placed


def dashboard(
    *,
    uid: str,
    title: str,
    folder: Folder,
    description: str,
    rows: Sequence[Row],
    variables: Sequence[QueryVariable] = (),
    tags: Sequence[str] = (),
    refresh: str = "30s",
    time_from: str = DASHBOARD_TIME_FROM,
    links: Sequence[dict[str, Any]] = (),
    sections_in_v2: SectionsInV2 = "rows",
) -> DashboardDefinition:
    """A dashboard of `rows`. `sections_in_v2="tabs"` shows them as tabs in schema v2 (Grafana 13),
    for a dashboard of many sections; provisioning files keep the rows either way."""
    board = g.Dashboard(
        title=title,
        uid=uid,
        description=description,
        tags=sorted({MANAGED_TAG, *tags}),
        panels=_place(rows),
        templating=g.Templating(list=list(variables)),
        time=g.Time(time_from, "now"),
        refresh=refresh,
        timezone="browser",
        graphTooltip=1,  # shared crosshair: lining up latency spikes with error spikes is the point
        editable=False,
        links=list(links),
    ).auto_panel_ids()
    return DashboardDefinition(folder=folder, dashboard=board, sections_in_v2=sections_in_v2)
