"""PromQL and LogQL builders over the telemetry contract.

Queries are assembled from contract signals, so a label a signal does not carry, `rate()` over a
gauge or a stream selector on a label Loki does not index is refused when the definition is loaded,
with a message naming the signal, instead of surfacing as an empty panel in Grafana.
The result objects remember which signals they read, which the lint checks and tests use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.contract.model import ContractError, LogSignal, MetricSignal, PromType
from engine.defaults import ALL_TENANTS, RATE_WINDOW, TENANT_LABEL, TENANT_VARIABLE

MatchOp = Literal["=", "!=", "=~", "!~"]
"""A label matcher's operator, the same in PromQL and LogQL selectors."""


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Matcher:
    """A label matcher; the same syntax serves PromQL selectors and LogQL stream selectors."""

    label: str
    op: MatchOp
    value: str

    def render(self) -> str:
        return f"{self.label}{self.op}{_quote(self.value)}"


def eq(label: str, value: str) -> Matcher:
    return Matcher(label, "=", value)


def ne(label: str, value: str) -> Matcher:
    return Matcher(label, "!=", value)


def tenant_matcher() -> Matcher:
    """`tenant_id=~"$tenant"`: Grafana expands a multi-value or All selection into a regex."""
    return Matcher(TENANT_LABEL, "=~", f"${TENANT_VARIABLE}")


@dataclass(frozen=True)
class PromQL:
    """A PromQL expression and the contract signals it reads."""

    text: str
    signals: tuple[MetricSignal, ...]
    selector_of: MetricSignal | None = None
    """Set when the expression is a bare series selector (what `rate` needs)."""
    labels: frozenset[str] = frozenset()
    """Labels the result still carries (for validating `sum by`)."""

    def __str__(self) -> str:
        return self.text


def select(
    signal: MetricSignal,
    *matchers: Matcher,
    part: str | None = None,
    tenant_filter: bool | None = None,
    grafana_tags: bool = False,
) -> PromQL:
    """`series{identity, matchers, tenant}`.

    `tenant_filter` defaults to "yes if the signal carries tenant_id"; asking for it on a signal
    without the label is an error. `grafana_tags` appends Grafana's `$__tags` placeholder, used by
    the Jaeger datasource's trace-to-metrics queries, in place of the identity matchers.
    """
    series = signal.series(part)
    known = set(signal.series_labels(series))
    for m in matchers:
        if m.label not in known:
            raise ContractError(f"{series} has no label {m.label!r} (labels: {', '.join(sorted(known))})")
    if tenant_filter is None:
        tenant_filter = signal.tenant_scoped
    if tenant_filter and not signal.tenant_scoped:
        raise ContractError(f"{series} carries no {TENANT_LABEL} label, so it cannot be filtered by tenant")
    # With `$__tags` the span's own tags pick the series, so the fixed identity would only conflict.
    parts = [] if grafana_tags else [eq(label, value).render() for label, value in signal.identity]
    parts += [m.render() for m in matchers]
    if tenant_filter:
        parts.append(tenant_matcher().render())
    if grafana_tags:
        parts.append("$__tags")
    return PromQL(f"{series}{{{', '.join(parts)}}}", (signal,), selector_of=signal, labels=frozenset(known))


def rate(selector: PromQL, window: str = RATE_WINDOW) -> PromQL:
    signal = selector.selector_of
    if signal is None:
        raise ContractError(f"rate() needs a series selector, got: {selector.text}")
    if signal.prom_type is PromType.GAUGE:
        raise ContractError(f"{signal.prometheus_name} is a gauge: rate() over it is meaningless")
    return PromQL(f"rate({selector.text}[{window}])", selector.signals, labels=selector.labels)


def sum_by(expr: PromQL, *labels: str) -> PromQL:
    missing = [label for label in labels if label not in expr.labels]
    if missing:
        raise ContractError(f"cannot sum by {missing}: the expression has no such label: {expr.text}")
    head = f"sum by ({', '.join(labels)}) " if labels else "sum"
    return PromQL(f"{head}({expr.text})", expr.signals, labels=frozenset(labels))


def ratio(numerator: PromQL, denominator: PromQL) -> PromQL:
    return PromQL(
        f"{numerator.text}\n/\n{denominator.text}",
        numerator.signals + denominator.signals,
        labels=numerator.labels & denominator.labels,
    )


def histogram_quantile(
    quantile: float,
    histogram: MetricSignal,
    *matchers: Matcher,
    by: tuple[str, ...] = (),
    window: str = RATE_WINDOW,
    grafana_tags: bool = False,
) -> PromQL:
    """`histogram_quantile(q, sum by (le, ...) (rate(<bucket>[...])))`: the only correct aggregation."""
    if not 0 < quantile < 1:
        raise ContractError(f"quantile must be between 0 and 1, got {quantile}")
    bucket = select(histogram, *matchers, part="bucket", grafana_tags=grafana_tags)
    buckets = sum_by(rate(bucket, window), "le", *by)
    return PromQL(f"histogram_quantile({quantile}, {buckets.text})", buckets.signals, labels=frozenset(by))


def or_zero(expr: PromQL) -> PromQL:
    """`(expr or vector(0))`: a sum over series that do not exist yet (no errors yet) reads 0, not No data."""
    return PromQL(f"({expr.text} or vector(0))", expr.signals, labels=frozenset())


def topk(k: int, expr: PromQL) -> PromQL:
    return PromQL(f"topk({k}, {expr.text})", expr.signals, labels=expr.labels)


