"""A dashboard definition -> the dashboard JSON Grafana gets, from files and from a push alike.

grafanalib writes what Grafana 4 to 10 understood; what is dropped here is listed with the reason,
and nothing else is removed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafanalib._gen import DashboardEncoder

from dashboards_as_code import defaults
from dashboards_as_code.definitions.types import DashboardDefinition, Folder, SectionsInV2

# Fields grafanalib writes that we drop, and why. Nothing else is removed.
DROPPED_DASHBOARD_FIELDS = {
    "__inputs": "UI-import placeholders; file provisioning and the API never resolve them",
    "gnetId": "grafana.com id of an imported dashboard; ours are generated, not imported",
    "hideControls": "Grafana 4 option, no effect since Grafana 5",
    "rows": "Grafana 4 row layout; panels carry gridPos",
    "sharedCrosshair": "superseded by graphTooltip",
    "style": "per-dashboard theme, removed from the dashboard model in Grafana 10",
}
DROPPED_PANEL_FIELDS = {
    "span": "Grafana 4 row layout width; gridPos decides",
    "height": "Grafana 4 row layout height; gridPos decides",
    "minSpan": "Grafana 4 repeat option",
    "error": "runtime state, not configuration",
    "editable": "not a panel field; the dashboard's editable flag applies",
    "maxDataPoints": "grafanalib's default of 100 coarsens queries; without it Grafana uses the panel width",
}
ROW_PANEL_FIELDS = ("collapsed", "gridPos", "id", "panels", "repeat", "title", "type")
"""A row is a header: Grafana ignores queries, datasource and options on it, so only these are kept."""


def without_nulls(node: Any, key: str = "") -> Any:
    """`node` without null-valued keys, at any depth: grafanalib writes null for what is unset, and
    Grafana's schema allows null almost nowhere (absent means "unset" to Grafana as well). The one
    null it declares is a threshold step's `value`: the base step, below every other."""
    if isinstance(node, dict):
        return {
            k: without_nulls(v, k)
            for k, v in node.items()
            if v is not None or (key == "steps" and k == "value")
        }
    if isinstance(node, list):
        return [without_nulls(item, key) for item in node]
    return node


def _panel(panel: dict[str, Any]) -> dict[str, Any]:
    if panel.get("type") == "row":
        row = {key: panel[key] for key in ROW_PANEL_FIELDS if panel.get(key) is not None}
        if row.get("panels"):  # a collapsed row holds its panels: they are normalised like the others
            row["panels"] = [_panel(nested) for nested in row["panels"]]
        return row
    kept: dict[str, Any] = without_nulls({k: v for k, v in panel.items() if k not in DROPPED_PANEL_FIELDS})
    return kept


def dashboard_document(definition: DashboardDefinition) -> dict[str, Any]:
    """The dashboard JSON Grafana gets (file provisioning) and that a push sends."""
    raw = json.loads(json.dumps(definition.dashboard.to_json_data(), cls=DashboardEncoder))
    document = {key: value for key, value in raw.items() if key not in DROPPED_DASHBOARD_FIELDS}
    document["schemaVersion"] = defaults.SCHEMA_VERSION
    document["id"] = None
    document["panels"] = [_panel(p) for p in raw["panels"]]
    timepicker = without_nulls(document.get("timepicker") or {})
    timepicker.pop("time_options", None)  # removed from the time picker in Grafana 8; migration 41 drops it
    document["timepicker"] = timepicker
    if not isinstance(document.get("refresh"), str):  # migration 40: a string, "" for no auto-refresh
        document["refresh"] = ""
    for panel in _every_panel(document["panels"]):
        _hidden_from_the_graph_is_hidden_from_the_tooltip(panel)
    return document


def _every_panel(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The panels and those inside collapsed rows, which Grafana's migrations visit too."""
    return [nested for panel in panels for nested in (panel, *_every_panel(panel.get("panels") or []))]


def _hidden_from_the_graph_is_hidden_from_the_tooltip(panel: dict[str, Any]) -> None:
    """Migration 42: an override hiding a series from the graph (`custom.hideFrom.viz`) hides it from
    the tooltip too. A document at 42 is not migrated, so it must say so itself, or a definition
    written for an older Grafana would show the hidden series in the tooltip on 13.2."""
    for override in (panel.get("fieldConfig") or {}).get("overrides") or []:
        for item in override.get("properties") or []:
            value = item.get("value")
            if item.get("id") == "custom.hideFrom" and isinstance(value, dict) and value.get("viz") is True:
                value["tooltip"] = True


@dataclass(frozen=True)
class DashboardDocument:
    """A dashboard definition and its normalised JSON, made once per command."""

    definition: DashboardDefinition
    document: dict[str, Any]

    @property
    def uid(self) -> str:
        return self.definition.uid

    @property
    def folder(self) -> Folder:
        return self.definition.folder

    @property
    def sections_in_v2(self) -> SectionsInV2:
        return self.definition.sections_in_v2
