"""The classic and the schema v2 form of every dashboard say the same thing (issue 25, item 3).

Every dashboard is rendered twice: `dashboard_document` (Grafana's classic JSON model, the provisioning
file) and `schema_v2.v2_spec` of that document (the `dashboard.grafana.app/v2` spec a push to Grafana 13
sends). This module reads each side with its own small reader into one normalised record per panel,
variable, link, row and annotation, plus the dashboard's own fields, and asserts the two lists are
equal, naming the dashboard and the panel (variable, link) that differs, the field, and both values.

**Written independently of the converter.** Of `kinds/dashboard/schema_v2.py` only its module docstring
was read; its stated choices are the contract: an element is named `panel-<id>`; a panel inside a row
has a `y` counted from the line under the row's header; panels above the first row form a first row
without a header (`hideHeader`); a query's datasource is named by uid (`datasource.name`), its plugin
type is the query's `group`, and a query without its own datasource takes the panel's. Every other
correspondence comes from Grafana's own definitions, cited where it is used:

- TYPES: `@grafana/schema` 13.2.0 as installed, `tools/grafana-schema/node_modules/@grafana/schema/
  dist/types/schema/dashboard/v2/types.spec.gen.d.ts` (V2, line numbers below) and
  `.../dist/types/raw/dashboard/x/types.gen.d.ts` (CLASSIC), with the classic defaults in
  `.../dist/esm/raw/dashboard/x/types.gen.mjs` (CLASSIC-DEFAULTS); docs/grafana-13-facts.md §6 (FACTS)
  summarises the v2 shapes and defaults.
- The enums: CLASSIC declares `VariableHide {dontHide=0, hideLabel=1, hideVariable=2,
  inControlsMenu=3}`, `VariableRefresh {never=0, onDashboardLoad=1, onTimeRangeChanged=2}`,
  `VariableSort {disabled=0, alphabeticalAsc=1, ..., naturalDesc=8}` and `DashboardCursorSync {Off=0,
  Crosshair=1, Tooltip=2}`; V2 spells the same members as its string unions (`VariableHide` l.501,
  `VariableRefresh` l.503, `VariableSort` l.507, `DashboardCursorSync` l.42). So classic number n is
  the v2 string that is the name of CLASSIC's member n: the tables below, checked against both files
  by `test_the_enum_tables_are_grafanas`.
- Where the types leave the v1 -> v2 mapping open, Grafana's own converters and notes say it (found
  with the `search` tool in the code corpus): grafana/grafana
  `public/app/features/dashboard/api/ResponseTransformers.ts` (FE, `ensureV2Response`, commit
  b6c5a18), `apps/dashboard/pkg/migration/conversion/v1beta1_to_v2alpha1.go` (BE, commit 09d59e9) and
  `public/app/features/dashboard/api/V2_TO_V1_CONVERSION_REQUIREMENTS.md` (V2V1, commit 851a83b):
  - a target becomes a `PanelQuery`: `refId` and `hide` (as `hidden`) move up, `datasource` becomes
    the `DataQuery`'s `group` (type) and `datasource.name` (uid), everything else is the query body,
    `DataQuery.spec` (FE `getPanelQueries`: `const {refId, hide, datasource, ...query} = t`; BE
    `transformSingleQuery`); the panel's own datasource has no v2 field: only its queries carry one.
  - panel `type` is `vizConfig.group`, `options` and `fieldConfig` are `vizConfig.spec`'s (V2
    l.125-136), `pluginVersion` is `vizConfig.version`; `cacheTimeout`, `maxDataPoints`, `interval`,
    `hideTimeOverride`, `queryCachingTTL`, `timeFrom`, `timeShift`, `timeCompare` are
    `data.spec.queryOptions` (V2 l.113-123; FE `buildPanelKind`, BE `buildQueryOptions`, which both
    leave out an unset or false/empty one: so do the readers); a transformation `{id, ...}` is
    `{kind: "Transformation", group: id, spec: {disabled, filter, topic, options}}` (V2 l.90-101,
    FACTS §6 on v2 vs v2beta1); a panel link is a `DataLink {title, url, targetBlank?}` (V2 l.62-66).
  - `repeat`, `repeatDirection`, `maxPerRow` are the grid item's `repeat: {mode: "variable", value,
    direction, maxPerRow}` (V2 l.327-332; FE/BE `buildGridItemKind`); an unset direction is `h`
    (CLASSIC-DEFAULTS `defaultPanel.repeatDirection`). A row's `repeat` is the row's
    `RowRepeatOptions` (V2 l.400-403; BE `buildRowKind`).
  - Positions: a panel in a row has `absoluteY = rowY + 1 + relativeY` (V2V1 "Y Position
    Calculation"); a v2 row has no `y`, so the v2 reader places each row header where Grafana does
    when it lays v2 rows out in the classic grid (V2V1 "Collapsed vs Expanded Rows": the row after
    everything above it; a collapsed row's panels take no room); the header-less first row holds
    panels "outside of any row" at absolute positions (V2V1 "Hidden Header Row (First Row Only)").
    The classic side is read as written, so this holds for a classic layout without empty lines
    above a row, which the house grid writes and Grafana's vertical compaction makes of any other.
  - Variables: classic `type` -> v2 kind `query`/`custom`/`constant`/`textbox`/`interval`/
    `datasource`/`adhoc`/`groupby`/`switch` -> `QueryVariable`/`CustomVariable`/`ConstantVariable`/
    `TextVariable`/`IntervalVariable`/`DatasourceVariable`/`AdhocVariable`/`GroupByVariable`/
    `SwitchVariable` (CLASSIC `VariableType`, V2 `VariableKind` l.463; FE `getVariables`, BE
    `transformVariables`). A query variable's `datasource` is its query's `group`/`datasource.name`
    and its `query` the `DataQuery.spec`, a string query as `{"__legacyStringValue": query}` (FE
    `LEGACY_STRING_VALUE_KEY`, BE `buildDataQueryKind`); a datasource variable's `query` is its
    `pluginId`; an unset `current` is `{text: "", value: ""}` and a null text or value "" (FACTS §6
    defaults; BE `buildVariableCurrent`). Each kind is compared on the fields its v2 spec declares
    (V2 l.470-612); what the kind lacks has no v2 place (a custom variable's `regex`, an interval's
    `refresh`, which V2 l.584 fixes to `onTimeRangeChanged` and both converters set regardless).
  - Dashboard: `graphTooltip` -> `cursorSync`, `refresh` -> `timeSettings.autoRefresh`, `time` ->
    `from`/`to`, `timepicker.refresh_intervals`/`hidden`/`nowDelay`/`quick_ranges` ->
    `autoRefreshIntervals`/`hideTimepicker`/`nowDelay`/`quickRanges` (V2 l.716-727 and FACTS §6;
    FE `ensureV2Response`, BE `transformTimeSettings`), unset ones at CLASSIC-DEFAULTS' values
    (`editable` true, `timezone` "browser", `fiscalYearStartMonth` 0) and V2's time defaults (FACTS §6).
    Links keep every field of V2's `DashboardLink` (l.698-711; BE `transformLinks`).
  - Tabs (TABS: grafana/grafana `apps/dashboard/pkg/migration/conversion/v2_to_v1_layout_conversion.md`,
    commit 548e493): a dashboard whose definition asks `sections_in_v2="tabs"` has a `TabsLayout`;
    "each tab becomes an expanded row panel", "panels start at rowY + 1", so the v2 reader reads a tab
    as an expanded row of the same title, its `TabRepeatOptions` (V2 l.458-461) as the row's repeat.

**The planted differences** (`CONVERTER_PLANTS`, `CLASSIC_PLANTS`; each is monkeypatched onto the
renderer a dashboard goes through and must add the named difference to what the comparison says).
In the converter, `schema_v2.v2_spec`'s answer altered as the bug would make it: a panel's `y` not
offset by its row (left absolute), two queries' refIds swapped, the panel's datasource used for a
query with its own, `sort` mapped off by one, a collapsed row's panels dropped, a repeat's direction
lost, a link's `keepTime` dropped, a panel's field overrides dropped. In the classic renderer,
`dashboard_document`'s answer altered: panel ids restarting inside a collapsed row (two panels share
an id, so the v2 form has one element for both), a row's panels drawn on the row's own header line,
and an expanded row's panels kept inside the row (the classic model shows only a collapsed row's
`panels`, V2V1 "Expanded Rows"; the converter leaves them out too, so this one is seen only in the
rows below, which v2 lays out higher than the classic document places them). All eleven fail.

**What it found**, each fixed since in the converter (5ff491a), so the test now passes on them:
- every project dashboard, variable `tenant`: `query.refId` is
  'PrometheusVariableQueryEditor-VariableQuery' in the classic query and absent from v2's
  `DataQuery.spec`; Grafana keeps the whole classic query object as the spec (FE `getVariables`:
  `spec: query`; BE `buildQueryVariable`/`buildDataQueryKind`: `querySpec = q`), so v2 is wrong.
- a query variable whose classic `query` is a string (the fixture's `job`, `instance`): v2's spec is
  `{"query": <string>}`, Grafana's is `{"__legacyStringValue": <string>}` (FE
  `LEGACY_STRING_VALUE_KEY`, BE `buildDataQueryKind`), which its v2 -> v1 path turns back into the
  string (FE `getVariablesV1`); v2 is wrong.
- a custom variable's options (the fixture's `colour`): the classic option 'green' is `selected`,
  v2's options carry no `selected`; V2 `VariableOption.selected?` (l.494-499) has the field and
  Grafana copies it (FE `options: v.options`, BE `buildVariableOptions`); v2 is wrong.
- not a difference between the forms: the classic renderer dropped a row's `repeat`
  (`test_the_fixtures_repeated_row_reaches_the_classic_document` failed; it is kept since). It still
  drops every `maxDataPoints`, set or not (`document.py` `DROPPED_PANEL_FIELDS`, by design), so the
  fixture cannot cover that one: it reaches neither form.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grafanalib.core as g
import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.types import DashboardDefinition, Folder, SectionsInV2
from dashboards_as_code.external_tools import ENGINE_CHECKOUT, GRAFANA_SCHEMA
from dashboards_as_code.kinds.dashboard import document as classic_renderer
from dashboards_as_code.kinds.dashboard import schema_v2
from tests.conftest import REPO
from tests.tooling import require_tool

Record = dict[str, Any]

SCHEMA_TYPES = Path("tools/grafana-schema/node_modules/@grafana/schema/dist/types")
V2_TYPES = SCHEMA_TYPES / "schema/dashboard/v2/types.spec.gen.d.ts"
CLASSIC_TYPES = SCHEMA_TYPES / "raw/dashboard/x/types.gen.d.ts"

HIDE = {0: "dontHide", 1: "hideLabel", 2: "hideVariable", 3: "inControlsMenu"}
"""Classic `hide` -> v2 `VariableHide` (CLASSIC enum `VariableHide`, V2 l.501)."""
REFRESH = {0: "never", 1: "onDashboardLoad", 2: "onTimeRangeChanged"}
"""Classic variable `refresh` -> v2 `VariableRefresh` (CLASSIC enum `VariableRefresh`, V2 l.503)."""
SORT = {
    0: "disabled",
    1: "alphabeticalAsc",
    2: "alphabeticalDesc",
    3: "numericalAsc",
    4: "numericalDesc",
    5: "alphabeticalCaseInsensitiveAsc",
    6: "alphabeticalCaseInsensitiveDesc",
    7: "naturalAsc",
    8: "naturalDesc",
}
"""Classic `sort` -> v2 `VariableSort` (CLASSIC enum `VariableSort`, V2 l.507)."""
CURSOR_SYNC = {0: "Off", 1: "Crosshair", 2: "Tooltip"}
"""Classic `graphTooltip` -> v2 `cursorSync` (CLASSIC enum `DashboardCursorSync`, V2 l.42)."""
VARIABLE_KIND = {
    "query": "QueryVariable",
    "custom": "CustomVariable",
    "constant": "ConstantVariable",
    "textbox": "TextVariable",
    "interval": "IntervalVariable",
    "datasource": "DatasourceVariable",
    "adhoc": "AdhocVariable",
    "groupby": "GroupByVariable",
    "switch": "SwitchVariable",
}
"""Classic variable `type` -> v2 variable kind (CLASSIC `VariableType`, V2 `VariableKind` l.463)."""

COMMON_VARIABLE_FIELDS = ("label", "description", "hide", "skipUrlSync")
VARIABLE_FIELDS = {
    "QueryVariable": (
        *COMMON_VARIABLE_FIELDS,
        *("current", "options", "multi", "includeAll", "allValue", "query", "datasource"),
        *("regex", "sort", "refresh", "definition"),
    ),
    "CustomVariable": (
        *COMMON_VARIABLE_FIELDS,
        "current",
        "options",
        "multi",
        "includeAll",
        "allValue",
        "query",
    ),
    "ConstantVariable": (*COMMON_VARIABLE_FIELDS, "current", "query"),
    "TextVariable": (*COMMON_VARIABLE_FIELDS, "current", "query"),
    "IntervalVariable": (
        *COMMON_VARIABLE_FIELDS,
        "current",
        "options",
        "query",
        "auto",
        "auto_min",
        "auto_count",
    ),
    "DatasourceVariable": (
        *COMMON_VARIABLE_FIELDS,
        *("current", "options", "multi", "includeAll", "allValue", "pluginId", "regex", "refresh"),
    ),
}
"""What each v2 variable kind keeps of the classic variable: the fields its spec declares (V2
QueryVariableSpec l.470-492, CustomVariableSpec l.597-612, ConstantVariableSpec l.537-546,
TextVariableSpec l.521-530, IntervalVariableSpec l.576-590, DatasourceVariableSpec l.553-569). A kind
not listed (ad hoc, group by, switch) is compared on the common fields only: no dashboard here has one."""

QUERY_OPTIONS = (
    "cacheTimeout",
    "maxDataPoints",
    "interval",
    "hideTimeOverride",
    "queryCachingTTL",
    "timeFrom",
    "timeShift",
    "timeCompare",
)
"""Classic panel fields that are v2 `QueryOptionsSpec` fields of the same name (V2 l.113-123, CLASSIC
`Panel`; `timeTo` has no classic field)."""
LEGACY_STRING_VALUE_KEY = "__legacyStringValue"
"""Where Grafana puts a variable's string query in v2's `DataQuery.spec` (FE, BE)."""
DEFAULT_REFRESH_INTERVALS = ["5s", "10s", "30s", "1m", "5m", "15m", "30m", "1h", "2h", "1d"]
"""`defaultTimeSettingsSpec().autoRefreshIntervals` (FACTS §6), Grafana's when the classic has none."""