def select_recorded(
    series: str, labels: frozenset[str], *matchers: Matcher, tenant_filter: bool | None = None
) -> PromQL:
    """A series a recording rule writes (engine.definitions.prometheus_rule), with the tenant filter."""
    for m in matchers:
        if m.label not in labels:
            raise ContractError(f"{series} has no label {m.label!r} (labels: {', '.join(sorted(labels))})")
    if tenant_filter is None:
        tenant_filter = TENANT_LABEL in labels
    if tenant_filter and TENANT_LABEL not in labels:
        raise ContractError(f"{series} carries no {TENANT_LABEL} label, so it cannot be filtered by tenant")
    parts = [m.render() for m in matchers] + ([tenant_matcher().render()] if tenant_filter else [])
    selector = f"{series}{{{', '.join(parts)}}}" if parts else series
    return PromQL(selector, (), labels=labels)


def recorded_quantile(
    quantile: float, series: str, labels: frozenset[str], *, by: tuple[str, ...] = ()
) -> PromQL:
    """`histogram_quantile(q, sum by (le) (<recorded bucket rates>))`."""
    if "le" not in labels:
        raise ContractError(f"{series} has no `le` label: it does not record histogram buckets")
    if not 0 < quantile < 1:
        raise ContractError(f"quantile must be between 0 and 1, got {quantile}")
    buckets = sum_by(select_recorded(series, labels, tenant_filter=False), "le", *by)
    return PromQL(f"histogram_quantile({quantile}, {buckets.text})", (), labels=frozenset(by))


def top_tenants(k: int, series: str, labels: frozenset[str]) -> PromQL:
    """The k largest tenants among those in `$tenant`, or among all tenants when All is selected.

    All is the ALL_TENANTS sentinel, which selects only the aggregate row; the second branch then
    brings in every per-tenant row. For an instant query both branches are cheap.
    """
    if TENANT_LABEL not in labels:
        raise ContractError(f"{series} carries no {TENANT_LABEL} label")
    picked = f'{series}{{{tenant_matcher().render()}, {TENANT_LABEL}!="{ALL_TENANTS}"}}'
    everyone = f'{series}{{{TENANT_LABEL}!="{ALL_TENANTS}"}}'
    all_selected = f'{series}{{{TENANT_LABEL}="{ALL_TENANTS}", {tenant_matcher().render()}}}'
    return PromQL(f"topk({k}, {picked} or ({everyone} and on () {all_selected}))", (), labels=labels)


def with_exemplars_from(expr: PromQL, histogram: MetricSignal, *matchers: Matcher) -> PromQL:
    """`expr`, plus a never-true clause that names the raw histogram, so Grafana's exemplar query
    (which asks Prometheus for exemplars of every selector in the expression) finds the exemplars
    the recorded series do not carry. `@ end()` makes the clause one cheap evaluation per query.
    """
    bucket = select(histogram, *matchers, part="bucket")
    anchor = f"sum(rate({bucket.text}[5m] @ end())) < 0"
    return PromQL(f"{expr.text} unless on () ({anchor})", (*expr.signals, histogram), labels=expr.labels)


def label_values(signal: MetricSignal, label: str) -> str:
    """A Grafana `label_values()` variable query over one signal's series."""
    series = signal.series("count") if signal.prom_type is PromType.HISTOGRAM else signal.series()
    if label not in signal.labels:
        raise ContractError(f"{series} has no label {label!r}")
    identity = ", ".join(eq(k, v).render() for k, v in signal.identity)
    return f"label_values({series}{{{identity}}}, {label})"


@dataclass(frozen=True)
class LogQL:
    """A LogQL log query and the contract log signals it reads."""

    text: str
    signals: tuple[LogSignal, ...]

    def __str__(self) -> str:
        return self.text


def log_lines(
    signal: LogSignal, *, errors_only: bool = False, tenant_filter: bool = True, all_value: str = ".*"
) -> LogQL:
    """`{stream} | severity_number >= 17 | tenant_id=~"$tenant"`.

    Filters on structured metadata are plain label filters: OTLP log bodies are text, so a `| json`
    stage would mark every line with a parser error. When All is the ALL_TENANTS sentinel rather
    than a regex, a constant label stands in for "every tenant" and is dropped again.
    """
    selector = "{" + ", ".join(eq(k, v).render() for k, v in signal.stream) + "}"
    stages = []
    if errors_only:
        _require_metadata(signal, "severity_number")
        stages.append(f"severity_number >= {signal.error_severity_number}")
    if tenant_filter:
        _require_metadata(signal, TENANT_LABEL)
        if all_value == ".*":
            stages.append(tenant_matcher().render())
        else:
            marker = "tenant_selection"
            stages.append(f'label_format {marker}="{all_value}"')
            stages.append(f'{tenant_matcher().render()} or {marker}=~"${TENANT_VARIABLE}"')
            stages.append(f"drop {marker}")
    return LogQL(" | ".join([selector, *stages]), (signal,))


def logs_of_trace(signal: LogSignal) -> str:
    """The query the Jaeger datasource runs to open a trace's logs (Grafana fills the placeholders).

    `${__tags}` becomes the stream selector built from the span's mapped tags; trace_id is
    structured metadata, hence a label filter rather than a line filter.
    """
    _require_metadata(signal, "trace_id")
    return '{${__tags}} | trace_id="${__trace.traceId}"'


def _require_metadata(signal: LogSignal, field: str) -> None:
    if field not in signal.structured_metadata:
        raise ContractError(f"log signal {signal.key} has no structured metadata field {field!r}")
