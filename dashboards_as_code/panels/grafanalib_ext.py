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

from dashboards_as_code.definitions.datasource import DatasourceRef
from dashboards_as_code.queries import LogQL, PromQL


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
    data_links: list[dict[str, Any]] = attr.ib(factory=list)
    """Field data links (`fieldConfig.defaults.links`): one per bar, e.g. to the bar's tenant."""

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
                        "links": self.data_links,
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
    """A Prometheus query variable (`label_values(...)`): multi-value with an All option by default,
    or a single-select one (`multi=False, include_all=False`) for a dashboard about one tenant.

    Without All there is no `current`: Grafana opens such a dashboard on the first value the query
    returns (in `sort` order), as a saved value that is not among the options also would. Grafana's
    scene loader reads an absent `current` as the value '', and `MultiValueVariable`'s validation
    (grafana/scenes, packages/scenes/src/variables/variants/MultiValueVariable.ts) replaces a value
    that is no option with `options[0]` (`[options[0]]` when multi). A `$__all` there would be
    wrong twice: it is no value of the variable, and `doctor` would send it to Prometheus.
    """

    name: str
    label: str
    query: str
    datasource: DatasourceRef
    all_value: str | None = ".*"
    """What Grafana sends for All. With thousands of tenants, `.*` keeps the regex short instead of
    listing every value; None sends every value as a regex alternation. Ignored without All."""
    multi: bool = True
    include_all: bool = True

    def to_json_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
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
            "options": [],
            "hide": 0,
            "regex": "",
        }
        if self.include_all:
            # Grafana's schema has `allValue?: string`: no custom value is no key, never null.
            if self.all_value is not None:
                data["allValue"] = self.all_value
            text, value = ("All", "$__all")
            data["current"] = {
                "selected": True,
                "text": [text] if self.multi else text,
                "value": [value] if self.multi else value,
            }
        return data