# --- small helpers -------------------------------------------------------------------------------


def _set(value: Any) -> bool:
    """Whether a query option is set: Grafana's converters leave out an unset, empty or false one."""
    return value not in (None, "", False)


def _text(value: Any) -> Any:
    """A string field where "" and null both mean unset (label, description, uid, allValue...)."""
    return value if value not in (None, "") else None


def _ds(uid: Any, plugin_type: Any) -> Record:
    return {"uid": _text(uid), "type": _text(plugin_type)}


def _option_value(value: Any) -> Any:
    """A variable option's text or value; null is "" (BE `buildStringOrArrayOfString`)."""
    return "" if value is None else value


def _current(current: Any) -> Record:
    current = current or {}
    return {"text": _option_value(current.get("text")), "value": _option_value(current.get("value"))}


def _options(options: Any) -> list[Record]:
    return [
        {
            "text": _option_value(o.get("text")),
            "value": _option_value(o.get("value")),
            "selected": bool(o.get("selected")),
        }
        for o in options or []
    ]


def _field_config(field_config: Any) -> Record:
    """`{defaults, overrides}`; absent is V2's default `{defaults: {}, overrides: []}` (FACTS §6)."""
    field_config = field_config or {}
    return {"defaults": field_config.get("defaults") or {}, "overrides": field_config.get("overrides") or []}


def _data_link(link: Record) -> Record:
    return {
        "title": link.get("title") or "",
        "url": link.get("url") or "",
        "targetBlank": bool(link.get("targetBlank")),
    }


def _dashboard_link(link: Record) -> Record:
    """Every field of V2's `DashboardLink` (l.698-711); unset bools false, unset tags [] (V2 defaults)."""
    return {
        "title": link.get("title") or "",
        "type": link.get("type") or "link",
        "icon": link.get("icon") or "",
        "tooltip": link.get("tooltip") or "",
        "url": _text(link.get("url")),
        "tags": link.get("tags") or [],
        **{flag: bool(link.get(flag)) for flag in ("asDropdown", "targetBlank", "includeVars", "keepTime")},
        "placement": _text(link.get("placement")),
    }


