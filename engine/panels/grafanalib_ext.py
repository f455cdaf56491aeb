"""The few pieces grafanalib 0.7.1 lacks, as small typed classes it can serialise.

grafanalib's encoder only needs `to_json_data()`, so these plug into its panels unchanged:
* Prometheus targets with `exemplar`, `range`/`instant` and `editorMode` (its `Target` has none and
  adds legacy `step`/`intervalFactor`/`query` fields);
* Loki targets with `queryType` (unreleased upstream);
* a bar gauge that emits the Grafana 8+ options (its `BarGauge` emits the Grafana 6 `fieldOptions`);
* a query variable in the object form current Grafana saves, with a datasource `{type, uid}`.
Everything else stays grafanalib. Do not grow this into a second grafanalib.
"""

from __future__ import annotations

from typing import Any

import attr
from attr.validators import in_, instance_of, optional
from grafanalib.core import Panel

from engine.definitions.datasource import DatasourceRef
from engine.queries import LogQL, PromQL


@attr.s(auto_attribs=True)
class PrometheusTarget:
    expr: PromQL = attr.ib(validator=instance_of(PromQL))
    legend: str = "__auto"
    exemplar: bool = False
    instant: bool = False
    ref_id: str = "A"
    datasource: DatasourceRef | None = None

    def to_json_data(self) -> dict[str, Any]:
        return {
            "datasource": self.datasource,
            "editorMode": "code",
            "exemplar": self.exemplar,
            "expr": self.expr.text,
            "format": "time_series",
            "instant": self.instant,
            "legendFormat": self.legend,
            "range": not self.instant,
            "refId": self.ref_id,
        }


@attr.s(auto_attribs=True)
class LokiTarget:
    expr: LogQL = attr.ib(validator=instance_of(LogQL))
    query_type: str = attr.ib(default="range", validator=in_(["range", "instant"]))
    max_lines: int | None = attr.ib(default=None, validator=optional(instance_of(int)))
    ref_id: str = "A"
    datasource: DatasourceRef | None = None

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "datasource": self.datasource,
            "editorMode": "code",
            "expr": self.expr.text,
            "queryType": self.query_type,
            "refId": self.ref_id,
        }
        if self.max_lines is not None:
            data["maxLines"] = self.max_lines
        return data


@attr.s
class BarGauge(Panel):  # type: ignore[misc]  # grafanalib is untyped
    """A bar gauge with the current option set (one bar per series, e.g. per tenant)."""

    unit: str = attr.ib(default="short")
    thresholds: list[dict[str, Any]] = attr.ib(factory=list)
    orientation: str = attr.ib(default="horizontal")
    display_mode: str = attr.ib(default="gradient")
    calcs: list[str] = attr.ib(factory=lambda: ["lastNotNull"])
    min: float | None = attr.ib(default=0)

    def to_json_data(self) -> dict[str, Any]:
        return self.panel_json(  # type: ignore[no-any-return]
            {
                "type": "bargauge",
                "fieldConfig": {
                    "defaults": {
                        "unit": self.unit,
                        "min": self.min,
                        "thresholds": {"mode": "absolute", "steps": self.thresholds},
                        "color": {"mode": "thresholds"},
                    },
                    "overrides": [],
                },
                "options": {
                    "orientation": self.orientation,
                    "displayMode": self.display_mode,
                    "showUnfilled": True,
                    "valueMode": "color",
                    "namePlacement": "auto",
                    "sizing": "auto",
                    "minVizHeight": 16,
                    "minVizWidth": 8,
                    "maxVizHeight": 300,
                    # Required by Grafana's bargauge Options type; the bars name their series already.
                    "legend": {
                        "showLegend": False,
                        "displayMode": "list",
                        "placement": "bottom",
                        "calcs": [],
                    },
                    "reduceOptions": {"calcs": self.calcs, "fields": "", "values": False},
                },
            }
        )


@attr.s(auto_attribs=True)
class QueryVariable:
    """A Prometheus query variable (`label_values(...)`), multi-value with an All option."""

    name: str
    label: str
    query: str
    datasource: DatasourceRef
    all_value: str | None = ".*"
    """With thousands of tenants, All as `.*` keeps the regex short instead of listing every value."""
    multi: bool = True
    include_all: bool = True

    def to_json_data(self) -> dict[str, Any]:
        return {
            "type": "query",
            "name": self.name,
            "label": self.label,
            "datasource": self.datasource,
            "definition": self.query,
            "query": {
                "qryType": 1,
                "query": self.query,
                "refId": "PrometheusVariableQueryEditor-VariableQuery",
            },
            "refresh": 2,
            "sort": 1,
            "multi": self.multi,
            "includeAll": self.include_all,
            "allValue": self.all_value,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "options": [],
            "hide": 0,
            "regex": "",
        }
