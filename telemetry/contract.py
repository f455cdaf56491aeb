"""The TikTickets telemetry contract: every signal a dashboard may query, defined once.

Edit this file when the backend or the Collector starts (or stops) emitting a signal; dashboards
build their queries from these objects and never spell a metric name themselves.
`python build.py build` renders it to `docs/telemetry-contract.md` for the backend team.

Evidence for each entry: `shared/reference/telemetry-contract.md` (§2.5 names, §3 Loki, §6 Collector).
"""

from __future__ import annotations

from enum import StrEnum

from dashboards_as_code.define import (
    Instrument,
    LabelValues,
    LogSignal,
    Matcher,
    MetricSignal,
    Resource,
    TelemetryContract,
    TenantBudget,
    TraceSignal,
)


class Emitter(StrEnum):
    """Who emits a signal: the team to talk to when it is missing."""

    BACKEND = "backend (OTel Metrics/Logs SDK)"
    SPANMETRICS = "Collector spanmetrics connector (from server spans)"
    TENANT_SPANMETRICS = "Collector spanmetrics/tenant connector (from server spans)"
    TENANT_SLOW_SPANMETRICS = (
        "Collector spanmetrics/tenant_slow connector (server spans over the latency target)"
    )


RESOURCE = Resource(service_name="tiktickets-backend", service_namespace="tiktickets")

# Label values the spanmetrics connector writes (OTel enum names, not the short forms).
SPAN_KIND_SERVER = "SPAN_KIND_SERVER"
STATUS_CODE_ERROR = "STATUS_CODE_ERROR"
SERVER_SPANS_ONLY = Matcher("span_kind", "=", SPAN_KIND_SERVER)
"""Selects the spanmetrics series of server spans (requests), not client or internal spans."""

LATENCY_THRESHOLD_SECONDS = "0.5"
"""A request that takes longer is slow: the latency SLO's threshold (prometheus_rules/slo.py). It is a
bucket boundary of the route-level histogram (`le="0.5"` counts the requests within it) and the cut of
the Collector's `filter/within_latency_target`, which drops every server span of at most 500,000,000
ns before `span_metrics/tenant_slow` counts the rest; tests/stack check both against this value."""

_SPANMETRICS_DIMENSIONS = ("service.name", "span.name", "span.kind", "status.code")
_BY_SERVICE = (("service_name", RESOURCE.service_name),)
_BY_JOB = (("job", RESOURCE.job),)
_EXEMPLARS = ("trace_id", "span_id")

SPAN_CALLS = MetricSignal(
    key="span_calls",
    otel_name="traces.span.metrics.calls",
    unit="",
    instrument=Instrument.COUNTER,
    emitter=Emitter.SPANMETRICS,
    description="Spans finished per route, method, status code and span status: request and error rate.",
    attributes=(
        *_SPANMETRICS_DIMENSIONS,
        "http.route",
        "http.request.method",
        "http.response.status_code",
    ),
    identity=_BY_SERVICE,
    exemplar_labels=_EXEMPLARS,
    prometheus_name="traces_span_metrics_calls_total",
    grafana_unit="short",
)

SPAN_DURATION = MetricSignal(
    key="span_duration",
    otel_name="traces.span.metrics.duration",
    unit="s",
    instrument=Instrument.HISTOGRAM,
    emitter=Emitter.SPANMETRICS,
    description="Span duration histogram in seconds, same dimensions as the calls. Latency with exemplars.",
    attributes=SPAN_CALLS.attributes,
    identity=_BY_SERVICE,
    exemplar_labels=_EXEMPLARS,
    prometheus_name="traces_span_metrics_duration_seconds",
    grafana_unit="s",
)