# --- the classic reader --------------------------------------------------------------------------


def _classic_rows_and_panels(document: Record) -> Iterator[tuple[Record | None, Record]]:
    """Each panel a classic dashboard shows or holds, with the row it sits under (None above the
    first row): a collapsed row holds its panels in its `panels`; an expanded row's panels follow it
    at the top level, and its own `panels` is ignored (V2V1 "Collapsed vs Expanded Rows")."""
    row: Record | None = None
    for panel in document.get("panels") or []:
        if panel.get("type") == "row":
            row = panel
            if panel.get("collapsed"):
                for nested in panel.get("panels") or []:
                    yield row, nested
            continue
        yield row, panel


def classic_panels(document: Record) -> list[Record]:
    return [_classic_panel(panel, row) for row, panel in _classic_rows_and_panels(document)]


def _classic_panel(panel: Record, row: Record | None) -> Record:
    position = panel.get("gridPos") or {}
    return {
        "id": panel.get("id"),
        "title": panel.get("title") or "",
        "type": panel.get("type"),
        "description": panel.get("description") or "",
        "row": None if row is None else row.get("title") or "",
        "in a collapsed row": bool(row is not None and row.get("collapsed")),
        "queries": [_classic_query(t, panel.get("datasource")) for t in panel.get("targets") or []],
        "transformations": [_classic_transformation(t) for t in panel.get("transformations") or []],
        "query options": {k: panel[k] for k in QUERY_OPTIONS if _set(panel.get(k))},
        "options": panel.get("options") or {},
        "fieldConfig": _field_config(panel.get("fieldConfig")),
        "pluginVersion": panel.get("pluginVersion") or "",
        "links": [_data_link(link) for link in panel.get("links") or []],
        "transparent": bool(panel.get("transparent")),
        "position": {k: position.get(k) for k in ("x", "y", "w", "h")},
        "repeat": _classic_repeat(panel),
    }


def _classic_query(target: Record, panel_datasource: Any) -> Record:
    """A target: its own datasource, else the panel's, as Grafana resolves it (the contract)."""
    datasource = target.get("datasource") or panel_datasource or {}
    return {
        "refId": target.get("refId"),
        "hidden": bool(target.get("hide")),
        "datasource": _ds(datasource.get("uid"), datasource.get("type")),
        "body": {k: v for k, v in target.items() if k not in ("refId", "hide", "datasource")},
    }


def _classic_transformation(transformation: Record) -> Record:
    return {
        "id": transformation.get("id"),
        "disabled": bool(transformation.get("disabled")),
        "filter": transformation.get("filter"),
        "topic": transformation.get("topic"),
        "options": transformation.get("options") or {},
    }


def _classic_repeat(panel: Record) -> Record | None:
    if not panel.get("repeat"):
        return None
    return {
        "variable": panel["repeat"],
        "direction": panel.get("repeatDirection") or "h",
        "maxPerRow": panel.get("maxPerRow"),
    }


def classic_rows(document: Record) -> list[Record]:
    return [
        {
            "title": panel.get("title") or "",
            "collapsed": bool(panel.get("collapsed")),
            "repeat": _text(panel.get("repeat")),
            "y": (panel.get("gridPos") or {}).get("y"),
        }
        for panel in document.get("panels") or []
        if panel.get("type") == "row"
    ]


def classic_variables(document: Record) -> list[Record]:
    return [_classic_variable(v) for v in (document.get("templating") or {}).get("list") or []]


def _classic_variable(variable: Record) -> Record:
    kind = VARIABLE_KIND.get(variable.get("type") or "", f"no v2 kind for type {variable.get('type')!r}")
    query = variable.get("query")
    datasource = variable.get("datasource") or {}
    values = {
        "label": _text(variable.get("label")),
        "description": _text(variable.get("description")),
        "hide": HIDE[variable.get("hide") or 0],
        "skipUrlSync": bool(variable.get("skipUrlSync")),
        "current": _current(variable.get("current")),
        "options": _options(variable.get("options")),
        "multi": bool(variable.get("multi")),
        "includeAll": bool(variable.get("includeAll")),
        "allValue": _text(variable.get("allValue")),
        "query": (
            ({LEGACY_STRING_VALUE_KEY: query} if isinstance(query, str) else query or {})
            if kind == "QueryVariable"
            else query or ""
        ),
        "datasource": _ds(datasource.get("uid"), datasource.get("type")),
        "pluginId": query or "",
        "regex": variable.get("regex") or "",
        "sort": SORT[variable.get("sort") or 0],
        "refresh": REFRESH[variable.get("refresh") or 0],
        "definition": _text(variable.get("definition")),
        "auto": bool(variable.get("auto")),
        "auto_min": variable.get("auto_min") or "",
        "auto_count": variable.get("auto_count") or 0,
    }
    fields = VARIABLE_FIELDS.get(kind, COMMON_VARIABLE_FIELDS)
    return {"name": variable.get("name"), "kind": kind, **{f: values[f] for f in fields}}


def classic_dashboard(document: Record) -> Record:
    time = document.get("time") or {}
    picker = document.get("timepicker") or {}
    editable = document.get("editable")
    return {
        "title": document.get("title") or "",
        "description": document.get("description") or "",
        "tags": document.get("tags") or [],
        "cursorSync": CURSOR_SYNC[document.get("graphTooltip") or 0],
        "editable": True if editable is None else editable,
        "liveNow": bool(document.get("liveNow")),
        "preload": bool(document.get("preload")),
        "from": time.get("from") or "now-6h",
        "to": time.get("to") or "now",
        "timezone": document.get("timezone") or "browser",
        "autoRefresh": document.get("refresh") or "",
        "autoRefreshIntervals": picker.get("refresh_intervals") or DEFAULT_REFRESH_INTERVALS,
        "hideTimepicker": bool(picker.get("hidden")),
        "nowDelay": _text(picker.get("nowDelay")),
        "quickRanges": picker.get("quick_ranges") or [],
        "weekStart": _text(document.get("weekStart")),
        "fiscalYearStartMonth": document.get("fiscalYearStartMonth") or 0,
        "links": [_dashboard_link(link) for link in document.get("links") or []],
        "annotations": [
            _classic_annotation(a) for a in (document.get("annotations") or {}).get("list") or []
        ],
    }


def _classic_annotation(annotation: Record) -> Record:
    """Name, switches, colour and datasource of an annotation query (V2 `AnnotationQuerySpec`
    l.6-17; FE `getAnnotations`: the datasource becomes the query's `group`/`datasource.name`)."""
    datasource = annotation.get("datasource") or {}
    return {
        "name": annotation.get("name") or "",
        "enable": bool(annotation.get("enable")),
        "hide": bool(annotation.get("hide")),
        "iconColor": annotation.get("iconColor") or "",
        "builtIn": bool(annotation.get("builtIn")),
        "datasource": _ds(datasource.get("uid"), datasource.get("type")),
    }


# --- the v2 reader -------------------------------------------------------------------------------


def _v2_layout_rows(spec: Record) -> Iterator[tuple[Record | None, int, list[Record]]]:
    """Each row of a v2 layout (None for no row, or for the header-less first row) with the absolute
    line its grid starts on and its grid items: rows are laid out one under the other as Grafana lays
    them in the classic grid (the module docstring, "Positions")."""
    layout = spec["layout"]
    if layout["kind"] == "GridLayout":
        yield None, 0, layout["spec"]["items"]
        return
    assert layout["kind"] in ("RowsLayout", "TabsLayout"), f"a {layout['kind']} has no classic form here"
    sections = layout["spec"]["rows" if layout["kind"] == "RowsLayout" else "tabs"]
    line = 0  # the first line below everything laid out so far
    for index, row in enumerate(sections):
        row_spec = row["spec"]  # a tab is read as the expanded row Grafana turns it into (TABS)
        grid = row_spec["layout"]
        assert grid["kind"] == "GridLayout", f"row {row_spec.get('title')!r} holds a {grid['kind']}"
        assert row["kind"] != "TabsLayoutTab" or "collapse" not in row_spec, "a tab has no collapse"
        header_less = index == 0 and bool(row_spec.get("hideHeader")) and not row_spec.get("title")
        top = line if header_less else line + 1
        items = grid["spec"]["items"]
        yield None if header_less else row, top, items
        bottoms = [top + item["spec"]["y"] + item["spec"]["height"] for item in items]
        line = top if row_spec.get("collapse") else max([top, *bottoms])


