"""Recording rules for the Overview dashboard, shaped for the panels that read them.

Evaluated every 30 s: two 15 s scrapes per evaluation, so a 1 h view still gets 120 points and a
24 h view (step >= 60 s) never reads more than the panel draws. Rates use a 5 m window, four times
the Collector's 15 s metric flush, so a late flush never reads as a drop.
Per-tenant series get an extra `tenant_id="__all__"` row: the dashboard's All selection reads that
one pre-summed row instead of summing thousands of tenants at every step.
"""

from engine import queries as q
from engine.contract.model import MetricSignal
from engine.defaults import ALL_TENANTS, TENANT_LABEL
from engine.definitions.prometheus_rule import RecordingRule, RuleGroup
from telemetry.contract import (
    SERVER_SPANS_ONLY,
    SOCKETIO_CONNECTIONS,
    SPAN_CALLS,
    SPAN_DURATION,
    TENANT_SPAN_CALLS,
    WHATSAPP_SESSIONS_ACTIVE,
)

WINDOW = "5m"
ALL = {TENANT_LABEL: ALL_TENANTS}


def _server_calls_rate() -> q.PromQL:
    return q.rate(q.select(SPAN_CALLS, SERVER_SPANS_ONLY, q.ne("http_route", "")), WINDOW)


def _tenant_calls_rate() -> q.PromQL:
    return q.rate(q.select(TENANT_SPAN_CALLS, SERVER_SPANS_ONLY, tenant_filter=False), WINDOW)


ROUTE_CALLS = RecordingRule(
    record="http_route:traces_span_metrics_calls:rate5m",
    expr=q.sum_by(_server_calls_rate(), "http_route"),
    grafana_unit="reqps",
)
LATENCY_BUCKETS = RecordingRule(
    record="le:traces_span_metrics_duration_seconds_bucket:rate5m",
    expr=q.sum_by(q.rate(q.select(SPAN_DURATION, SERVER_SPANS_ONLY, part="bucket"), WINDOW), "le"),
    grafana_unit="reqps",
    histogram_unit=SPAN_DURATION.grafana_unit,
)
TENANT_CALLS = RecordingRule(
    record="tenant_id_status_code:tenant_span_metrics_calls:rate5m",
    expr=q.sum_by(_tenant_calls_rate(), "tenant_id", "status_code"),
    grafana_unit="reqps",
)
TENANT_CALLS_ALL = TENANT_CALLS.model_copy(
    update={"expr": q.sum_by(_tenant_calls_rate(), "status_code"), "labels": ALL}
)


def _per_tenant_sum(signal: MetricSignal) -> tuple[RecordingRule, RecordingRule]:
    """A gauge summed per tenant, and its `tenant_id="__all__"` row."""
    series = q.select(signal, tenant_filter=False)
    per_tenant = RecordingRule(
        record=f"tenant_id:{signal.prometheus_name}:sum",
        expr=q.sum_by(series, "tenant_id"),
        grafana_unit=signal.grafana_unit,
    )
    return per_tenant, per_tenant.model_copy(update={"expr": q.sum_by(series), "labels": ALL})


SESSIONS, SESSIONS_ALL = _per_tenant_sum(WHATSAPP_SESSIONS_ACTIVE)
SOCKETS, SOCKETS_ALL = _per_tenant_sum(SOCKETIO_CONNECTIONS)

OVERVIEW_GROUP = RuleGroup(
    name="tiktickets-overview",
    interval="30s",
    recording=(
        ROUTE_CALLS,
        LATENCY_BUCKETS,
        TENANT_CALLS,
        TENANT_CALLS_ALL,
        SESSIONS,
        SESSIONS_ALL,
        SOCKETS,
        SOCKETS_ALL,
    ),
)