TENANT_SPAN_CALLS = MetricSignal(
    key="tenant_span_calls",
    otel_name="tenant.span.metrics.calls",
    unit="",
    instrument=Instrument.COUNTER,
    emitter=Emitter.TENANT_SPANMETRICS,
    description=(
        "Requests (server spans only) finished per tenant and span status: per-tenant request and "
        "error rate. No span name, route or histogram, and the backend instance is dropped before "
        "counting, so a tenant costs its budget and no more."
    ),
    attributes=("service.name", "span.kind", "status.code", "tenant_id"),
    resource_labels=("job",),
    identity=_BY_SERVICE,
    prometheus_name="tenant_span_metrics_calls_total",
    grafana_unit="short",
    tenant_budget=TenantBudget(
        series=2,
        per_extra_instance=0,
        per_extra_shard=2,
        dimensions=(
            "`status_code`: `STATUS_CODE_UNSET` or `STATUS_CODE_ERROR` (a backend that sets `OK` on "
            "server spans adds one); `span_kind` is always `SPAN_KIND_SERVER`"
        ),
    ),
)

TENANT_SLOW_SPAN_CALLS = MetricSignal(
    key="tenant_slow_span_calls",
    otel_name="tenant.slow.span.metrics.calls",
    unit="",
    instrument=Instrument.COUNTER,
    emitter=Emitter.TENANT_SLOW_SPANMETRICS,
    description=(
        f"Requests (server spans only) per tenant that took longer than {LATENCY_THRESHOLD_SECONDS} s, the "
        "latency SLO's threshold, whatever their status: with tenant_span_metrics_calls_total, the share of "
        "a tenant's requests within the latency target. One series per tenant instead of a histogram's "
        "buckets per status."
    ),
    attributes=("service.name", "tenant_id"),
    resource_labels=("job",),
    identity=_BY_SERVICE,
    prometheus_name="tenant_slow_span_metrics_calls_total",
    grafana_unit="short",
    tenant_budget=TenantBudget(
        series=1,
        per_extra_instance=0,
        per_extra_shard=1,
        dimensions="none: span kind and status are excluded, and the instance is dropped before counting",
    ),
    present_only_when=(
        f"a tenant had a request over {LATENCY_THRESHOLD_SECONDS} s in the last hour (the connector "
        "forgets a tenant an hour after its last slow request)"
    ),
)

WHATSAPP_SESSIONS_ACTIVE = MetricSignal(
    key="whatsapp_sessions_active",
    otel_name="tiktickets.whatsapp.sessions.active",
    unit="{session}",
    instrument=Instrument.GAUGE,
    emitter=Emitter.BACKEND,
    description=(
        "WhatsApp sessions currently connected (1) or not (0), per WhatsApp connection the backend "
        "instance holds; observed at each export, so a connection the instance no longer holds is "
        "no longer a series."
    ),
    attributes=("tenant_id", "whatsapp_id"),
    identity=_BY_JOB,
    prometheus_name="tiktickets_whatsapp_sessions_active",
    grafana_unit="short",
    tenant_budget=TenantBudget(
        series=1,
        per_extra_instance=0,
        dimensions=(
            "`whatsapp_id`: one per WhatsApp connection of the tenant (a tenant with three numbers costs "
            "three), held by one backend instance at a time"
        ),
    ),
)

SOCKETIO_CONNECTIONS = MetricSignal(
    key="socketio_connections",
    otel_name="tiktickets.socketio.connections",
    unit="{connection}",
    instrument=Instrument.GAUGE,
    emitter=Emitter.BACKEND,
    description=(
        "Socket.io connections currently open, per tenant with at least one open; observed at each "
        "export, so a tenant whose last socket closed is no longer a series."
    ),
    attributes=("tenant_id",),
    identity=_BY_JOB,
    prometheus_name="tiktickets_socketio_connections",
    grafana_unit="short",
    tenant_budget=TenantBudget(
        series=1,
        per_extra_instance=1,
        dimensions="none but the backend instance: one per instance the tenant's users are connected to",
    ),
)

WHATSAPP_MESSAGES_SENT = MetricSignal(
    key="whatsapp_messages_sent",
    otel_name="tiktickets.whatsapp.messages.sent",
    unit="{message}",
    instrument=Instrument.COUNTER,
    emitter=Emitter.BACKEND,
    description="WhatsApp messages sent (monotonic).",
    attributes=("tenant_id", "whatsapp_id"),
    identity=_BY_JOB,
    prometheus_name="tiktickets_whatsapp_messages_sent_total",
    grafana_unit="short",
    tenant_budget=TenantBudget(
        series=1,
        per_extra_instance=1,
        dimensions="`whatsapp_id`, as the sessions; each further instance that sends for the tenant adds one",
    ),
)