def v2_panels(spec: Record) -> list[Record]:
    return [
        _v2_panel(spec["elements"], item, top, row)
        for row, top, items in _v2_layout_rows(spec)
        for item in items
    ]


def _v2_panel(elements: Record, item: Record, top: int, row: Record | None) -> Record:
    grid = item["spec"]
    name = grid["element"]["name"]
    element = elements[name]
    assert element["kind"] == "Panel", f"element {name!r} is a {element['kind']}"
    panel = element["spec"]
    assert name == f"panel-{panel['id']}", (
        f"element {name!r} holds panel id {panel['id']} (contract: panel-<id>)"
    )
    data = panel["data"]["spec"]
    viz = panel["vizConfig"]
    return {
        "id": panel["id"],
        "title": panel.get("title") or "",
        "type": viz.get("group"),
        "description": panel.get("description") or "",
        "row": None if row is None else row["spec"].get("title") or "",
        "in a collapsed row": bool(row is not None and row["spec"].get("collapse")),
        "queries": [_v2_query(q) for q in data.get("queries") or []],
        "transformations": [_v2_transformation(t) for t in data.get("transformations") or []],
        "query options": {k: v for k, v in (data.get("queryOptions") or {}).items() if _set(v)},
        "options": viz["spec"].get("options") or {},
        "fieldConfig": _field_config(viz["spec"].get("fieldConfig")),
        "pluginVersion": viz.get("version") or "",
        "links": [_data_link(link) for link in panel.get("links") or []],
        "transparent": bool(panel.get("transparent")),
        "position": {"x": grid["x"], "y": top + grid["y"], "w": grid["width"], "h": grid["height"]},
        "repeat": _v2_repeat(grid.get("repeat")),
    }


def _v2_query(query: Record) -> Record:
    assert query["kind"] == "PanelQuery"
    data_query = query["spec"]["query"]
    assert data_query["kind"] == "DataQuery"
    return {
        "refId": query["spec"].get("refId"),
        "hidden": bool(query["spec"].get("hidden")),
        "datasource": _ds((data_query.get("datasource") or {}).get("name"), data_query.get("group")),
        "body": data_query.get("spec") or {},
    }


def _v2_transformation(transformation: Record) -> Record:
    assert transformation["kind"] == "Transformation", transformation
    spec = transformation.get("spec") or {}
    return {
        "id": transformation.get("group"),
        "disabled": bool(spec.get("disabled")),
        "filter": spec.get("filter"),
        "topic": spec.get("topic"),
        "options": spec.get("options") or {},
    }


def _v2_repeat(repeat: Record | None) -> Record | None:
    if not repeat:
        return None
    assert repeat.get("mode") == "variable", repeat
    return {
        "variable": repeat["value"],
        "direction": repeat.get("direction") or "h",
        "maxPerRow": repeat.get("maxPerRow"),
    }


def v2_rows(spec: Record) -> list[Record]:
    return [_v2_row(row, top) for row, top, _items in _v2_layout_rows(spec) if row is not None]


def _v2_row(row: Record, top: int) -> Record:
    row_spec = row["spec"]
    repeat = row_spec.get("repeat") or {}
    return {
        "title": row_spec.get("title") or "",
        "collapsed": bool(row_spec.get("collapse")),
        "repeat": _text(repeat.get("value")),
        "y": top - 1,
    }


def v2_variables(spec: Record) -> list[Record]:
    return [_v2_variable(v) for v in spec.get("variables") or []]


def _v2_variable(variable: Record) -> Record:
    kind = variable["kind"]
    spec = variable["spec"]
    query = spec.get("query")
    data_query = query if isinstance(query, dict) else {}
    values = {
        "label": _text(spec.get("label")),
        "description": _text(spec.get("description")),
        "hide": spec.get("hide") or "dontHide",
        "skipUrlSync": bool(spec.get("skipUrlSync")),
        "current": _current(spec.get("current")),
        "options": _options(spec.get("options")),
        "multi": bool(spec.get("multi")),
        "includeAll": bool(spec.get("includeAll")),
        "allValue": _text(spec.get("allValue")),
        "query": data_query.get("spec") or {} if kind == "QueryVariable" else query or "",
        "datasource": _ds((data_query.get("datasource") or {}).get("name"), data_query.get("group")),
        "pluginId": spec.get("pluginId") or "",
        "regex": spec.get("regex") or "",
        "sort": spec.get("sort") or "disabled",
        "refresh": spec.get("refresh") or "never",
        "definition": _text(spec.get("definition")),
        "auto": bool(spec.get("auto")),
        "auto_min": spec.get("auto_min") or "",
        "auto_count": spec.get("auto_count") or 0,
    }
    fields = VARIABLE_FIELDS.get(kind, COMMON_VARIABLE_FIELDS)
    return {"name": spec.get("name"), "kind": kind, **{f: values[f] for f in fields}}


def v2_dashboard(spec: Record) -> Record:
    time = spec.get("timeSettings") or {}
    editable = spec.get("editable")
    return {
        "title": spec.get("title") or "",
        "description": spec.get("description") or "",
        "tags": spec.get("tags") or [],
        "cursorSync": spec.get("cursorSync") or "Off",
        "editable": True if editable is None else editable,
        "liveNow": bool(spec.get("liveNow")),
        "preload": bool(spec.get("preload")),
        "from": time.get("from") or "now-6h",
        "to": time.get("to") or "now",
        "timezone": time.get("timezone") or "browser",
        "autoRefresh": time.get("autoRefresh") or "",
        "autoRefreshIntervals": time.get("autoRefreshIntervals") or DEFAULT_REFRESH_INTERVALS,
        "hideTimepicker": bool(time.get("hideTimepicker")),
        "nowDelay": _text(time.get("nowDelay")),
        "quickRanges": time.get("quickRanges") or [],
        "weekStart": _text(time.get("weekStart")),
        "fiscalYearStartMonth": time.get("fiscalYearStartMonth") or 0,
        "links": [_dashboard_link(link) for link in spec.get("links") or []],
        "annotations": [_v2_annotation(a) for a in spec.get("annotations") or []],
    }


def _v2_annotation(annotation: Record) -> Record:
    spec = annotation["spec"]
    query = spec.get("query") or {}
    return {
        "name": spec.get("name") or "",
        "enable": bool(spec.get("enable")),
        "hide": bool(spec.get("hide")),
        "iconColor": spec.get("iconColor") or "",
        "builtIn": bool(spec.get("builtIn")),
        "datasource": _ds((query.get("datasource") or {}).get("name"), query.get("group")),
    }


# --- the comparison ------------------------------------------------------------------------------


def _diff(path: str, classic: Any, v2: Any) -> list[str]:
    """Where two records differ, each difference as `path: classic X, v2 Y`, at the deepest level."""
    if isinstance(classic, dict) and isinstance(v2, dict):
        return [
            line
            for key in [*classic, *(k for k in v2 if k not in classic)]
            for line in _diff(f"{path}.{key}", classic.get(key, "<absent>"), v2.get(key, "<absent>"))
        ]
    if isinstance(classic, list) and isinstance(v2, list) and len(classic) == len(v2):
        return [
            line
            for i, (c, v) in enumerate(zip(classic, v2, strict=True))
            for line in _diff(f"{path}[{i}]", c, v)
        ]
    return [] if classic == v2 else [f"{path.lstrip('.')}: classic {classic!r}, v2 {v2!r}"]


def _compare_list(where: str, what: str, key: str, classic: list[Record], v2: list[Record]) -> list[str]:
    """Item by item, named by `key`; a different list of names is one difference saying both."""
    names = [c.get(key) for c in classic], [v.get(key) for v in v2]
    if names[0] != names[1]:
        return [f"{where}: the {what}s differ: classic {names[0]}, v2 {names[1]}"]
    return [
        f"{where}, {what} {c.get(key)!r}: {line}"
        for c, v in zip(classic, v2, strict=True)
        for line in _diff("", c, v)
    ]


