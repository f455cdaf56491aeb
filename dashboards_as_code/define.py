"""Everything a definition imports, from one place: `from dashboards_as_code.define import ...`.

Dashboards, datasources, rules, the telemetry contract and `config.py` import from here only, so
the engine's modules can move without breaking a project's definitions (`tests/test_public_api.py`
pins the names, and an import contract keeps the project's own definitions to this module). What is
here, by what it is for:

- the telemetry contract: `TelemetryContract`, `MetricSignal`, `LogSignal`, `TraceSignal`, ...
- queries over it: `queries` (the builders: `queries.rate`, `queries.tenant_sum`...), `Matcher`;
- panels and dashboards: `dashboard`, `Row`, `timeseries`, `stat`, `bar_gauge`, `logs`, `prom`,
  `loki`, units, links, `QueryVariable`;
- datasources and their links; recording rules and alerts; alert routing;
- the project's shape: `ProjectConfig` (with `MetricsEngine`), `Folder`, `DashboardDefinition`;
- the defaults definitions share (`TENANT_LABEL`, `TENANT_VARIABLE`, `ALL_TENANTS`, ...) and the
  duration helpers (`parse_duration`, `range_seconds`).
"""

from __future__ import annotations

from dashboards_as_code import queries
from dashboards_as_code.contract.model import (
    OVERFLOW_LABEL,
    OVERFLOW_VALUE,
    Instrument,
    LabelValues,
    LogSignal,
    MetricSignal,
    PromType,
    Resource,
    TelemetryContract,
    TenantBudget,
    TraceSignal,
)
from dashboards_as_code.defaults import (
    ALL_TENANTS,
    DASHBOARD_TIME_FROM,
    RECORDING_RATE_WINDOW,
    TENANT_LABEL,
    TENANT_VARIABLE,
)
from dashboards_as_code.definitions.alert_routing import (
    AlertRouting,
    Inhibition,
    Receiver,
    SeverityRoute,
    Webhook,
)
from dashboards_as_code.definitions.datasource import (
    AlertmanagerDatasource,
    AlertmanagerOptions,
    DerivedField,
    ExemplarDestination,
    JaegerDatasource,
    JaegerOptions,
    LokiDatasource,
    LokiOptions,
    MetricQuery,
    PrometheusDatasource,
    PrometheusOptions,
    TagMapping,
    TracesToLogs,
    TracesToMetrics,
)
from dashboards_as_code.definitions.metrics_engine import MetricsEngine
from dashboards_as_code.definitions.prometheus_rule import AlertRule, RecordingRule, RuleGroup
from dashboards_as_code.definitions.types import DashboardDefinition, Folder, ProjectConfig
from dashboards_as_code.grafana_math import parse_duration, range_seconds
from dashboards_as_code.kinds.correlation import Correlation, CorrelationTransformation
from dashboards_as_code.panels.grafanalib_ext import QueryVariable
from dashboards_as_code.panels.style import (
    COUNT,
    RATIO_AS_PERCENT,
    REQUESTS_PER_SECOND,
    SECONDS,
    PanelSpec,
    Row,
    bar_gauge,
    dashboard,
    dashboard_link,
    explore_link,
    logs,
    loki,
    prom,
    stat,
    tenant_link,
    thresholds,
    timeseries,
)
from dashboards_as_code.queries import Matcher

__all__ = [
    "ALL_TENANTS",
    "COUNT",
    "DASHBOARD_TIME_FROM",
    "OVERFLOW_LABEL",
    "OVERFLOW_VALUE",
    "RATIO_AS_PERCENT",
    "RECORDING_RATE_WINDOW",
    "REQUESTS_PER_SECOND",
    "SECONDS",
    "TENANT_LABEL",
    "TENANT_VARIABLE",
    "AlertRouting",
    "AlertRule",
    "AlertmanagerDatasource",
    "AlertmanagerOptions",
    "Correlation",
    "CorrelationTransformation",
    "DashboardDefinition",
    "DerivedField",
    "ExemplarDestination",
    "Folder",
    "Inhibition",
    "Instrument",
    "JaegerDatasource",
    "JaegerOptions",
    "LabelValues",
    "LogSignal",
    "LokiDatasource",
    "LokiOptions",
    "Matcher",
    "MetricQuery",
    "MetricSignal",
    "MetricsEngine",
    "PanelSpec",
    "ProjectConfig",
    "PromType",
    "PrometheusDatasource",
    "PrometheusOptions",
    "QueryVariable",
    "Receiver",
    "RecordingRule",
    "Resource",
    "Row",
    "RuleGroup",
    "SeverityRoute",
    "TagMapping",
    "TelemetryContract",
    "TenantBudget",
    "TraceSignal",
    "TracesToLogs",
    "TracesToMetrics",
    "Webhook",
    "bar_gauge",
    "dashboard",
    "dashboard_link",
    "explore_link",
    "logs",
    "loki",
    "parse_duration",
    "prom",
    "queries",
    "range_seconds",
    "stat",
    "tenant_link",
    "thresholds",
    "timeseries",
]
