"""Types of the telemetry contract, and the OTel -> Prometheus/Loki naming rules they rely on.

A project's contract (TikTickets: `telemetry/contract.py`) is data; this module holds the shapes of
that data and the two
translation rules that decide what a signal is called once it leaves the Collector:

* Prometheus names follow the OTLP translator shared by the Collector's `prometheus` exporter and
  Prometheus' own OTLP receiver (`UnderscoreEscapingWithSuffixes`): every character outside
  `[a-zA-Z0-9:]` separates words joined by one `_`, a unit suffix is appended (curly-brace units are
  dropped), `_total` only for monotonic counters, `_` before a leading digit.
* Loki (native OTLP) indexes only a fixed list of resource attributes; everything else is
  structured metadata.

Declared names are checked against these rules in the tests, so a typo in the contract fails loudly
instead of producing a dashboard that shows "No data".
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator


class ContractError(ValueError):
    """A lookup or a definition that the telemetry contract does not allow."""


class Instrument(StrEnum):
    """The OTel instrument kind, which decides the Prometheus type and the `_total` suffix."""

    COUNTER = "Counter"
    UP_DOWN_COUNTER = "UpDownCounter"
    HISTOGRAM = "Histogram"
    GAUGE = "Gauge"


class PromType(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


# OTel unit -> Prometheus suffix (otlptranslator `unitMap`, and `perUnitMap` for the part after `/`).
_UNIT_SUFFIX = {
    "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds",
    "us": "microseconds", "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes",
    "GiBy": "gibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes",
    "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams",
    "Cel": "celsius", "Hz": "hertz", "%": "percent", "1": "", "": "",
}  # fmt: skip
_PER_UNIT_SUFFIX = {
    "s": "second",
    "m": "minute",
    "h": "hour",
    "d": "day",
    "w": "week",
    "mo": "month",
    "y": "year",
}

PROMETHEUS_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
"""What Prometheus accepts as a metric name without UTF-8 quoting (its data model)."""
PROMETHEUS_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
"""What Prometheus accepts as a label name without UTF-8 quoting."""

_NOT_IN_A_METRIC_NAME = re.compile(r"[^a-zA-Z0-9:]+")
"""Separates the name's tokens: every character a metric name cannot hold (ASCII letters, digits and
`:` only; so `.`, `-`, `/`, spaces and any non-ASCII letter or digit) and `_` itself, so runs of them
become one `_` and none is left at either end."""
_NOT_IN_A_LABEL_NAME = re.compile(r"[^a-zA-Z0-9_]")

# Resource attributes Loki's OTLP endpoint turns into index (stream) labels by default
# (`-distributor.otlp.default_resource_attributes_as_index_labels`, the subset this stack can emit).
LOKI_DEFAULT_INDEX_LABELS = frozenset(
    {
        "service_name",
        "service_namespace",
        "service_instance_id",
        "deployment_environment",
        "deployment_environment_name",
        "container_name",
    }
)


def prometheus_label(otel_attribute: str) -> str:
    """`http.route` -> `http_route`: what the translator does to every attribute name. Each character a
    label cannot hold becomes `_`; a name that would start with a digit gets `key_` before it, and one
    that starts with a single `_` gets `key` (a leading `__` is Prometheus' reserved prefix, kept)."""
    label = _NOT_IN_A_LABEL_NAME.sub("_", otel_attribute)
    if label[:1].isdigit():
        return f"key_{label}"
    if label.startswith("_") and not label.startswith("__"):
        return f"key{label}"
    return label


def _unit_part(otel_name: str, unit: str, part: str, table: dict[str, str]) -> str:
    """One side of `main/per` as its suffix word; an annotation (`{session}`) names nothing."""
    part = part.strip()
    if not part or "{" in part or "}" in part:
        return ""
    if part not in table:
        raise ContractError(f"unit {unit!r} of {otel_name} has no known Prometheus suffix")
    return table[part]


def _unit_suffixes(otel_name: str, unit: str) -> tuple[str, str]:
    """The unit as (main suffix, `per_` suffix), each possibly empty: `By/s` -> (`bytes`, `per_second`)."""
    main, _, per = unit.partition("/")
    per_word = _unit_part(otel_name, unit, per, _PER_UNIT_SUFFIX)
    return _unit_part(otel_name, unit, main, _UNIT_SUFFIX), f"per_{per_word}" if per_word else ""


def prometheus_base_name(otel_name: str, unit: str, instrument: Instrument) -> str:
    """The metric name the Collector's prometheus exporter gives an OTel instrument.

    `otlptranslator`'s `normalizeName` with suffixes (`UnderscoreEscapingWithSuffixes`): the name cut
    into tokens at every character a metric name cannot hold, joined with `_`; the unit suffix unless
    that word is a token already, then the `per_` suffix; `_total` last for monotonic counters only and
    `_ratio` last for a gauge of unit `1` (an existing `total` or `ratio` token moves to the end); `_`
    before a name that would start with a digit. For histograms this is the name before
    `_bucket`/`_sum`/`_count`. Raises ContractError for an unknown unit or a name with nothing left.
    """
    tokens = [token for token in _NOT_IN_A_METRIC_NAME.split(otel_name) if token]
    main, per = _unit_suffixes(otel_name, unit)
    if main and main not in tokens:
        tokens.append(main)
    if per:
        tokens.append(per)
    if instrument is Instrument.COUNTER:
        tokens = [t for t in tokens if t != "total"] + ["total"]
    if instrument is Instrument.GAUGE and unit == "1":
        tokens = [t for t in tokens if t != "ratio"] + ["ratio"]
    name = "_".join(tokens)
    if not name:
        raise ContractError(f"OTel name {otel_name!r} keeps no character a Prometheus name can hold")
    return f"_{name}" if name[0].isdigit() else name


RESOURCE_LABEL_SOURCES = {
    "job": "resource `service.namespace`/`service.name`",
    "instance": "resource `service.instance.id`",
}
"""The labels the Collector's exporter makes from the resource (`extractJob`/`extractInstance`)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


OVERFLOW_ATTRIBUTE = "otel.metric.overflow"
"""The attribute an OTel SDK (and the spanmetrics connector) puts on the one series into which it folds
every attribute set past its cardinality limit: `otel_metric_overflow="true"` in Prometheus."""
OVERFLOW_LABEL = prometheus_label(OVERFLOW_ATTRIBUTE)
"""`otel_metric_overflow`: the overflow series' one label besides the resource's (job, instance)."""
OVERFLOW_VALUE = "true"
"""The attribute is the boolean true, which the Collector's prometheus exporter writes as `true`."""


class TenantBudget(_Frozen):
    """What one tenant costs a tenant-scoped signal, in Prometheus series.

    Every emitter of a tenant-scoped signal keeps at most a fixed number of attribute sets per metric
    (an OTel SDK: 2,000 by default) and folds the rest into one overflow series, which hides every
    tenant past the limit. The budget is what the emitter's limit is derived from
    (`TelemetryContract.cardinality_limit`) and what the series count of the stack is predicted from.
    """

    series: int
    """Series per tenant with one backend instance, at most (every dimension value the signal takes)."""
    per_extra_instance: int
    """Series each further backend instance adds per tenant: 0 when the series does not carry the
    instance (aggregated by the Collector) or when a tenant's value lives on one instance only."""
    dimensions: str
    """What multiplies the tenant's series, in words: the backend team's guide to staying in budget."""
    per_extra_shard: int = 0
    """Series each further Collector shard adds per tenant, where the Collector tier is sharded (the
    scaled topology): a series the shards count from spans carries the shard's label, and a tenant's
    traces reach every shard, so it repeats per shard; 0 for what one process emits (its metrics go to
    one shard)."""

    @model_validator(mode="after")
    def _positive(self) -> TenantBudget:
        if self.series < 1 or self.per_extra_instance < 0 or self.per_extra_instance > self.series:
            raise ContractError(
                f"a tenant budget needs series >= 1 and 0 <= per_extra_instance <= series, "
                f"got {self.series} and {self.per_extra_instance}"
            )
        if not 0 <= self.per_extra_shard <= self.series:
            raise ContractError(
                f"a tenant budget needs 0 <= per_extra_shard <= series, got {self.per_extra_shard} "
                f"and {self.series}"
            )
        return self


class MetricSignal(_Frozen):
    """One metric as the backend or the Collector emits it, and as Prometheus stores it."""

    key: str
    otel_name: str
    unit: str
    instrument: Instrument
    emitter: str
    """Who emits it (the SDK, a Collector connector): shown to the team that owns the emitter."""
    description: str
    attributes: tuple[str, ...]
    """OTel attributes on each data point (dimensions), in OTel spelling."""
    resource_labels: tuple[str, ...] = tuple(RESOURCE_LABEL_SOURCES)
    """Labels that come from the resource: `job` = namespace/name, `instance` = service.instance.id."""
    identity: tuple[tuple[str, str], ...]
    """Label matchers that select this service's series (e.g. `job="tiktickets/tiktickets-backend"`)."""
    exemplar_labels: tuple[str, ...] = ()
    prometheus_name: str
    """Declared Prometheus name (base name for histograms); checked against the naming rule."""
    grafana_unit: str
    """Grafana unit id of the raw value (`s`, `short`): what a panel reading it should claim."""
    tenant_budget: TenantBudget | None = None
    """Required on every tenant-scoped signal (one with `tenant_id`), refused on the others."""
    present_only_when: str | None = None
    """For a signal that has no series while nothing it counts happens (no request over the latency
    target in the last hour), when it does exist, in words. Its absence is then no fault: the
    missing-signal alert leaves it out, and a query reading it must not need it (`or` a zero)."""

    @model_validator(mode="after")
    def _labels_are_consistent(self) -> MetricSignal:
        labels = set(self.labels)
        if ("tenant_id" in labels) != (self.tenant_budget is not None):
            raise ContractError(
                f"{self.key}: a signal with a tenant_id label needs a tenant_budget (series per tenant), "
                "and only such a signal may have one"
            )
        for label, _ in self.identity:
            if label not in labels:
                raise ContractError(f"{self.key}: identity label {label!r} is not a label of the series")
        if "trace_id" in labels:
            raise ContractError(f"{self.key}: trace_id must never be a Prometheus label (exemplars only)")
        return self

    @property
    def prom_type(self) -> PromType:
        return {
            Instrument.COUNTER: PromType.COUNTER,
            Instrument.UP_DOWN_COUNTER: PromType.GAUGE,
            Instrument.GAUGE: PromType.GAUGE,
            Instrument.HISTOGRAM: PromType.HISTOGRAM,
        }[self.instrument]

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label on the stored series (`le` excluded; see `series_labels`)."""
        own = tuple(prometheus_label(a) for a in self.attributes)
        return own + tuple(label for label in self.resource_labels if label not in own)

    @property
    def label_sources(self) -> dict[str, str]:
        """Each label with what it is made from: its OTel attribute (`http.route`) or the resource."""
        sources = {prometheus_label(a): f"`{a}`" for a in self.attributes}
        for label in self.resource_labels:
            sources.setdefault(label, RESOURCE_LABEL_SOURCES.get(label, "the resource"))
        return sources

    @property
    def tenant_scoped(self) -> bool:
        return "tenant_id" in self.labels

    @property
    def series_names(self) -> tuple[str, ...]:
        """All series names Prometheus stores for this signal."""
        if self.prom_type is PromType.HISTOGRAM:
            return tuple(f"{self.prometheus_name}_{part}" for part in ("bucket", "sum", "count"))
        return (self.prometheus_name,)

    def series(self, part: str | None = None) -> str:
        """The series name to select; `part` is `bucket`, `sum` or `count` for histograms."""
        if self.prom_type is PromType.HISTOGRAM:
            if part not in ("bucket", "sum", "count"):
                raise ContractError(f"{self.key} is a histogram: choose the bucket, sum or count series")
            return f"{self.prometheus_name}_{part}"
        if part is not None:
            raise ContractError(f"{self.key} is a {self.prom_type.value}: it has no {part!r} series")
        return self.prometheus_name

    def series_labels(self, series: str) -> tuple[str, ...]:
        return (*self.labels, "le") if series.endswith("_bucket") else self.labels


class LogSignal(_Frozen):
    """A log stream in Loki, fed through Loki's native OTLP endpoint."""

    key: str
    description: str
    emitter: str
    stream: tuple[tuple[str, str], ...]
    """Stream selector that identifies this service's logs (index labels only)."""
    index_labels: tuple[str, ...]
    structured_metadata: tuple[str, ...]
    error_severity_number: int = 17
    """OTel SeverityNumber of ERROR; pino sends lower-case severity_text, so filter on the number."""

    @model_validator(mode="after")
    def _labels_are_consistent(self) -> LogSignal:
        if "tenant_id" in self.index_labels or "tenant_id" in dict(self.stream):
            raise ContractError(f"{self.key}: tenant_id must never be a Loki stream label")
        unknown = set(self.index_labels) - LOKI_DEFAULT_INDEX_LABELS
        if unknown:
            raise ContractError(f"{self.key}: Loki does not index {sorted(unknown)} for OTLP logs")
        for label, _ in self.stream:
            if label not in self.index_labels:
                raise ContractError(f"{self.key}: stream label {label!r} is not an index label")
        return self


class TraceSignal(_Frozen):
    """Spans as Jaeger stores them: what the correlations and the spanmetrics connectors rely on."""

    key: str
    description: str
    service: str
    span_kind: str
    attributes: tuple[str, ...]


class Resource(_Frozen):
    """The OTel resource every backend signal carries."""

    service_name: str
    service_namespace: str

    @property
    def job(self) -> str:
        """Prometheus `job` as the Collector's exporter derives it: `<namespace>/<name>`."""
        return f"{self.service_namespace}/{self.service_name}"


class LabelValues(_Frozen):
    """The values a Prometheus label takes, as a query author types them after `label=`.

    The OTel attribute names in the metric table do not tell a query author that the span kind is
    written `span_kind="SPAN_KIND_SERVER"`, not `span.kind="server"`: this is where the contract says so.
    """

    label: str
    """The Prometheus label name (after translation: `span_kind`, not `span.kind`)."""
    values: tuple[str, ...]
    """Every value when `closed`, otherwise examples of what the values look like."""
    closed: bool = False
    """True when no other value can appear (an OTel enum the Collector writes by name)."""
    meaning: str = ""


class TelemetryContract(_Frozen):
    resource: Resource
    metrics: tuple[MetricSignal, ...]
    logs: tuple[LogSignal, ...]
    traces: tuple[TraceSignal, ...]
    label_values: tuple[LabelValues, ...] = ()
    """The values of the metrics' Prometheus labels, for the contract page and the end-to-end check."""
    tenants_per_instance: int = 10_000
    """The most tenants one backend instance (and the Collector) must keep apart in every series."""
    limit_headroom: int = 2
    """Cardinality limits are this many times the budget: the OTel JS SDK (sdk-metrics 3.1.0) counts
    against an observable gauge's limit every attribute set it has observed since the process started
    (its memory of a tenant is never freed), so tenants that came and went count too; a synchronous
    instrument counts those recorded since the last export."""

    def cardinality_limit(self, signal: MetricSignal) -> int:
        """The attribute sets per metric stream the emitter of `signal` must be configured to keep."""
        if signal.tenant_budget is None:
            raise ContractError(f"{signal.key} is not tenant-scoped: it has no cardinality budget")
        return signal.tenant_budget.series * self.tenants_per_instance * self.limit_headroom

    def series_per_tenant(self, instances: int = 1, shards: int = 1) -> int:
        """Raw series per tenant that the tenant-scoped signals' budgets add up to, on `instances`
        backend instances and `shards` Collector shards (1: the single Collector)."""
        budgets = [m.tenant_budget for m in self.metrics if m.tenant_budget is not None]
        return sum(
            b.series + (instances - 1) * b.per_extra_instance + (shards - 1) * b.per_extra_shard
            for b in budgets
        )

    @model_validator(mode="after")
    def _keys_are_unique(self) -> TelemetryContract:
        keys = [s.key for s in self.metrics] + [s.key for s in self.logs] + [s.key for s in self.traces]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ContractError(f"duplicate signal keys in the telemetry contract: {duplicates}")
        return self

    @model_validator(mode="after")
    def _label_values_name_real_labels(self) -> TelemetryContract:
        labels = {label for signal in self.metrics for label in signal.labels}
        seen: set[str] = set()
        for entry in self.label_values:
            if entry.label not in labels:
                raise ContractError(
                    f"label_values: {entry.label!r} is not a Prometheus label of any metric "
                    f"(the metrics' labels: {', '.join(sorted(labels))})"
                )
            if entry.label in seen:
                raise ContractError(f"label_values: {entry.label!r} is described twice")
            if not entry.values:
                raise ContractError(f"label_values: {entry.label!r} lists no value")
            seen.add(entry.label)
        return self

    def values_of(self, label: str) -> LabelValues | None:
        """What the contract says about `label`'s values, or None when it says nothing."""
        return next((entry for entry in self.label_values if entry.label == label), None)

    def metric(self, key: str) -> MetricSignal:
        for signal in self.metrics:
            if key in (signal.key, signal.prometheus_name, signal.otel_name):
                return signal
        known = ", ".join(sorted(s.key for s in self.metrics))
        raise ContractError(f"unknown metric signal {key!r}: the telemetry contract defines {known}")

    def log(self, key: str) -> LogSignal:
        for signal in self.logs:
            if signal.key == key:
                return signal
        known = ", ".join(sorted(s.key for s in self.logs))
        raise ContractError(f"unknown log signal {key!r}: the telemetry contract defines {known}")

    def metric_for_series(self, series: str) -> MetricSignal | None:
        """The signal that stores `series` in Prometheus, or None if nothing in the contract does."""
        for signal in self.metrics:
            if series in signal.series_names:
                return signal
        return None