def differences(document: Record, spec: Record) -> list[str]:
    """Everything the two forms of one dashboard say differently (empty when they are equal)."""
    where = f"dashboard {document.get('uid')!r}"
    classic_board, v2_board = classic_dashboard(document), v2_dashboard(spec)
    found = [
        f"{where}: {line}" for line in _diff("", _without_lists(classic_board), _without_lists(v2_board))
    ]
    found += _compare_list(where, "panel", "title", classic_panels(document), v2_panels(spec))
    found += _compare_list(where, "row", "title", classic_rows(document), v2_rows(spec))
    found += _compare_list(where, "variable", "name", classic_variables(document), v2_variables(spec))
    found += _compare_list(where, "link", "title", classic_board["links"], v2_board["links"])
    found += _compare_list(where, "annotation", "name", classic_board["annotations"], v2_board["annotations"])
    return found


def _without_lists(board: Record) -> Record:
    return {k: v for k, v in board.items() if k not in ("links", "annotations")}


# --- the dashboards ------------------------------------------------------------------------------

PROMETHEUS = {"type": "prometheus", "uid": "prometheus"}
LOKI = {"type": "loki", "uid": "loki"}


def _variables() -> list[g.Template]:
    """One variable of each type a TikTickets dashboard may use, with every option set off its default."""
    return [
        g.Template(
            name="job",
            label="Job",
            query="label_values(up, job)",
            dataSource=PROMETHEUS,
            default="api",
            multi=True,
            includeAll=True,
            allValue=".*",
            hide=1,
            sort=3,
            refresh=2,
            regex="/(.*)-backend/",
        ),
        g.Template(
            name="instance", query="label_values(up, instance)", dataSource=PROMETHEUS, sort=7, hide=0
        ),
        g.Template(
            name="colour", type="custom", query="red,green,blue", default="green", multi=True, includeAll=True
        ),
        g.Template(name="region", type="constant", query="eu-west-1", hide=2),
        g.Template(name="search", type="textbox", query="timeout", default="timeout", label="Search"),
        g.Template(name="step", type="interval", query="1m,5m,10m", default="5m", auto=True),
        g.Template(
            name="metrics", type="datasource", query="prometheus", default="prometheus", regex="/prom.*/"
        ),
    ]


def _timeseries(title: str, y: int, **kwargs: Any) -> g.TimeSeries:
    kwargs.setdefault("dataSource", PROMETHEUS)
    kwargs.setdefault("targets", [g.Target(expr=f'up{{job="{title}"}}', refId="A")])
    kwargs.setdefault("gridPos", g.GridPos(h=8, w=12, x=0, y=y))
    return g.TimeSeries(title=title, **kwargs)


def everything_dashboard() -> g.Dashboard:
    """What the project's own dashboards do not have, laid out as the house grid writes layouts
    (each row right under what is above it): panels above the first row, one repeated horizontally
    (with maxPerRow) and one vertically; an expanded row; a collapsed row holding two panels; a
    row repeated by a variable; a panel with transformations, query options, a hidden query, a query
    on another datasource than the panel's, panel links and a field override; every variable type."""
    busy = _timeseries(
        "Busy panel",
        0,
        description="Everything a panel can carry.",
        targets=[
            g.Target(expr="up", refId="A", hide=True, legendFormat="{{job}}"),
            g.Target(expr='{job="api"}', refId="B", datasource=LOKI),
            g.Target(expr="rate(x[5m])", refId="C", instant=True),
        ],
        timeFrom="1h",
        timeShift="1d",
        interval="1m",
        maxDataPoints=500,
        hideTimeOverride=True,
        transformations=[
            {"id": "organize", "options": {"renameByName": {"Value": "requests"}}},
            {"id": "filterByRefId", "disabled": True, "options": {"include": "A"}},
        ],
        links=[{"title": "Runbook", "url": "https://example.com/runbook", "targetBlank": True}],
        overrides=[
            {"matcher": {"id": "byName", "options": "5xx"}, "properties": [{"id": "color", "value": "red"}]}
        ],
        repeat=g.Repeat(direction="h", variable="job", maxPerRow=4),
    )
    down = _timeseries(
        "Repeated down", 0, gridPos=g.GridPos(h=8, w=12, x=12, y=0), repeat=g.Repeat("v", "instance")
    )
    expanded = g.RowPanel(title="Expanded", gridPos=g.GridPos(h=1, w=24, x=0, y=8))
    in_expanded = _timeseries("In the expanded row", 9, gridPos=g.GridPos(h=6, w=8, x=4, y=11))
    collapsed = g.RowPanel(
        title="Collapsed",
        collapsed=True,
        gridPos=g.GridPos(h=1, w=24, x=0, y=17),
        panels=[
            _timeseries("Hidden one", 18, dataSource=LOKI, targets=[g.Target(expr='{job="api"}', refId="A")]),
            _timeseries("Hidden two", 18, gridPos=g.GridPos(h=4, w=12, x=12, y=18)),
        ],
    )
    per_job = g.RowPanel(
        title="Per job", gridPos=g.GridPos(h=1, w=24, x=0, y=18), repeat=g.Repeat(variable="job")
    )
    in_per_job = g.Stat(
        title="For $job",
        dataSource=PROMETHEUS,
        targets=[g.Target(expr='up{job="$job"}', refId="A")],
        gridPos=g.GridPos(h=4, w=6, x=0, y=19),
    )
    return g.Dashboard(
        title="Everything",
        uid="v2eq-everything",
        description="A dashboard with what the project's own do not have.",
        tags=["fixture", "v2"],
        timezone="utc",
        refresh="1m",
        graphTooltip=2,
        time=g.Time("now-24h", "now"),
        timePicker=g.TimePicker(refreshIntervals=["30s", "1m", "5m"], timeOptions=[], hidden=True),
        links=[
            g.DashboardLink(
                title="Related", type="dashboards", tags=["tiktickets"], asDropdown=True, keepTime=False
            ),
            g.DashboardLink(
                title="Status page",
                type="link",
                uri="https://status.example.com",
                icon="info",
                tooltip="Is it us?",
                keepTime=True,
                includeVars=True,
                targetBlank=True,
            ),
        ],
        annotations=g.Annotations(
            list=[{"name": "Deploys", "enable": True, "hide": False, "iconColor": "blue", "datasource": LOKI}]
        ),
        templating=g.Templating(list=_variables()),
        panels=[busy, down, expanded, in_expanded, collapsed, per_job, in_per_job],
    ).auto_panel_ids()


def rowless_dashboard() -> g.Dashboard:
    """No row at all: Grafana's form is a plain grid (FE/BE `getElementsFromPanels`)."""
    return g.Dashboard(
        title="No rows",
        uid="v2eq-rowless",
        panels=[
            _timeseries("Left", 0, gridPos=g.GridPos(h=8, w=12, x=0, y=0)),
            _timeseries("Right", 0, gridPos=g.GridPos(h=5, w=12, x=12, y=0)),
        ],
    ).auto_panel_ids()


def tabbed_dashboard() -> g.Dashboard:
    """Rows meant as tabs: a repeated row, panels lower down in a row than its first line, and rows
    of different heights, so a tab's grid offset and each row's place both show."""
    first = g.RowPanel(title="Requests", gridPos=g.GridPos(h=1, w=24, x=0, y=0))
    per_job = g.RowPanel(
        title="Per job", gridPos=g.GridPos(h=1, w=24, x=0, y=13), repeat=g.Repeat(variable="job")
    )
    return g.Dashboard(
        title="Tabbed",
        uid="v2eq-tabbed",
        templating=g.Templating(list=_variables()),
        panels=[
            first,
            _timeseries("Top left", 1, gridPos=g.GridPos(h=4, w=12, x=0, y=1)),
            _timeseries("Lower right", 5, gridPos=g.GridPos(h=8, w=12, x=12, y=5)),
            per_job,
            _timeseries("For $job", 14, gridPos=g.GridPos(h=6, w=24, x=0, y=14)),
        ],
    ).auto_panel_ids()


FIXTURES: dict[str, Callable[[], g.Dashboard]] = {
    "everything": everything_dashboard,
    "rowless": rowless_dashboard,
    "tabbed": tabbed_dashboard,
}
TABBED_FIXTURES = {"tabbed"}
"""The fixtures whose definition asks for their rows as tabs in v2."""


def _fixture(name: str, make: Callable[[], g.Dashboard]) -> Callable[[], DashboardDefinition]:
    sections: SectionsInV2 = "tabs" if name in TABBED_FIXTURES else "rows"
    return lambda: DashboardDefinition(Folder("fixtures", "Fixtures"), make(), sections_in_v2=sections)


