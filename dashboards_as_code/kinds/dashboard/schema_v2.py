"""A dashboard's classic JSON as Grafana 13's schema v2 (`dashboard.grafana.app/v2` spec).

Grafana 13 stores a dashboard saved in its UI as v2, and reads one stored as v2 through the classic
API only as a lossy down-conversion (docs/grafana-13-facts.md §4). So a dashboard is pushed to a
Grafana that serves v2 in v2, and this module makes that document from the classic one the
definitions render, the one provisioning files keep: one source, two forms, each field moved to its v2
place and nothing invented. The shapes follow `@grafana/schema` 13.2.0's `dashboard/v2` types (facts
§6), against which the `grafana-schema` check type-checks every result.

Choices the types leave open, made here:
- An element is named `panel-<id>`: the classic id is unique in a dashboard and kept in the spec.
- A panel inside a row keeps its place relative to the row: its `y` counts from the line under the
  row's header, as the row's own grid starts there. Panels above the first row form a first row
  without a header (`hideHeader`), the way a classic dashboard shows them.
- A query's datasource is named by uid (`datasource.name`), its plugin type is the query's `group`;
  a query without its own datasource takes the panel's, as Grafana does.
- Which row a panel is in is decided by position, not by its place in the JSON list: Grafana sorts a
  classic dashboard's panels by `gridPos` (y, then x) when it loads one (`DashboardModel`'s
  constructor calls `sortPanelsByGridPos`), so a panel listed after a row but placed above it shows
  under the row above, and is converted there.
- A definition may ask for its rows as tabs (`sections_in_v2="tabs"`, a v2-only layout): each classic
  row is one tab holding the same grid, and the classic document keeps its rows. That is the way back
  Grafana itself takes: its v2 -> v1 conversion turns each tab into an expanded row, the tab's panels
  starting on the line under the row's header (grafana/grafana
  apps/dashboard/pkg/migration/conversion/v2_to_v1_layout_conversion.md). So a row that cannot
  come back as an expanded row (a collapsed one) or a panel outside every row has no tab form, and is
  refused by name rather than changed.
"""

from __future__ import annotations

from typing import Any

from dashboards_as_code.definitions.types import SectionsInV2, require_sections_in_v2
from dashboards_as_code.errors import DefinitionError, Location

CURSOR_SYNC = {0: "Off", 1: "Crosshair", 2: "Tooltip"}
"""Classic `graphTooltip` -> v2 `cursorSync`."""
HIDE = {0: "dontHide", 1: "hideLabel", 2: "hideVariable", 3: "inControlsMenu"}
REFRESH = {0: "never", 1: "onDashboardLoad", 2: "onTimeRangeChanged"}
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
QUERY_KEYS_OUTSIDE_THE_SPEC = ("refId", "datasource", "hide")
"""A classic target's keys that v2 keeps beside the query (`refId`, `hidden`, `datasource`), not in it."""
QUERY_OPTIONS = ("timeFrom", "timeShift", "maxDataPoints", "interval", "cacheTimeout", "queryCachingTTL")
DASHBOARD_LINK_DEFAULTS: dict[str, Any] = {
    "icon": "external link",
    "tooltip": "",
    "tags": [],
    "asDropdown": False,
    "targetBlank": False,
    "includeVars": False,
    "keepTime": False,
}
"""What Grafana's classic link editor writes when a field is left alone; v2 requires each of them."""


def v2_spec(document: dict[str, Any], *, sections: SectionsInV2 = "rows") -> dict[str, Any]:
    """The v2 spec of a classic dashboard document (as `dashboard_document` renders it), its rows laid
    out as `sections` (the definition's `sections_in_v2`)."""
    where = Location(dashboard=str(document.get("uid", "")))
    require_sections_in_v2(sections, str(document.get("uid", "")))
    panels = sorted(document.get("panels") or [], key=_position)  # as Grafana orders them on load
    for panel in _content_panels(panels):
        if not isinstance(panel.get("id"), int):
            title = str(panel.get("title", ""))
            raise DefinitionError(
                where,
                f"panel {title!r} has no id, which names its element in schema v2 (`.auto_panel_ids()`)",
            )
    elements = {_element_name(panel): _panel(panel) for panel in _content_panels(panels)}
    spec: dict[str, Any] = {
        "title": document.get("title", ""),
        "description": document.get("description", ""),
        "tags": list(document.get("tags") or []),
        "editable": bool(document.get("editable", True)),
        "liveNow": bool(document.get("liveNow", False)),
        "preload": False,
        "cursorSync": CURSOR_SYNC.get(document.get("graphTooltip", 0), "Off"),
        "timeSettings": _time_settings(document),
        "links": [_dashboard_link(link) for link in document.get("links") or []],
        "annotations": [_annotation(entry) for entry in _listed(document, "annotations")],
        "variables": [_variable(variable, where) for variable in _listed(document, "templating")],
        "elements": elements,
        "layout": _tabs(panels, where) if sections == "tabs" else _layout(panels),
    }
    if not spec["description"]:
        del spec["description"]
    return spec


