"""PromQL and LogQL builders over the telemetry contract.

Queries are assembled from contract signals, so a label a signal does not carry, `rate()` over a
gauge or a stream selector on a label Loki does not index is refused when the definition is loaded,
with a message naming the signal, instead of surfacing as an empty panel in Grafana.
The result objects remember which signals they read, which the lint checks and tests use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from dashboards_as_code.contract.model import ContractError, LogSignal, MetricSignal, PromType
from dashboards_as_code.defaults import (
    ALL_TENANTS,
    RATE_WINDOW,
    RECORDING_RATE_WINDOW,
    TENANT_LABEL,
    TENANT_VARIABLE,
)

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
class Recording:
    """A recording rule a query cannot do without: the query reads `record`, so the rule must exist.

    Builders such as `tenant_sum` attach these to the PromQL they return; when the project loads, the
    engine collects them from every dashboard's targets into the derived rule group
    (`dashboards_as_code.definitions.derived_rules`), so a panel and the rule it reads cannot drift apart.
    """

    record: str
    expr: PromQL
    grafana_unit: str
    """The unit of the recorded value (`reqps` marks a per-second rate, as for hand-written rules)."""
    histogram_unit: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    """Constant labels the rule adds: `(("tenant_id", "__all__"),)` for the All row."""


@dataclass(frozen=True)
class PromQL:
    """A PromQL expression, the contract signals it reads and the recording rules it needs."""

    text: str
    signals: tuple[MetricSignal, ...]
    selector_of: MetricSignal | None = None
    """Set when the expression is a bare series selector (what `rate` needs)."""
    labels: frozenset[str] = frozenset()
    """Labels the result still carries (for validating `sum by`)."""
    recordings: tuple[Recording, ...] = ()
    """Recording rules the expression reads; every combinator below passes them on."""

    def __str__(self) -> str:
        return self.text


def _needs(*exprs: PromQL) -> tuple[Recording, ...]:
    """The recording rules of several expressions, each once, in order."""
    found: list[Recording] = []
    for expr in exprs:
        found += [r for r in expr.recordings if r not in found]
    return tuple(found)


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
    return PromQL(
        f"rate({selector.text}[{window}])",
        selector.signals,
        labels=selector.labels,
        recordings=selector.recordings,
    )


def sum_by(expr: PromQL, *labels: str) -> PromQL:
    missing = [label for label in labels if label not in expr.labels]
    if missing:
        raise ContractError(f"cannot sum by {missing}: the expression has no such label: {expr.text}")
    head = f"sum by ({', '.join(labels)}) " if labels else "sum"
    return PromQL(f"{head}({expr.text})", expr.signals, labels=frozenset(labels), recordings=expr.recordings)


def ratio(numerator: PromQL, denominator: PromQL) -> PromQL:
    return PromQL(
        f"{numerator.text}\n/\n{denominator.text}",
        numerator.signals + denominator.signals,
        labels=numerator.labels & denominator.labels,
        recordings=_needs(numerator, denominator),
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
    return PromQL(f"({expr.text} or vector(0))", expr.signals, labels=frozenset(), recordings=expr.recordings)


def topk(k: int, expr: PromQL) -> PromQL:
    return PromQL(f"topk({k}, {expr.text})", expr.signals, labels=expr.labels, recordings=expr.recordings)


def select_recorded(
    series: str,
    labels: frozenset[str],
    *matchers: Matcher,
    tenant_filter: bool | None = None,
    offset: str | None = None,
) -> PromQL:
    """A series a recording rule writes (dashboards_as_code.definitions.prometheus_rule), with the
    tenant filter; `offset` ("1h", "$__range") reads it as it was that long before the evaluation time."""
    for m in matchers:
        if m.label not in labels:
            raise ContractError(f"{series} has no label {m.label!r} (labels: {', '.join(sorted(labels))})")
    if tenant_filter is None:
        tenant_filter = TENANT_LABEL in labels
    if tenant_filter and TENANT_LABEL not in labels:
        raise ContractError(f"{series} carries no {TENANT_LABEL} label, so it cannot be filtered by tenant")
    parts = [m.render() for m in matchers] + ([tenant_matcher().render()] if tenant_filter else [])
    selector = f"{series}{{{', '.join(parts)}}}" if parts else series
    if offset is not None:
        selector = f"{selector} offset {offset}"
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


DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


@dataclass(frozen=True)
class _TenantRecording:
    """The per-tenant rule, its All twin, and what a query needs to read them."""

    record: str
    kept: tuple[str, ...]
    """Labels the rule keeps besides tenant_id (sorted: the name must not depend on argument order)."""
    signal: MetricSignal
    recordings: tuple[Recording, Recording]

    def selector(self, *matchers: Matcher | str) -> PromQL:
        parts = [m if isinstance(m, str) else m.render() for m in matchers]
        return PromQL(
            f"{self.record}{{{', '.join(parts)}}}",
            (self.signal,),
            labels=frozenset({TENANT_LABEL, *self.kept}),
            recordings=self.recordings,
        )


def _tenant_recording(
    signal: MetricSignal,
    matchers: tuple[Matcher, ...],
    *,
    builder: str,
    by: tuple[str, ...] = (),
    keep: tuple[str, ...] = (),
    where: tuple[Matcher, ...] = (),
    part: str | None = None,
    window: str = RECORDING_RATE_WINDOW,
) -> _TenantRecording:
    """Validate the arguments against the contract and name the rules (level:metric:operations)."""
    series = signal.series(part)
    if not signal.tenant_scoped:
        raise ContractError(
            f"{series} carries no {TENANT_LABEL} label: it cannot follow ${TENANT_VARIABLE}; "
            "sum it with q.sum_by(q.rate(q.select(...))) instead"
        )
    if not DURATION.match(window):
        raise ContractError(f"{builder}: window must be a Prometheus duration such as 5m, got {window!r}")
    known = set(signal.series_labels(series))
    for label in (*by, *keep, *(m.label for m in (*matchers, *where))):
        if label == TENANT_LABEL:
            raise ContractError(
                f"{builder}({signal.key}): {TENANT_LABEL} is what ${TENANT_VARIABLE} selects, and at All "
                f"it is the one {ALL_TENANTS} row; for one line or bar per tenant use q.tenant_topk(k, ...)"
            )
        if label not in known:
            raise ContractError(f"{series} has no label {label!r} (labels: {', '.join(sorted(known))})")
    kept = tuple(sorted({*by, *keep, *(m.label for m in matchers)}))
    source = select(signal, *where, part=part, tenant_filter=False)
    if signal.prom_type is PromType.GAUGE:
        value, operation, unit = source, "sum", signal.grafana_unit
    else:  # counters and the parts of a histogram are cumulative: only their rate means anything
        value, operation, unit = rate(source, window), f"rate{window}", "reqps"
    metric = series.removesuffix("_total") if signal.prom_type is PromType.COUNTER else series
    record = f"{'_'.join((TENANT_LABEL, *kept))}:{metric}:{operation}"
    histogram_unit = signal.grafana_unit if part == "bucket" else None
    per_tenant = Recording(record, sum_by(value, TENANT_LABEL, *kept), unit, histogram_unit)
    everyone = Recording(
        record, sum_by(value, *kept), unit, histogram_unit, labels=((TENANT_LABEL, ALL_TENANTS),)
    )
    return _TenantRecording(record, kept, signal, (per_tenant, everyone))


def tenant_sum(
    signal: MetricSignal,
    *matchers: Matcher,
    by: tuple[str, ...] = (),
    keep: tuple[str, ...] = (),
    where: tuple[Matcher, ...] = (),
    part: str | None = None,
    window: str = RECORDING_RATE_WINDOW,
) -> PromQL:
    """The total of a tenant-labelled signal over the tenants in `$tenant`: right at All and at any
    selection, because it reads a recorded series that has a row per tenant and an `__all__` row.

    `sum by (by) (<record>{matchers, tenant_id=~"$tenant"})`. The rules it reads come with it
    (`PromQL.recordings`): the per-tenant rule, `sum by (tenant_id, ...)` of the signal's rate over
    `window` for a counter (or a histogram part), of its value for a gauge, and its twin with
    `tenant_id="__all__"` summed over every tenant. `build` writes them into the derived rule group.

    `matchers` select on the recorded series, so the rule keeps their labels, like the `by` labels
    and any in `keep` (keep a label so that several panels share one recorded series: an error
    ratio's numerator and denominator). `where` filters inside the rule instead (fewer recorded
    series), and the record's name does not show it: two panels that read one record with different
    `where` are refused when the project loads, both named.
    """
    recorded = _tenant_recording(
        signal, matchers, builder="tenant_sum", by=by, keep=keep, where=where, part=part, window=window
    )
    return sum_by(recorded.selector(*matchers, tenant_matcher()), *by)


def tenant_topk(
    k: int,
    signal: MetricSignal,
    *matchers: Matcher,
    where: tuple[Matcher, ...] = (),
    part: str | None = None,
    window: str = RECORDING_RATE_WINDOW,
) -> PromQL:
    """The k largest tenants (one series per tenant, labelled tenant_id) among those in `$tenant`,
    or among every tenant at All; reads the same recorded series as `tenant_sum` and carries them.

    Meant for an instant query (a bar gauge): over a range, topk picks k per step, so a time series
    panel can draw more than k lines.
    """
    if k < 1:
        raise ContractError(f"tenant_topk: k must be at least 1, got {k}")
    recorded = _tenant_recording(
        signal, matchers, builder="tenant_topk", where=where, part=part, window=window
    )
    picked = recorded.selector(*matchers, tenant_matcher(), ne(TENANT_LABEL, ALL_TENANTS))
    everyone = recorded.selector(*matchers, ne(TENANT_LABEL, ALL_TENANTS))
    # Gated on the All row alone, without the matchers: they may select nothing yet (no errors).
    all_selected = recorded.selector(eq(TENANT_LABEL, ALL_TENANTS), tenant_matcher())
    rows = f"{picked.text} or ({everyone.text} and on () {all_selected.text})"
    if recorded.kept:  # the rows also differ by the kept labels: one per tenant again
        rows = f"sum by ({TENANT_LABEL}) ({rows})"
    return PromQL(
        f"topk({k}, {rows})",
        (signal,),
        labels=frozenset({TENANT_LABEL}),
        recordings=recorded.recordings,
    )


def with_exemplars_from(expr: PromQL, histogram: MetricSignal, *matchers: Matcher) -> PromQL:
    """`expr`, plus a never-true clause that names the raw histogram, so Grafana's exemplar query
    (which asks Prometheus for exemplars of every selector in the expression) finds the exemplars
    the recorded series do not carry. `@ end()` makes the clause one cheap evaluation per query.
    """
    bucket = select(histogram, *matchers, part="bucket")
    anchor = f"sum(rate({bucket.text}[5m] @ end())) < 0"
    return PromQL(
        f"{expr.text} unless on () ({anchor})",
        (*expr.signals, histogram),
        labels=expr.labels,
        recordings=expr.recordings,
    )


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


def correlated_logs(signal: LogSignal, *, stream: Mapping[str, str], metadata: Mapping[str, str]) -> str:
    """A correlation's Loki query: `{label="value"} | field="value"`, the values usually Grafana
    variables the correlation fills from the clicked row (`${traceID}`).

    Stream labels must be index labels of the signal and filters its structured metadata, so a
    contract change that moves one breaks the definition here rather than the link in Explore.
    """
    for label in stream:
        if label not in signal.index_labels:
            raise ContractError(f"log signal {signal.key} has no index label {label!r}")
    for field in metadata:
        _require_metadata(signal, field)
    selector = "{" + ", ".join(f'{label}="{value}"' for label, value in stream.items()) + "}"
    return " | ".join([selector, *(f'{field}="{value}"' for field, value in metadata.items())])


def _require_metadata(signal: LogSignal, field: str) -> None:
    if field not in signal.structured_metadata:
        raise ContractError(f"log signal {signal.key} has no structured metadata field {field!r}")
