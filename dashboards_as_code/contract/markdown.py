"""The contract as the backend team reads it: what to emit, and what it becomes downstream.

Kept apart from the model so that the shapes of the data do not carry their presentation.
"""

from __future__ import annotations

from dashboards_as_code.contract.model import TelemetryContract


def _code(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{i}`" for i in items) or "-"


def contract_markdown(
    contract: TelemetryContract, *, title: str, source: str, example: str | None = None
) -> str:
    """`title` heads the page; `source` is the definition file the page tells readers to edit instead;
    `example`, a program that emits every signal, is named for the team that writes the emitters."""
    res = contract.resource
    lines = [
        f"# {title}",
        "",
        f"Generated from `{source}` by `python build.py build`; do not edit by hand.",
        "`python build.py check` fails when this file is stale.",
        "",
        *(
            [
                f"`{example}` emits the backend's signals below with the OpenTelemetry SDK, `tenant_id` "
                "included, and the server spans the Collector turns into the span metrics: copy it to see "
                "how each one is produced.",
                "",
            ]
            if example
            else []
        ),
        f"Every backend signal carries the resource `service.name={res.service_name}`, "
        f'`service.namespace={res.service_namespace}` (Prometheus `job="{res.job}"`). '
        "`trace_id` is never a Prometheus label (exemplars only); `tenant_id` is a metric label, "
        "a log attribute (Loki structured metadata) and a span attribute, never a Loki stream label.",
        "",
        "## Metrics",
        "",
        "| OTel name | unit | instrument | emitted by | attributes | Prometheus series | exemplars |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in contract.metrics:
        lines.append(
            f"| `{m.otel_name}` | `{m.unit or '(none)'}` | {m.instrument.value} | {m.emitter} "
            f"| {_code(m.attributes)} | {_code(list(m.series_names))} ({m.prom_type.value}) "
            f"| {_code(m.exemplar_labels)} |"
        )
    lines += ["", "Meaning:", ""]
    lines += [
        f"- `{m.prometheus_name}`: {m.description}"
        + (
            f" Exists only while {m.present_only_when}: its absence is no fault."
            if m.present_only_when
            else ""
        )
        for m in contract.metrics
    ]
    lines += _label_section(contract)
    lines += _budget_section(contract)
    lines += [
        "",
        "## Logs (Loki native OTLP)",
        "",
        "| signal | stream selector | index labels | structured metadata | errors |",
        "|---|---|---|---|---|",
    ]
    for log in contract.logs:
        selector = "{" + ", ".join(f'{k}="{v}"' for k, v in log.stream) + "}"
        lines.append(
            f"| {log.key} | `{selector}` | {_code(log.index_labels)} | {_code(log.structured_metadata)} "
            f"| `severity_number >= {log.error_severity_number}` |"
        )
    lines += [""]
    lines += [f"- {log.key}: {log.description}" for log in contract.logs]
    lines += [
        "",
        "## Traces (Jaeger)",
        "",
        "| signal | service | span kind | attributes |",
        "|---|---|---|---|",
    ]
    for t in contract.traces:
        lines.append(f"| {t.key} | `{t.service}` | `{t.span_kind}` | {_code(t.attributes)} |")
    lines += [""]
    lines += [f"- {t.key}: {t.description}" for t in contract.traces]
    lines.append("")
    return "\n".join(lines)


def _label_section(contract: TelemetryContract) -> list[str]:
    """Every Prometheus label of the metrics, with the OTel attribute it comes from and its values:
    what a query author types after `{`, which the OTel names above do not say."""
    sources: dict[str, set[str]] = {}
    carriers: dict[str, list[str]] = {}
    for metric in contract.metrics:
        for label, source in metric.label_sources.items():
            sources.setdefault(label, set()).add(source)
        for label in metric.labels:
            carriers.setdefault(label, []).append(metric.prometheus_name)
    lines = [
        "",
        "## Prometheus labels",
        "",
        "What a query author types: the label as Prometheus stores it, and its values (all of them when",
        "the list is closed, examples otherwise). `le` is on the `_bucket` series of histograms only.",
        "",
        "| label | from | on | values |",
        "|---|---|---|---|",
    ]
    for label in sorted(carriers):
        on = carriers[label]
        where = "every metric" if len(on) == len(contract.metrics) else _code(on)
        described = contract.values_of(label)
        if described is None:
            values = "-"
        else:
            shown = ", ".join(f'`{label}="{value}"`' for value in described.values)
            values = f"{shown} ({'the complete list' if described.closed else 'examples'})"
            if described.meaning:
                values += f": {described.meaning}"
        lines.append(f"| `{label}` | {', '.join(sorted(sources[label]))} | {where} | {values} |")
    return lines


def _budget_section(contract: TelemetryContract) -> list[str]:
    """What one tenant costs each tenant-scoped signal, and the limit its emitter must keep: an OTel
    SDK left at its default folds every tenant past 2,000 attribute sets into one overflow series."""
    budgeted = [m for m in contract.metrics if m.tenant_budget is not None]
    if not budgeted:
        return []
    lines = [
        "",
        "## Cardinality: what one tenant costs",
        "",
        f"Sized for {contract.tenants_per_instance:,} tenants per backend instance. Each emitter keeps "
        "at most a fixed number of attribute sets per metric and folds every later one into a single series "
        '`otel_metric_overflow="true"` (an OTel SDK: 2,000 unless configured), which hides the tenants '
        f"past the limit. Configure each limit below ({contract.limit_headroom} x budget x tenants: for an "
        "observable gauge the SDK counts every tenant observed since the process started). In the "
        "OTel JS SDK: one View per instrument, `{ instrumentName, aggregationCardinalityLimit }`; "
        "`build` writes the limits as JSON "
        'for the emitters to read. Record "currently connected" values with an observable gauge '
        "exported with DELTA temporality, so a tenant that is gone stops being a series (a cumulative "
        "instrument repeats its last value for the life of the process).",
        "",
        "| series | per tenant | each further instance adds | each further Collector shard adds "
        "| what multiplies | emitter's limit |",
        "|---|---|---|---|---|---|",
    ]
    for m in budgeted:
        budget = m.tenant_budget
        assert budget is not None
        lines.append(
            f"| `{m.prometheus_name}` | {budget.series} | {budget.per_extra_instance} "
            f"| {budget.per_extra_shard} | {budget.dimensions} "
            f"| {contract.cardinality_limit(m):,} attribute sets ({m.emitter}) |"
        )
    lines += [
        "",
        f"In all: {contract.series_per_tenant()} series per tenant with one backend instance, "
        f"{contract.series_per_tenant(2)} with two, before the recording rules' per-tenant rows; "
        f"{contract.series_per_tenant(shards=2)} with one instance behind two Collector shards (the "
        "scaled topology, where a tenant's spans are counted on every shard they reach).",
    ]
    return lines