def _project(uid: str) -> Callable[[], DashboardDefinition]:
    return lambda: next(d for d in load_project(REPO).dashboards if d.uid == uid)


DEFINITIONS: dict[str, Callable[[], DashboardDefinition]] = {
    **{f"project:{d.uid}": _project(d.uid) for d in load_project(REPO).dashboards},
    **{f"fixture:{name}": _fixture(name, make) for name, make in FIXTURES.items()},
}
"""Every dashboard of the project (derived, as tests/welcome.py requires) and the fixtures."""


def both_forms(definition: DashboardDefinition) -> tuple[Record, Record]:
    """The classic document and its v2 form, each through its module's attribute (so a plant
    monkeypatched onto either renderer is the one used)."""
    document = classic_renderer.dashboard_document(definition)
    return document, schema_v2.v2_spec(copy.deepcopy(document), sections=definition.sections_in_v2)


@pytest.mark.parametrize("name", DEFINITIONS)
def test_the_two_forms_say_the_same(name: str) -> None:
    document, spec = both_forms(DEFINITIONS[name]())
    found = differences(document, spec)
    assert not found, "\n".join(found)


# --- planted differences -------------------------------------------------------------------------


def _elements_by_id(spec: Record) -> dict[int, Record]:
    return {e["spec"]["id"]: e for e in spec["elements"].values() if e["kind"] == "Panel"}


def _grid_items(spec: Record) -> Iterator[tuple[Record | None, Record]]:
    for row, _top, items in _v2_layout_rows(spec):
        for item in items:
            yield row, item


def _y_not_offset_by_its_row(document: Record, spec: Record) -> None:
    """The converter leaves a panel in a row at its classic (absolute) y."""
    classic_y = {p.get("id"): p["gridPos"]["y"] for _row, p in _classic_rows_and_panels(document)}
    for row, item in _grid_items(spec):
        if row is not None:
            panel_id = spec["elements"][item["spec"]["element"]["name"]]["spec"]["id"]
            item["spec"]["y"] = classic_y[panel_id]


def _two_ref_ids_swapped(document: Record, spec: Record) -> None:
    queries = next(q for e in spec["elements"].values() if len(q := e["spec"]["data"]["spec"]["queries"]) > 1)
    queries[0]["spec"]["refId"], queries[1]["spec"]["refId"] = (
        queries[1]["spec"]["refId"],
        queries[0]["spec"]["refId"],
    )


def _the_panels_datasource_for_a_query_with_its_own(document: Record, spec: Record) -> None:
    elements = _elements_by_id(spec)
    for _row, panel in _classic_rows_and_panels(document):
        queries = elements[panel["id"]]["spec"]["data"]["spec"]["queries"]
        for target, query in zip(panel.get("targets") or [], queries, strict=True):
            if target.get("datasource") and panel.get("datasource"):
                query["spec"]["query"]["group"] = panel["datasource"]["type"]
                query["spec"]["query"]["datasource"] = {"name": panel["datasource"]["uid"]}


def _sort_off_by_one(document: Record, spec: Record) -> None:
    number = {name: n for n, name in SORT.items()}
    for variable in spec["variables"]:
        if variable["kind"] == "QueryVariable":
            variable["spec"]["sort"] = SORT[(number[variable["spec"]["sort"]] + 1) % len(SORT)]


def _a_collapsed_rows_panels_dropped(document: Record, spec: Record) -> None:
    for row, _top, items in _v2_layout_rows(spec):
        if row is not None and row["spec"].get("collapse"):
            for item in items:
                del spec["elements"][item["spec"]["element"]["name"]]
            items.clear()


def _repeat_direction_lost(document: Record, spec: Record) -> None:
    for _row, item in _grid_items(spec):
        (item["spec"].get("repeat") or {}).pop("direction", None)


def _a_links_keep_time_dropped(document: Record, spec: Record) -> None:
    for link in spec["links"]:
        link.pop("keepTime", None)


def _field_overrides_dropped(document: Record, spec: Record) -> None:
    for element in spec["elements"].values():
        element["spec"]["vizConfig"]["spec"]["fieldConfig"]["overrides"] = []


def _a_tabs_panels_left_absolute(document: Record, spec: Record) -> None:
    """The converter places a tab's panels from the dashboard's top, not from under the row it was."""
    for tab in spec["layout"]["spec"]["tabs"]:
        top = (
            next(p for p in document["panels"] if p.get("title") == tab["spec"]["title"])["gridPos"]["y"] + 1
        )
        for item in tab["spec"]["layout"]["spec"]["items"]:
            item["spec"]["y"] += top


def _a_tabs_repeat_dropped(document: Record, spec: Record) -> None:
    for tab in spec["layout"]["spec"]["tabs"]:
        tab["spec"].pop("repeat", None)


def _the_last_tab_dropped(document: Record, spec: Record) -> None:
    last = spec["layout"]["spec"]["tabs"].pop()
    for item in last["spec"]["layout"]["spec"]["items"]:
        del spec["elements"][item["spec"]["element"]["name"]]


def _ids_restart_in_a_collapsed_row(document: Record) -> None:
    """The classic renderer numbers a collapsed row's panels from 1 again, as if a new dashboard."""
    for panel in document["panels"]:
        if panel.get("type") == "row" and panel.get("collapsed"):
            for number, nested in enumerate(panel.get("panels") or [], start=1):
                nested["id"] = number


def _an_expanded_rows_panels_kept_inside_it(document: Record) -> None:
    """The classic renderer puts an expanded row's panels in the row's `panels`, where Grafana's
    classic model keeps only a collapsed row's: the classic dashboard shows none of them."""
    panels = document["panels"]
    index = next(i for i, p in enumerate(panels) if p.get("type") == "row" and not p.get("collapsed"))
    end = next((j for j in range(index + 1, len(panels)) if panels[j].get("type") == "row"), len(panels))
    panels[index]["panels"] = panels[index + 1 : end]
    del panels[index + 1 : end]


def _panels_on_their_rows_header_line(document: Record) -> None:
    """The classic renderer forgets the line a row's header takes: its panels start on it."""
    row_seen = False
    for panel in document["panels"]:
        if panel.get("type") == "row":
            row_seen = True
            for nested in panel.get("panels") or []:
                nested["gridPos"]["y"] -= 1
        elif row_seen:
            panel["gridPos"]["y"] -= 1


FIRST_PROJECT_DASHBOARD = next(name for name in DEFINITIONS if name.startswith("project:"))
CONVERTER_PLANTS: dict[str, tuple[Callable[[Record, Record], None], str, str]] = {
    "a panel's y not offset by its row": (
        _y_not_offset_by_its_row,
        FIRST_PROJECT_DASHBOARD,
        "position.y: classic",
    ),
    "two queries' refIds swapped": (
        _two_ref_ids_swapped,
        "fixture:everything",
        ".refId: classic 'A', v2 'B'",
    ),
    "the panel's datasource used for a query with its own": (
        _the_panels_datasource_for_a_query_with_its_own,
        "fixture:everything",
        "datasource.uid: classic 'loki', v2 'prometheus'",
    ),
    "sort mapped off by one": (_sort_off_by_one, FIRST_PROJECT_DASHBOARD, "sort: classic 'alphabeticalAsc'"),
    "a collapsed row's panels dropped": (
        _a_collapsed_rows_panels_dropped,
        "fixture:everything",
        "the panels differ",
    ),
    "a repeat's direction lost": (
        _repeat_direction_lost,
        "fixture:everything",
        "repeat.direction: classic 'v'",
    ),
    "a link's keepTime dropped": (_a_links_keep_time_dropped, "fixture:everything", "keepTime: classic True"),
    "a panel's field overrides dropped": (
        _field_overrides_dropped,
        "fixture:everything",
        "fieldConfig.overrides",
    ),
    "a tab's panels placed from the top": (
        _a_tabs_panels_left_absolute,
        "fixture:tabbed",
        "position.y: classic",
    ),
    "a tab's repeat dropped": (_a_tabs_repeat_dropped, "fixture:tabbed", "repeat: classic 'job', v2 None"),
    "the last tab dropped": (_the_last_tab_dropped, "fixture:tabbed", "the panels differ"),
}
"""Converter bugs: (what the bug does to `v2_spec`'s answer, the dashboard it shows on, what the
comparison then says)."""
CLASSIC_PLANTS: dict[str, tuple[Callable[[Record], None], str, str]] = {
    "panel ids restart inside a collapsed row": (
        _ids_restart_in_a_collapsed_row,
        "fixture:everything",
        "the panels differ",
    ),
    "an expanded row's panels kept inside it": (
        _an_expanded_rows_panels_kept_inside_it,
        FIRST_PROJECT_DASHBOARD,
        "y: classic",
    ),
    "panels on their row's header line": (
        _panels_on_their_rows_header_line,
        FIRST_PROJECT_DASHBOARD,
        "position.y: classic",
    ),
}
"""Classic-renderer bugs: (what the bug does to `dashboard_document`'s answer, the dashboard, what the
comparison then says)."""


