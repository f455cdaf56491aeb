"""TikTickets - Overview: is the backend healthy, and for which tenants is it not?

Reads only signals from `telemetry.contract`. Route-level panels come from the spanmetrics
connector, which has no tenant_id on purpose (routes x statuses x tenants would explode the series
count), so they show all tenants and read the rules of prometheus_rules/overview.py; every panel
that reads a tenant-labelled signal follows `$tenant` through `q.tenant_sum` / `q.tenant_topk`,
whose queries bring their own recording rules (the per-tenant rows and the `__all__` row All reads).
"""

from config import OVERVIEW_UID, TENANT_UID, TENANTS_UID, TIKTICKETS_FOLDER
from dashboards_as_code.define import (
    ALL_TENANTS,
    COUNT,
    RATIO_AS_PERCENT,
    REQUESTS_PER_SECOND,
    SECONDS,
    TENANT_VARIABLE,
    DashboardDefinition,
    QueryVariable,
    RecordingRule,
    Row,
    bar_gauge,
    dashboard_link,
    logs,
    loki,
    prom,
    stat,
    tenant_link,
    thresholds,
    timeseries,
)
from dashboards_as_code.define import dashboard as make_dashboard
from dashboards_as_code.define import queries as q
from datasources import LOKI, PROMETHEUS
from prometheus_rules import overview as recorded
from telemetry.contract import (
    BACKEND_LOGS,
    SERVER_SPANS_ONLY,
    SOCKETIO_CONNECTIONS,
    SPAN_DURATION,
    STATUS_CODE_ERROR,
    TENANT_SPAN_CALLS,
    WHATSAPP_SESSIONS_ACTIVE,
)

TOP_TENANTS = 20
"""Bars in the per-tenant panels: readable with thousands of tenants."""

ERROR_RATIO_STEPS = thresholds("green", (0.01, "orange"), (0.05, "red"))
LATENCY_STEPS = thresholds("green", (0.5, "orange"), (1.0, "red"))


def _recorded(rule: RecordingRule, *matchers: q.Matcher) -> q.PromQL:
    return q.select_recorded(rule.record, rule.series_labels, *matchers)


def request_rate_per_route() -> q.PromQL:
    return q.sum_by(_recorded(recorded.ROUTE_CALLS), "http_route")


def tenant_request_rate() -> q.PromQL:
    """Server spans per second of the tenants in `$tenant`, both statuses (`keep` status_code: the
    recorded per-tenant rows the error ratio's numerator reads too). The Tenant dashboard shows it."""
    return q.tenant_sum(TENANT_SPAN_CALLS, keep=("status_code",), where=(SERVER_SPANS_ONLY,))


def tenant_error_ratio() -> q.PromQL:
    """Failed server spans over all server spans, from one recorded series, over server spans only."""
    failed = q.eq("status_code", STATUS_CODE_ERROR)
    errors = q.tenant_sum(TENANT_SPAN_CALLS, failed, where=(SERVER_SPANS_ONLY,))
    return q.ratio(q.or_zero(errors), tenant_request_rate())


def latency(quantile: float, *, exemplars: bool = False) -> q.PromQL:
    buckets = recorded.LATENCY_BUCKETS
    expr = q.recorded_quantile(quantile, buckets.record, buckets.series_labels)
    # Recorded series carry no exemplars: name the raw histogram so Grafana's exemplar query finds them.
    return q.with_exemplars_from(expr, SPAN_DURATION, SERVER_SPANS_ONLY) if exemplars else expr


def active_sessions() -> q.PromQL:
    return q.tenant_sum(WHATSAPP_SESSIONS_ACTIVE)


def connections_per_tenant() -> q.PromQL:
    return q.tenant_topk(TOP_TENANTS, SOCKETIO_CONNECTIONS)


