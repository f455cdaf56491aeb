"""Typed Grafana datasource provisioning models (`apiVersion: 1` keys, camelCase on output).

Field values are what Grafana should end up with at runtime (`${__value.raw}`, `^trace_id$`);
`dashboards_as_code.render.provisioning_escape` escapes them for the provisioning loader when the YAML is
written. Key names follow Grafana's provisioning docs and plugin types (shared/reference/grafana.md
§1.3-1.6).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import attr
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from dashboards_as_code.names import DATASOURCE_NAME_MAX, title_problem
from dashboards_as_code.uids import accepted_uid


@attr.s(frozen=True, auto_attribs=True)
class DatasourceRef:
    """A datasource reference in the schema-36+ form `{type, uid}` (never a name).

    An attrs class with `to_json_data()`, so grafanalib serialises it inside panels and targets.
    """

    type: str
    uid: str

    def to_json_data(self) -> dict[str, str]:
        return {"type": self.type, "uid": self.uid}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ExemplarDestination(_Model):
    """Prometheus exemplar label -> trace datasource. `name` must equal the exemplar label exactly."""

    name: str
    datasource_uid: str
    url_display_label: str | None = None


class PrometheusOptions(_Model):
    http_method: Literal["POST", "GET"] = "POST"
    prometheus_type: Literal["Prometheus", "Cortex", "Mimir", "Thanos"] = "Prometheus"
    """What Grafana's Prometheus datasource talks to: `Cortex` where `metrics_engine` moved it."""
    time_interval: str = "15s"
    """The scrape interval: lower bound of `$__rate_interval`."""
    exemplar_trace_id_destinations: list[ExemplarDestination] = []

    def links(self) -> Iterator[tuple[str, str]]:
        for i, dest in enumerate(self.exemplar_trace_id_destinations):
            yield f"jsonData.exemplarTraceIdDestinations[{i}]", dest.datasource_uid


class DerivedField(_Model):
    """A Loki derived field; `matcher_type: label` reads structured metadata such as trace_id."""

    name: str
    matcher_type: Literal["label", "regex"]
    matcher_regex: str
    datasource_uid: str | None = None
    url: str
    url_display_label: str | None = None


class LokiOptions(_Model):
    max_lines: int = 1000
    derived_fields: list[DerivedField] = []

    def links(self) -> Iterator[tuple[str, str]]:
        for i, derived in enumerate(self.derived_fields):
            if derived.datasource_uid is not None:
                yield f"jsonData.derivedFields[{i}]", derived.datasource_uid


class TagMapping(_Model):
    """Span attribute `key`, renamed to `value` for the target's query (Loki labels have no dots)."""

    key: str
    value: str | None = None


class TracesToLogs(_Model):
    datasource_uid: str
    span_start_time_shift: str = "-5m"
    span_end_time_shift: str = "5m"
    tags: list[TagMapping] = []
    filter_by_trace_id: bool = Field(default=False, alias="filterByTraceID")
    filter_by_span_id: bool = Field(default=False, alias="filterBySpanID")
    custom_query: bool = True
    query: str


class MetricQuery(_Model):
    name: str
    query: str


class TracesToMetrics(_Model):
    datasource_uid: str
    span_start_time_shift: str = "-2m"
    span_end_time_shift: str = "2m"
    tags: list[TagMapping] = []
    queries: list[MetricQuery] = []


class JaegerOptions(_Model):
    traces_to_logs: TracesToLogs = Field(alias="tracesToLogsV2")
    traces_to_metrics: TracesToMetrics | None = None
    node_graph: dict[str, bool] = {"enabled": True}
    span_bar: dict[str, str] = {"type": "Duration"}

    def links(self) -> Iterator[tuple[str, str]]:
        yield "jsonData.tracesToLogsV2", self.traces_to_logs.datasource_uid
        if self.traces_to_metrics is not None:
            yield "jsonData.tracesToMetrics", self.traces_to_metrics.datasource_uid


class AlertmanagerOptions(_Model):
    """An Alertmanager Grafana reads (alerts, silences), never one it sends to.

    Grafana's default implementation is Mimir's; Prometheus' Alertmanager has another API, so it
    must be named. Its routes and receivers are read-only in Grafana: the files are the truth."""

    implementation: Literal["prometheus", "mimir", "cortex"] = "prometheus"
    handle_grafana_managed_alerts: bool = False
    """Grafana-managed alerts stay in Grafana: the stack's alerts are Prometheus rules."""

    def links(self) -> Iterator[tuple[str, str]]:
        return iter(())


class Datasource(_Model):
    name: str
    uid: str
    type: str
    url: str
    """As seen from the Grafana container, inside the compose network."""
    access: Literal["proxy"] = "proxy"
    is_default: bool = False
    editable: bool = False
    """Provisioned datasources are read-only in the UI: the files are the source of truth."""
    version: int = 1
    json_data: PrometheusOptions | LokiOptions | JaegerOptions | AlertmanagerOptions
    http_headers: dict[str, str] = Field(default_factory=dict, exclude=True)
    """Headers Grafana sends with every request to it (Cortex's tenant, `metrics_engine`): in Grafana's
    form, each name as `jsonData.httpHeaderNameN` and its value as `secureJsonData.httpHeaderValueN`
    (write-only: Grafana never gives a secure value back)."""

    @field_validator("uid")
    @classmethod
    def _grafana_accepts_uid(cls, uid: str) -> str:
        return accepted_uid(uid)

    @field_validator("name")
    @classmethod
    def _grafana_stores_name(cls, name: str) -> str:
        """The name is the datasource's title in Grafana (data_source.name, VARCHAR(190), unique)."""
        problem = title_problem(name, DATASOURCE_NAME_MAX, "Grafana's data_source.name column")
        if problem:
            raise ValueError(problem)
        return name

    @property
    def ref(self) -> DatasourceRef:
        return DatasourceRef(type=self.type, uid=self.uid)

    def links(self) -> Iterator[tuple[str, str]]:
        """(field, target uid) for every link this datasource makes to another one."""
        yield from self.json_data.links()

    def document(self) -> dict[str, Any]:
        """The provisioning entry, with runtime values (not yet `$$`-escaped)."""
        entry = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        for number, name in enumerate(sorted(self.http_headers), 1):
            entry["jsonData"][f"httpHeaderName{number}"] = name
            entry.setdefault("secureJsonData", {})[f"httpHeaderValue{number}"] = self.http_headers[name]
        return entry


class PrometheusDatasource(Datasource):
    type: Literal["prometheus"] = "prometheus"
    json_data: PrometheusOptions


class LokiDatasource(Datasource):
    type: Literal["loki"] = "loki"
    json_data: LokiOptions


class JaegerDatasource(Datasource):
    type: Literal["jaeger"] = "jaeger"
    json_data: JaegerOptions


class AlertmanagerDatasource(Datasource):
    type: Literal["alertmanager"] = "alertmanager"
    json_data: AlertmanagerOptions