@pytest.mark.parametrize("plant", CONVERTER_PLANTS)
def test_a_converter_bug_fails_the_comparison(monkeypatch: pytest.MonkeyPatch, plant: str) -> None:
    bug, name, said = CONVERTER_PLANTS[plant]
    definition = DEFINITIONS[name]()
    before = set(
        differences(*both_forms(definition))
    )  # a real difference is test_the_two_forms_say_the_same's
    convert = schema_v2.v2_spec

    def planted(document: Record, *, sections: SectionsInV2 = "rows") -> Record:
        spec = convert(document, sections=sections)
        bug(document, spec)
        return spec

    monkeypatch.setattr(schema_v2, "v2_spec", planted)
    found = [line for line in differences(*both_forms(definition)) if line not in before]
    assert any(said in line for line in found), f"{plant}: expected {said!r} among {found}"


@pytest.mark.parametrize("plant", CLASSIC_PLANTS)
def test_a_classic_renderer_bug_fails_the_comparison(monkeypatch: pytest.MonkeyPatch, plant: str) -> None:
    bug, name, said = CLASSIC_PLANTS[plant]
    definition = DEFINITIONS[name]()
    before = set(
        differences(*both_forms(definition))
    )  # a real difference is test_the_two_forms_say_the_same's
    render = classic_renderer.dashboard_document

    def planted(definition: DashboardDefinition) -> Record:
        document = render(definition)
        bug(document)
        return document

    monkeypatch.setattr(classic_renderer, "dashboard_document", planted)
    found = [line for line in differences(*both_forms(definition)) if line not in before]
    assert any(said in line for line in found), f"{plant}: expected {said!r} among {found}"


# --- the readers read what they claim -----------------------------------------------------------


def test_the_fixture_has_what_the_project_lacks() -> None:
    """Otherwise the comparison of the fixture proves less than its docstring says."""
    document = classic_renderer.dashboard_document(DEFINITIONS["fixture:everything"]())
    panels = {p["title"]: p for p in classic_panels(document)}
    rows = {r["title"]: r for r in classic_rows(document)}
    queries = panels["Busy panel"]["queries"]
    assert panels["Busy panel"]["row"] is None and panels["Busy panel"]["repeat"]["maxPerRow"] == 4
    assert panels["Repeated down"]["repeat"]["direction"] == "v"
    assert rows["Collapsed"]["collapsed"] and panels["Hidden two"]["in a collapsed row"]
    assert queries[0]["hidden"] and queries[1]["datasource"] != queries[0]["datasource"]
    assert {"timeFrom", "interval", "hideTimeOverride"} <= set(panels["Busy panel"]["query options"])
    assert panels["Busy panel"]["transformations"] and panels["Busy panel"]["links"]
    types = [v["type"] for v in document["templating"]["list"]]
    assert set(types) == {"query", "custom", "constant", "textbox", "interval", "datasource"}
    assert {link["type"] for link in document["links"]} == {"link", "dashboards"}


def test_the_fixtures_repeated_row_reaches_the_classic_document() -> None:
    """The fixture repeats its row "Per job" by `$job`; unless the classic document says so, neither
    form does, and the comparison cannot show the row's repeat surviving into v2. (It fails today:
    `document.py` keeps only `ROW_PANEL_FIELDS` of a row, and `repeat` is not among them, although
    Grafana's classic `RowPanel` has it, CLASSIC `RowPanel.repeat`.)"""
    document = classic_renderer.dashboard_document(DEFINITIONS["fixture:everything"]())
    repeated = [
        row for row in everything_dashboard().panels if isinstance(row, g.RowPanel) and row.repeat.variable
    ]
    assert repeated, "the fixture has a repeated row"
    in_document = {r["title"]: r["repeat"] for r in classic_rows(document)}
    assert {r.title: in_document.get(r.title) for r in repeated} == {
        r.title: r.repeat.variable for r in repeated
    }


LIST_VARIABLE_KINDS = {"QueryVariable", "CustomVariable", "DatasourceVariable"}
"""The v2 kinds whose spec declares `allowCustomValue` for a list of values (V2 l.488, l.567, l.609)."""


def test_a_list_variable_that_says_nothing_allows_custom_values_in_v2() -> None:
    """A classic variable without `allowCustomValue` lets the user type a value that is not in its
    list: Grafana's default is true (CLASSIC-DEFAULTS `defaultVariableModel.allowCustomValue: true`;
    FACTS §6: `allowCustomValue true` for Query, Custom and Datasource variables). The classic
    document never carries the field (grafanalib's `Template` does not write it), so the v2 form must
    say `true` for each of those variables, or the same dashboard pushed as v2 refuses what the
    classic one accepts. The comparison does not read the field; this test does."""
    document, spec = both_forms(DEFINITIONS["fixture:everything"]())
    classic = {v["name"]: v for v in document["templating"]["list"]}
    listed = {v["spec"]["name"]: v for v in spec["variables"] if v["kind"] in LIST_VARIABLE_KINDS}
    assert set(listed) == {"job", "instance", "colour", "metrics"}
    assert all("allowCustomValue" not in classic[name] for name in listed), "the default is what is held"
    assert {name: v["spec"]["allowCustomValue"] for name, v in listed.items()} == dict.fromkeys(listed, True)


def test_a_now_delay_reaches_v2s_time_settings() -> None:
    """`TimePicker(nowDelay="5m")` hides the last five minutes, which are still incomplete: the classic
    document says `timepicker.nowDelay`, and the v2 form must say `timeSettings.nowDelay` (V2
    l.716-727; FE `ensureV2Response`, BE `transformTimeSettings`), or the dashboard pushed as v2 shows
    its time range up to now, the incomplete minutes included. No project dashboard nor other fixture
    sets a delay, so the comparison sees an empty one on both sides."""
    board = g.Dashboard(
        title="Delayed",
        uid="v2eq-delayed",
        timePicker=g.TimePicker(refreshIntervals=["1m"], timeOptions=[], nowDelay="5m"),
        panels=[_timeseries("Only", 0)],
    ).auto_panel_ids()
    document, spec = both_forms(DashboardDefinition(Folder("fixtures", "Fixtures"), board))
    assert document["timepicker"]["nowDelay"] == "5m"
    assert spec["timeSettings"].get("nowDelay") == "5m"
    found = differences(document, spec)
    assert not found, "\n".join(found)


# --- Grafana's enums ------------------------------------------------------------------------------


def _types(relative: Path) -> str:
    path = ENGINE_CHECKOUT / relative
    if not path.is_file():
        require_tool(GRAFANA_SCHEMA)  # a skip with the install hint on a laptop, a failure in CI
        pytest.fail(f"{path} is missing although {GRAFANA_SCHEMA.name} is installed")
    return path.read_text()


def _classic_enum(text: str, name: str) -> dict[int, str]:
    (body,) = re.findall(rf"export declare enum {name} \{{(.*?)\}}", text, re.DOTALL)
    return {int(number): member for member, number in re.findall(r"(\w+) = (\d+)", body)}


def _v2_union(text: str, name: str) -> set[str]:
    (body,) = re.findall(rf"export type {name} = (.*?);", text)
    return set(re.findall(r'"(\w+)"', body))


@pytest.mark.parametrize(
    ("classic", "v2", "table"),
    [
        ("VariableHide", "VariableHide", HIDE),
        ("VariableRefresh", "VariableRefresh", REFRESH),
        ("VariableSort", "VariableSort", SORT),
        ("DashboardCursorSync", "DashboardCursorSync", CURSOR_SYNC),
    ],
)
def test_the_enum_tables_are_grafanas(classic: str, v2: str, table: dict[int, str]) -> None:
    """Classic number n is the v2 string named by the classic enum's member n."""
    assert _classic_enum(_types(CLASSIC_TYPES), classic) == table
    assert _v2_union(_types(V2_TYPES), v2) == set(table.values())