def dashboard() -> DashboardDefinition:
    tenant = QueryVariable(
        name=TENANT_VARIABLE,
        label="Tenant",
        query=q.label_values(TENANT_SPAN_CALLS, "tenant_id"),
        datasource=PROMETHEUS.ref,
        all_value=ALL_TENANTS,
    )
    prometheus, loki_ds = PROMETHEUS.ref, LOKI.ref
    return make_dashboard(
        uid=OVERVIEW_UID,
        title="TikTickets - Overview",
        folder=TIKTICKETS_FOLDER,
        description="Request rate, errors, latency, WhatsApp sessions, Socket.io connections and error logs.",
        variables=[tenant],
        tags=["tiktickets"],
        links=[
            dashboard_link(
                "Tenants",
                TENANTS_UID,
                tooltip="Every tenant: who burns its error budget fastest, who grew most",
            )
        ],
        rows=[
            Row(
                "Requests",
                [
                    timeseries(
                        "Request rate per route",
                        description=(
                            "Server requests per second by Express route, from the Collector's spanmetrics "
                            "(traces_span_metrics_calls_total, SPAN_KIND_SERVER). All tenants: this series "
                            "has no tenant_id. Requests without a matched route (404s, Socket.io polling) "
                            "are left out."
                        ),
                        unit=REQUESTS_PER_SECOND,
                        datasource=prometheus,
                        targets=[prom(request_rate_per_route(), "{{http_route}}")],
                        width=12,
                    ),
                    stat(
                        "Error rate",
                        description=(
                            "Share of server spans with status ERROR over the last rate window, for the "
                            "tenants selected in $tenant (tenant_span_metrics_calls_total). Orange from 1 %, "
                            "red from 5 %."
                        ),
                        unit=RATIO_AS_PERCENT,
                        datasource=prometheus,
                        targets=[prom(tenant_error_ratio(), "error rate")],
                        steps=ERROR_RATIO_STEPS,
                        width=4,
                        height=8,
                    ),
                    timeseries(
                        "Error rate over time",
                        description=(
                            "The error ratio of the stat beside it over time, for the tenants in $tenant. "
                            "Dashed lines at 1 % and 5 %."
                        ),
                        unit=RATIO_AS_PERCENT,
                        datasource=prometheus,
                        targets=[prom(tenant_error_ratio(), "error rate")],
                        steps=ERROR_RATIO_STEPS,
                        width=8,
                    ),
                ],
            ),
            Row(
                "Latency",
                [
                    timeseries(
                        "Latency P50 / P95 / P99",
                        description=(
                            "Server span duration quantiles in seconds, all routes and tenants, from the "
                            "spanmetrics histogram (traces_span_metrics_duration_seconds_bucket). Dots are "
                            "exemplars: click one to open that request's trace in Jaeger. Exemplars are "
                            "requested on the P99 query only, so each dot is drawn once."
                        ),
                        unit=SECONDS,
                        datasource=prometheus,
                        targets=[
                            prom(latency(0.5), "P50"),
                            prom(latency(0.95), "P95"),
                            prom(latency(0.99, exemplars=True), "P99", exemplar=True),
                        ],
                        steps=LATENCY_STEPS,
                        width=24,
                    ),
                ],
            ),
            Row(
                "WhatsApp and realtime",
                [
                    stat(
                        "Active WhatsApp sessions",
                        description=(
                            "WhatsApp sessions connected now, for the tenants in $tenant "
                            "(tiktickets_whatsapp_sessions_active). Red at zero: no tenant can send."
                        ),
                        unit=COUNT,
                        datasource=prometheus,
                        targets=[prom(active_sessions(), "sessions")],
                        steps=thresholds("red", (1, "green")),
                        width=4,
                        height=8,
                    ),
                    timeseries(
                        "Active WhatsApp sessions over time",
                        description="Connected WhatsApp sessions over time, for the tenants in $tenant.",
                        unit=COUNT,
                        datasource=prometheus,
                        targets=[prom(active_sessions(), "sessions")],
                        width=8,
                    ),
                    bar_gauge(
                        f"Socket.io connections per tenant (top {TOP_TENANTS})",
                        description=(
                            f"Open Socket.io connections now: the {TOP_TENANTS} busiest tenants in $tenant "
                            "(tiktickets_socketio_connections). An instant top-k, so it stays readable and "
                            "cheap with thousands of tenants."
                        ),
                        unit=COUNT,
                        datasource=prometheus,
                        targets=[prom(connections_per_tenant(), "{{tenant_id}}", instant=True)],
                        width=12,
                        data_links=[tenant_link(TENANT_UID)],
                    ),
                ],
            ),
            Row(
                "Logs",
                [
                    logs(
                        "Recent error logs",
                        description=(
                            "Backend log records with severity ERROR or worse (severity_number >= 17), "
                            "newest first, for the tenants in $tenant. Expand a line and use the TraceID "
                            "link to open its trace in Jaeger."
                        ),
                        datasource=loki_ds,
                        targets=[loki(q.log_lines(BACKEND_LOGS, errors_only=True, all_value=ALL_TENANTS))],
                        height=12,
                    ),
                ],
            ),
        ],
    )