BACKEND_LOGS = LogSignal(
    key="backend_logs",
    description=(
        "Backend logs (pino -> OTel Logs SDK -> Collector -> Loki OTLP). The body is the message; "
        "trace context and attributes are structured metadata, so no `| json` stage."
    ),
    emitter=Emitter.BACKEND,
    stream=(
        ("service_namespace", RESOURCE.service_namespace),
        ("service_name", RESOURCE.service_name),
    ),
    index_labels=("service_name", "service_namespace", "service_instance_id", "deployment_environment_name"),
    structured_metadata=("trace_id", "span_id", "severity_text", "severity_number", "tenant_id"),
)

SERVER_SPANS = TraceSignal(
    key="server_spans",
    description="HTTP and Socket.io server spans (Jaeger service = service.name).",
    service=RESOURCE.service_name,
    span_kind=SPAN_KIND_SERVER,
    attributes=("tenant_id", "http.route", "http.request.method", "http.response.status_code"),
)

# The values of each Prometheus label, as a query author types them (seen on the real Collector's
# output in tests/e2e/test_hub.py, which checks the closed lists against what it exports).
LABEL_VALUES = (
    LabelValues(
        label="span_kind",
        values=(
            SPAN_KIND_SERVER,
            "SPAN_KIND_INTERNAL",
            "SPAN_KIND_CLIENT",
            "SPAN_KIND_PRODUCER",
            "SPAN_KIND_CONSUMER",
            "SPAN_KIND_UNSPECIFIED",
        ),
        closed=True,
        meaning="the OTel span kind by its enum name; requests are the server spans",
    ),
    LabelValues(
        label="status_code",
        values=("STATUS_CODE_UNSET", "STATUS_CODE_OK", STATUS_CODE_ERROR),
        closed=True,
        meaning="the span status by its enum name; a successful request is usually UNSET, not OK",
    ),
    LabelValues(
        label="span_name",
        values=("GET /api/tickets/:id", "POST /api/messages", "middleware - jsonParser", "request handler"),
        meaning="the span's name: `<method> <route>` for a request, the step's name for an internal span",
    ),
    LabelValues(
        label="http_route",
        values=("/api/tickets/:id", "/api/messages"),
        meaning="the route template Express matched (`:id`, never the id itself); absent when none matched",
    ),
    LabelValues(
        label="http_request_method",
        values=("GET", "POST", "_OTHER"),
        meaning="upper case; a method the instrumentation does not know is `_OTHER`",
    ),
    LabelValues(
        label="http_response_status_code",
        values=("200", "404", "503"),
        meaning="the status code as a string",
    ),
    LabelValues(
        label="service_name",
        values=(RESOURCE.service_name,),
        meaning="the emitting service (`service.name`): selects this backend's span metrics",
    ),
    LabelValues(
        label="tenant_id",
        values=("tenant-001", "unknown"),
        meaning="the tenant's id; `unknown` when the emitter sent none (the Collector's `transform/tenant`)",
    ),
    LabelValues(
        label="whatsapp_id",
        values=("tenant-001-wa-1",),
        meaning="the WhatsApp connection's id within its tenant",
    ),
    LabelValues(
        label="job",
        values=(RESOURCE.job,),
        meaning="`service.namespace/service.name`; selects this backend's own metrics",
    ),
    LabelValues(
        label="instance",
        values=("demo-vm",),
        meaning="`service.instance.id`: set it to a stable host name, or each restart starts new series",
    ),
)

CONTRACT = TelemetryContract(
    resource=RESOURCE,
    metrics=(
        SPAN_CALLS,
        SPAN_DURATION,
        TENANT_SPAN_CALLS,
        TENANT_SLOW_SPAN_CALLS,
        WHATSAPP_SESSIONS_ACTIVE,
        SOCKETIO_CONNECTIONS,
        WHATSAPP_MESSAGES_SENT,
    ),
    logs=(BACKEND_LOGS,),
    traces=(SERVER_SPANS,),
    label_values=LABEL_VALUES,
)