def test_the_variable_kinds_are_grafanas() -> None:
    classic_types = re.search(r"export type VariableType = \((.*?)\);", _types(CLASSIC_TYPES))
    assert classic_types is not None
    v2_text = _types(V2_TYPES)
    union = re.search(r"export type VariableKind = (.*?);", v2_text)
    assert union is not None
    v2_kinds = {name.removesuffix("Kind") for name in re.findall(r"\w+", union.group(1))}
    assert set(VARIABLE_KIND) <= set(re.findall(r"'(\w+)'", classic_types.group(1)))
    assert set(VARIABLE_KIND.values()) == v2_kinds
    for kind, fields in VARIABLE_FIELDS.items():
        (spec,) = re.findall(rf"export interface {kind}Spec \{{(.*?)\}}", v2_text, re.DOTALL)
        declared = set(re.findall(r"^\s+(\w+)\??:", spec, re.MULTILINE))
        assert set(fields) - {"datasource"} <= declared, kind


# --- what no fixture sets (sweep s2): each held from Grafana's defaults and types -----------------


def _one_panel_board(**kwargs: Any) -> DashboardDefinition:
    kwargs.setdefault("panels", [_timeseries("Only", 0)])
    board = g.Dashboard(title="Sweep", uid="v2eq-sweep", **kwargs).auto_panel_ids()
    return DashboardDefinition(Folder("fixtures", "Fixtures"), board)


def test_a_variable_without_a_regex_or_a_saved_value_has_empty_strings_in_v2_not_nulls() -> None:
    """grafanalib writes `regex: null` and `current: {text: null, value: null}` for a variable that sets
    neither. V2 declares `regex: string` (QueryVariableSpec l.470-492, DatasourceVariableSpec
    l.553-569, default "") and `VariableOption.text`/`value` as `string | string[]` (l.494-499); Grafana's
    own converter makes a null text or value "" (FACTS §6 defaults; BE `buildVariableCurrent`). A null
    there is a value of no declared type, in the spec a push sends to Grafana 13."""
    variables = [
        g.Template(name="job", query="label_values(up, job)", dataSource=PROMETHEUS),
        g.Template(name="metrics", type="datasource", query="prometheus"),
    ]
    document, spec = both_forms(_one_panel_board(templating=g.Templating(list=variables)))
    classic = {v["name"]: v for v in document["templating"]["list"]}
    assert classic["job"]["regex"] is None and classic["job"]["current"]["text"] is None, "what is held"
    for variable in spec["variables"]:
        assert variable["spec"]["regex"] == "", variable["spec"]["name"]
        current = variable["spec"]["current"]
        assert (current["text"], current["value"]) == ("", ""), variable["spec"]["name"]


def _annotation(**entry: Any) -> DashboardDefinition:
    return _one_panel_board(
        annotations=g.Annotations(list=[{"name": "Deploys", "datasource": LOKI, **entry}])
    )


def test_an_annotation_that_says_nothing_is_enabled_and_shown_in_v2() -> None:
    """An annotation written without `enable` or `hide` is on and shown: Grafana's classic defaults are
    `enable: true, hide: false` (CLASSIC-DEFAULTS `defaultAnnotationQuery`). The v2 spec requires both
    (V2 `AnnotationQuerySpec` l.6-17), so the converter must write Grafana's defaults, or the deploy
    markers vanish (enable false) or the toggle hides (hide true) once the dashboard is pushed as v2."""
    _document, spec = both_forms(_annotation(iconColor="blue"))
    (annotation,) = spec["annotations"]
    assert (annotation["spec"]["enable"], annotation["spec"]["hide"]) == (True, False)


def test_a_built_in_annotation_written_as_classic_number_one_stays_built_in() -> None:
    """Classic JSON writes `builtIn` as a number (CLASSIC-DEFAULTS `defaultAnnotationQuery.builtIn: 0`,
    Grafana's own "Annotations & Alerts" entry says `builtIn: 1`); V2's `builtIn?` is a boolean
    (l.6-17). So `builtIn: 1` is `builtIn: true` in v2, and Grafana keeps treating it as its built-in
    annotation (not one the user may delete)."""
    _document, spec = both_forms(
        _annotation(builtIn=1, enable=True, hide=True, iconColor="rgba(0, 211, 255, 1)")
    )
    (annotation,) = spec["annotations"]
    assert annotation["spec"].get("builtIn") is True


def test_an_annotations_query_is_carried_into_its_v2_query() -> None:
    """The query an annotation runs (its `target`) is the body of its v2 `DataQuery` (V2
    `AnnotationQuerySpec.query`, `DataQueryKind.spec` l.19-28; FE `getAnnotations` spreads the target
    into the spec), sent to the annotation's datasource: without it the markers query nothing.
    (The comparison reads an annotation's name, switches and datasource, not its query.)"""
    target = {"expr": '{job="api"} |= "deploy"', "refId": "Anno"}
    _document, spec = both_forms(_annotation(enable=True, iconColor="blue", target=target))
    (annotation,) = spec["annotations"]
    query = annotation["spec"]["query"]
    assert query["spec"].get("expr") == '{job="api"} |= "deploy"'
    assert (query["group"], query.get("datasource")) == ("loki", {"name": "loki"})


def test_a_query_names_its_datasources_plugin_type_as_group_and_its_uid_as_name() -> None:
    """`DataQueryKind.group` is the datasource plugin type (e.g. "prometheus") and `datasource.name` its
    uid (FACTS §6; the module's contract). Every fixture's datasource has its type as its uid, so a
    swap would not show there: here the uid is not the type, for a panel query and a variable query."""
    metrics = {"type": "prometheus", "uid": "tt-metrics"}
    panel = _timeseries("Only", 0, dataSource=metrics)
    variable = g.Template(name="job", query="label_values(up, job)", dataSource=metrics)
    _document, spec = both_forms(_one_panel_board(panels=[panel], templating=g.Templating(list=[variable])))
    (element,) = spec["elements"].values()
    (query,) = element["spec"]["data"]["spec"]["queries"]
    (job,) = spec["variables"]
    for data_query in (query["spec"]["query"], job["spec"]["query"]):
        assert (data_query["group"], data_query["datasource"]) == ("prometheus", {"name": "tt-metrics"})


def test_a_transparent_panel_stays_transparent_in_v2() -> None:
    """`transparent: true` draws the panel without its background (CLASSIC `Panel.transparent`, default
    false); V2 keeps it as `PanelSpec.transparent?` (l.46-60). No fixture panel is transparent."""
    panel = _timeseries("Only", 0, transparent=True)
    document, spec = both_forms(_one_panel_board(panels=[panel]))
    assert document["panels"][0]["transparent"] is True
    (element,) = spec["elements"].values()
    assert element["spec"].get("transparent") is True
    assert not differences(document, spec)


def test_an_interval_variable_refreshes_on_time_range_change_in_v2() -> None:
    """V2's `IntervalVariableSpec.refresh` has one value, "onTimeRangeChanged" (l.576-590; both of
    Grafana's converters set it regardless of the classic `refresh`). grafanalib writes `refresh: 1` for
    every variable, so the classic number must not be carried (it would be "onDashboardLoad", which
    the types refuse). The comparison leaves an interval's refresh out, as it has no classic meaning."""
    step = g.Template(name="step", type="interval", query="1m,5m,10m", default="5m")
    document, spec = both_forms(_one_panel_board(templating=g.Templating(list=[step])))
    assert document["templating"]["list"][0]["refresh"] == 1
    (variable,) = spec["variables"]
    assert variable["spec"]["refresh"] == "onTimeRangeChanged"


def test_a_transformations_topic_is_kept_in_v2() -> None:
    """A transformation may apply to another frame set than the series, e.g. `topic: "annotations"`
    (CLASSIC `DataTransformerConfig.topic`); V2 keeps `topic?` in the transformation's spec (l.90-101).
    Dropped, the transformation runs on the series instead of the annotations."""
    step = {"id": "filterByValue", "topic": "annotations", "options": {}}
    panel = _timeseries("Only", 0, transformations=[step])
    document, spec = both_forms(_one_panel_board(panels=[panel]))
    (element,) = spec["elements"].values()
    (transformation,) = element["spec"]["data"]["spec"]["transformations"]
    assert transformation["spec"].get("topic") == "annotations"
    assert not differences(document, spec)