def _listed(document: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """`document[key]["list"]`: where classic JSON keeps annotations and variables."""
    return list((document.get(key) or {}).get("list") or [])


def _content_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every panel that is not a row, those inside collapsed rows included."""
    found: list[dict[str, Any]] = []
    for panel in panels:
        if panel.get("type") == "row":
            found.extend(panel.get("panels") or [])
        else:
            found.append(panel)
    return found


def _element_name(panel: dict[str, Any]) -> str:
    return f"panel-{panel['id']}"


def _time_settings(document: dict[str, Any]) -> dict[str, Any]:
    time = document.get("time") or {}
    picker = document.get("timepicker") or {}
    settings: dict[str, Any] = {
        "timezone": document.get("timezone") or "browser",
        "from": time.get("from", "now-6h"),
        "to": time.get("to", "now"),
        "autoRefresh": document.get("refresh") or "",
        "autoRefreshIntervals": list(picker.get("refresh_intervals") or []),
        "hideTimepicker": bool(picker.get("hidden", False)),
        "fiscalYearStartMonth": int(document.get("fiscalYearStartMonth") or 0),
    }
    if document.get("weekStart"):
        settings["weekStart"] = document["weekStart"]
    if picker.get("nowDelay"):
        settings["nowDelay"] = picker["nowDelay"]
    return settings


def _dashboard_link(link: dict[str, Any]) -> dict[str, Any]:
    converted = {**DASHBOARD_LINK_DEFAULTS, "title": link.get("title", ""), "type": link.get("type", "link")}
    converted.update({key: link[key] for key in DASHBOARD_LINK_DEFAULTS if key in link})
    if link.get("url"):
        converted["url"] = link["url"]
    return converted


def _data_query(query: dict[str, Any], datasource: dict[str, Any] | None) -> dict[str, Any]:
    """A panel's or an annotation's query: its own datasource, else the one it inherits."""
    spec = {key: value for key, value in query.items() if key not in QUERY_KEYS_OUTSIDE_THE_SPEC}
    return _data_query_kind(spec, query.get("datasource") or datasource)


def _data_query_kind(spec: dict[str, Any], source: dict[str, Any] | None) -> dict[str, Any]:
    """`spec` sent to the datasource `source` names (its plugin type the group, its uid the name)."""
    source = source or {}
    converted: dict[str, Any] = {
        "kind": "DataQuery",
        "group": source.get("type", ""),
        "version": "v0",
        "spec": spec,
    }
    if source.get("uid"):
        converted["datasource"] = {"name": source["uid"]}
    return converted


def _annotation(entry: dict[str, Any]) -> dict[str, Any]:
    query = entry.get("target") or {}
    spec: dict[str, Any] = {
        "query": _data_query(query, entry.get("datasource")),
        "enable": bool(entry.get("enable", True)),
        "hide": bool(entry.get("hide", False)),
        "iconColor": entry.get("iconColor", ""),
        "name": entry.get("name", ""),
    }
    if entry.get("builtIn"):
        spec["builtIn"] = True
    return {"kind": "AnnotationQuery", "spec": spec}


def _panel(panel: dict[str, Any]) -> dict[str, Any]:
    datasource = panel.get("datasource")
    queries = [
        {
            "kind": "PanelQuery",
            "spec": {
                "query": _data_query(target, datasource),
                "refId": target.get("refId", ""),
                "hidden": bool(target.get("hide", False)),
            },
        }
        for target in panel.get("targets") or []
    ]
    spec: dict[str, Any] = {
        "id": panel["id"],
        "title": panel.get("title", ""),
        "links": [
            {key: link[key] for key in ("title", "url", "targetBlank") if key in link}
            for link in panel.get("links") or []
        ],
        "data": {
            "kind": "QueryGroup",
            "spec": {
                "queries": queries,
                "transformations": [_transformation(step) for step in panel.get("transformations") or []],
                "queryOptions": _query_options(panel),
            },
        },
        "vizConfig": {
            "kind": "VizConfig",
            "group": panel.get("type", ""),
            "version": panel.get("pluginVersion", ""),
            "spec": {
                "options": panel.get("options") or {},
                "fieldConfig": {
                    "defaults": (panel.get("fieldConfig") or {}).get("defaults") or {},
                    "overrides": (panel.get("fieldConfig") or {}).get("overrides") or [],
                },
            },
        },
    }
    if panel.get("description"):
        spec["description"] = panel["description"]
    if panel.get("transparent"):
        spec["transparent"] = True
    return {"kind": "Panel", "spec": spec}


def _transformation(step: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {key: step[key] for key in ("disabled", "filter", "topic") if key in step}
    spec["options"] = step.get("options", {})
    return {"kind": "Transformation", "group": step.get("id", ""), "spec": spec}


def _query_options(panel: dict[str, Any]) -> dict[str, Any]:
    options = {key: panel[key] for key in QUERY_OPTIONS if panel.get(key) not in (None, "")}
    if panel.get("hideTimeOverride"):
        options["hideTimeOverride"] = True
    return options


def _grid_item(panel: dict[str, Any], top: int) -> dict[str, Any]:
    position = panel.get("gridPos") or {}
    spec: dict[str, Any] = {
        "x": position.get("x", 0),
        "y": position.get("y", 0) - top,
        "width": position.get("w", 0),
        "height": position.get("h", 0),
        "element": {"kind": "ElementReference", "name": _element_name(panel)},
    }
    if panel.get("repeat"):
        repeat: dict[str, Any] = {"mode": "variable", "value": panel["repeat"]}
        if panel.get("repeatDirection") in ("h", "v"):
            repeat["direction"] = panel["repeatDirection"]
        if panel.get("maxPerRow"):
            repeat["maxPerRow"] = panel["maxPerRow"]
        spec["repeat"] = repeat
    return {"kind": "GridLayoutItem", "spec": spec}


def _grid(panels: list[dict[str, Any]], top: int) -> dict[str, Any]:
    return {"kind": "GridLayout", "spec": {"items": [_grid_item(panel, top) for panel in panels]}}


def _layout(panels: list[dict[str, Any]]) -> dict[str, Any]:
    """A grid when the dashboard has no row; rows otherwise, each with its panels' grid."""
    if not any(panel.get("type") == "row" for panel in panels):
        return _grid(panels, top=0)
    rows: list[dict[str, Any]] = []
    above = [panel for panel in panels if panel.get("type") != "row" and _y(panel) < _first_row_y(panels)]
    if above:
        rows.append(_row({"title": "", "gridPos": {"y": -1}}, above, hide_header=True))
    for index, panel in enumerate(panels):
        if panel.get("type") != "row":
            continue
        rows.append(_row(panel, _members(panels, index), hide_header=False))
    return {"kind": "RowsLayout", "spec": {"rows": rows}}


def _members(panels: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    """The panels of the row at `panels[index]`: inside it when collapsed, else those after it up to
    the next row (an expanded row's panels follow it in the classic list)."""
    row = panels[index]
    if row.get("collapsed"):
        return list(row.get("panels") or [])
    following = panels[index + 1 :]
    end = next((n for n, other in enumerate(following) if other.get("type") == "row"), len(following))
    return following[:end]


def _tabs(panels: list[dict[str, Any]], where: Location) -> dict[str, Any]:
    """One tab per classic row, each with the grid its row holds; a dashboard without rows has nothing
    to make tabs of and keeps its grid."""
    rows = [panel for panel in panels if panel.get("type") == "row"]
    if not rows:
        return _grid(panels, top=0)
    for panel in panels:
        if panel.get("type") != "row" and _y(panel) < _first_row_y(panels):
            raise DefinitionError(
                where,
                f"panel {panel.get('title', '')!r} is above the first row, so no tab would hold it "
                "(sections_in_v2='tabs'): put it in a Row, or keep the rows",
            )
    tabs: list[dict[str, Any]] = []
    for index, row in enumerate(panels):
        if row.get("type") != "row":
            continue
        if row.get("collapsed"):
            raise DefinitionError(
                where,
                f"row {row.get('title', '')!r} is collapsed, and a tab has no collapsed form: Grafana "
                "would give it back expanded (sections_in_v2='tabs')",
            )
        spec: dict[str, Any] = {
            "title": row.get("title", ""),
            "layout": _grid(_members(panels, index), top=_y(row) + 1),
        }
        if row.get("repeat"):
            spec["repeat"] = {"mode": "variable", "value": row["repeat"]}
        tabs.append({"kind": "TabsLayoutTab", "spec": spec})
    return {"kind": "TabsLayout", "spec": {"tabs": tabs}}


def _y(panel: dict[str, Any]) -> int:
    return int((panel.get("gridPos") or {}).get("y", 0))


def _position(panel: dict[str, Any]) -> tuple[int, int]:
    """Grafana's order of a classic dashboard's panels: by y, then x (a stable sort keeps ties)."""
    return _y(panel), int((panel.get("gridPos") or {}).get("x", 0))


def _first_row_y(panels: list[dict[str, Any]]) -> int:
    return min(_y(panel) for panel in panels if panel.get("type") == "row")


def _row(row: dict[str, Any], members: list[dict[str, Any]], *, hide_header: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "title": row.get("title", ""),
        "collapse": bool(row.get("collapsed", False)),
        "layout": _grid(members, top=_y(row) + 1),
    }
    if hide_header:
        spec["hideHeader"] = True
    if row.get("repeat"):
        spec["repeat"] = {"mode": "variable", "value": row["repeat"]}
    return {"kind": "RowsLayoutRow", "spec": spec}


def _text_or_value(value: Any) -> Any:
    """An option's text or value: a string or a list of them; unset or null is "" (V2 `VariableOption`
    declares no null; Grafana's converter makes a null one "")."""
    return "" if value is None else value


def _option(current: Any) -> dict[str, Any]:
    current = current if isinstance(current, dict) else {}
    option = {"text": _text_or_value(current.get("text")), "value": _text_or_value(current.get("value"))}
    if "selected" in current:
        option["selected"] = bool(current["selected"])
    return option


def _common(variable: dict[str, Any]) -> dict[str, Any]:
    common: dict[str, Any] = {
        "name": variable["name"],
        "current": _option(variable.get("current")),
        "hide": HIDE.get(variable.get("hide", 0), "dontHide"),
        "skipUrlSync": bool(variable.get("skipUrlSync", False)),
    }
    for key in ("label", "description"):
        if variable.get(key):
            common[key] = variable[key]
    return common


def _choices(variable: dict[str, Any]) -> dict[str, Any]:
    """What the variables with a list of values share: saved options, multi, All."""
    choices: dict[str, Any] = {
        "options": [_option(option) for option in variable.get("options") or []],
        "multi": bool(variable.get("multi", False)),
        "includeAll": bool(variable.get("includeAll", False)),
        "allowCustomValue": bool(variable.get("allowCustomValue", True)),
    }
    if variable.get("allValue"):
        choices["allValue"] = variable["allValue"]
    return choices


LEGACY_STRING_VALUE = "__legacyStringValue"
"""Where Grafana's own converters keep a variable query written as a bare string (classic JSON allows
it), so that the way back to classic gives the string again (docs/grafana-13-facts.md §6)."""


def _variable_query(variable: dict[str, Any]) -> dict[str, Any]:
    """A query variable's query, kept whole as Grafana's converters keep it (its `refId` included: the
    Prometheus variable editor names its query by it); a bare string under LEGACY_STRING_VALUE."""
    query = variable.get("query")
    spec = dict(query) if isinstance(query, dict) else {LEGACY_STRING_VALUE: query or ""}
    return _data_query_kind(spec, variable.get("datasource"))


def _variable(variable: dict[str, Any], where: Location) -> dict[str, Any]:
    kind = variable.get("type")
    common = _common(variable)
    if kind == "query":
        spec = {
            **common,
            **_choices(variable),
            "query": _variable_query(variable),
            "refresh": REFRESH.get(variable.get("refresh", 1), "onDashboardLoad"),
            "regex": variable.get("regex") or "",
            "sort": SORT.get(variable.get("sort", 0), "disabled"),
        }
        if variable.get("definition"):
            spec["definition"] = variable["definition"]
        return {"kind": "QueryVariable", "spec": spec}
    if kind == "custom":
        spec = {**common, **_choices(variable), "query": variable.get("query", "")}
        return {"kind": "CustomVariable", "spec": spec}
    if kind == "constant":
        return {"kind": "ConstantVariable", "spec": {**common, "query": variable.get("query", "")}}
    if kind == "textbox":
        return {"kind": "TextVariable", "spec": {**common, "query": variable.get("query", "")}}
    if kind == "datasource":
        spec = {
            **common,
            **_choices(variable),
            "pluginId": variable.get("query", ""),
            "refresh": REFRESH.get(variable.get("refresh", 1), "onDashboardLoad"),
            "regex": variable.get("regex") or "",
        }
        return {"kind": "DatasourceVariable", "spec": spec}
    if kind == "interval":
        spec = {
            **common,
            "query": variable.get("query", ""),
            "options": [_option(option) for option in variable.get("options") or []],
            "auto": bool(variable.get("auto", False)),
            "auto_min": variable.get("auto_min", ""),
            "auto_count": int(variable.get("auto_count") or 0),
            "refresh": "onTimeRangeChanged",
        }
        return {"kind": "IntervalVariable", "spec": spec}
    raise DefinitionError(
        where, f"variable {variable.get('name')!r} is of type {kind!r}, which has no schema v2 form here yet"
    )
