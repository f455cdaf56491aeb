"""TikTickets - Tenant: one tenant's whole picture, for "tenant X says it is slow: them or us?".

One tenant at a time (`$tenant`, single-select and searchable), linked as
`/d/tiktickets-tenant?var-tenant=<id>` from the Overview and from the per-tenant alerts. Everything
here reads tenant-labelled series for that one tenant only, so it is as cheap at 10,000 tenants as at
20: the request and error rates from the Overview's per-tenant rows, the latency SLI from the
Collector's per-tenant slow count, the SLOs from prometheus_rules/tenant_slo.py's hourly rates
(the 30-day budget is a `sum_over_time` of those, 43,200 samples per series for one tenant).
"""

from config import OVERVIEW_UID, TENANT_UID, TENANTS_UID, TIKTICKETS_FOLDER
from dashboards.overview import tenant_error_ratio, tenant_request_rate
from dashboards_as_code.define import (
    COUNT,
    RATIO_AS_PERCENT,
    REQUESTS_PER_SECOND,
    TENANT_LABEL,
    TENANT_VARIABLE,
    DashboardDefinition,
    PanelSpec,
    QueryVariable,
    RecordingRule,
    Row,
    dashboard_link,
    explore_link,
    logs,
    loki,
    prom,
    stat,
    thresholds,
    timeseries,
)
from dashboards_as_code.define import dashboard as make_dashboard
from dashboards_as_code.define import queries as q
from datasources import JAEGER, LOKI, PROMETHEUS
from prometheus_rules import tenant_slo
from prometheus_rules.slo import AVAILABILITY_BUDGET, LATENCY_BUDGET, LATENCY_TARGET, SLO_PERIOD, WINDOWS
from telemetry.contract import (
    BACKEND_LOGS,
    LATENCY_THRESHOLD_SECONDS,
    RESOURCE,
    SERVER_SPANS_ONLY,
    SOCKETIO_CONNECTIONS,
    TENANT_SLOW_SPAN_CALLS,
    TENANT_SPAN_CALLS,
    WHATSAPP_MESSAGES_SENT,
    WHATSAPP_SESSIONS_ACTIVE,
)


def within_latency_target() -> q.PromQL:
    """1 - slow / all over the last 5 m: the share of this tenant's requests within the threshold."""
    slow = q.sum_by(q.rate(q.select(TENANT_SLOW_SPAN_CALLS), "5m"))
    every = q.sum_by(q.rate(q.select(TENANT_SPAN_CALLS, SERVER_SPANS_ONLY), "5m"))
    return q.PromQL(
        f"1 - (\n{q.or_zero(slow).text}\n/\n{every.text}\n)", slow.signals + every.signals, labels=frozenset()
    )


def _over(rule: RecordingRule, window: str) -> str:
    """The recorded hourly rate summed over `window`: proportional to the events in it (each sample is
    an hour's average, one per evaluation), so a ratio of two such sums is the window's ratio."""
    return f"sum(sum_over_time({tenant_slo.recorded(rule).text}[{window}]))"


def budget_left(bad: RecordingRule, budget: float) -> q.PromQL:
    """Share of the SLO period's error budget not spent: 1 - (bad share over the period) / budget.
    No bad request in the period is no series of `bad`: it reads 0, the whole budget left."""
    spent = f"(({_over(bad, SLO_PERIOD)} or vector(0)) / {_over(tenant_slo.TENANT_REQUESTS, SLO_PERIOD)})"
    return q.PromQL(f"1 - {spent} / {budget}", (), labels=frozenset())


def burn_rate(bad: RecordingRule, budget: float, window: str) -> q.PromQL:
    """How many times faster than the SLO allows the budget burns over `window` (1 = it lasts exactly
    the period): the bad share over the window, over the budget."""
    if window == tenant_slo.TENANT_WINDOW.long:
        share = (
            f"((sum({tenant_slo.recorded(bad).text}) or vector(0))"
            f" / sum({tenant_slo.recorded(tenant_slo.TENANT_REQUESTS).text}))"
        )
    else:
        share = f"(({_over(bad, window)} or vector(0)) / {_over(tenant_slo.TENANT_REQUESTS, window)})"
    return q.PromQL(f"{share} / {budget}", (), labels=frozenset())


def _burn_panel(title: str, bad: RecordingRule, budget: float, slo: str) -> PanelSpec:
    pairs = sorted({(w.long, w.burn_rate) for w in WINDOWS}, key=lambda pair: -pair[1])
    return timeseries(
        title,
        description=(
            f"How fast this tenant spends its {slo} error budget, over each alert window (1 = the budget "
            "lasts exactly 30 days). Dashed lines: each window's alert factor. The tenant's ticket "
            f"(TikTicketsTenant*BudgetBurn) reads the {tenant_slo.TENANT_WINDOW.long} line, at "
            f"{tenant_slo.TENANT_MIN_REQUESTS_PER_HOUR}+ requests an hour."
        ),
        unit=COUNT,
        datasource=PROMETHEUS.ref,
        targets=[prom(burn_rate(bad, budget, long), f"{long}") for long, _ in pairs],
        steps=thresholds("green", *sorted(((factor, "orange") for _, factor in pairs), key=lambda s: s[0])),
        width=12,
    )


def dashboard() -> DashboardDefinition:
    tenant = QueryVariable(
        name=TENANT_VARIABLE,
        label="Tenant",
        query=q.label_values(TENANT_SPAN_CALLS, TENANT_LABEL),
        datasource=PROMETHEUS.ref,
        multi=False,
        include_all=False,
    )
    prometheus = PROMETHEUS.ref
    traces = explore_link(
        "Traces of this tenant in Jaeger",
        JAEGER.ref,
        {
            "queryType": "search",
            "service": RESOURCE.service_name,
            "tags": f"{TENANT_LABEL}=${TENANT_VARIABLE}",
        },
    )
    back = dashboard_link(
        "Overview (this tenant)",
        OVERVIEW_UID,
        tooltip="The Overview filtered to this tenant, same time range",
        include_vars=True,
    )
    fleet = dashboard_link("Tenants", TENANTS_UID, tooltip="Every tenant: who burns fastest, who grew most")
    return make_dashboard(
        uid=TENANT_UID,
        title="TikTickets - Tenant",
        folder=TIKTICKETS_FOLDER,
        description="One tenant: requests, errors, latency and its SLOs, WhatsApp, Socket.io, error logs.",
        variables=[tenant],
        tags=["tiktickets", "tenant"],
        links=[back, fleet, traces],
        # Four sections: as tabs in Grafana 13 (schema v2), so "them or us?" opens on Requests; the
        # provisioning file keeps them as rows.
        sections_in_v2="tabs",
        rows=[
            Row(
                "Requests",
                [
                    stat(
                        "Request rate",
                        description=(
                            "Server requests per second of this tenant (tenant_span_metrics_calls_total)."
                        ),
                        unit=REQUESTS_PER_SECOND,
                        datasource=prometheus,
                        targets=[prom(tenant_request_rate(), "requests")],
                        width=4,
                        height=8,
                    ),
                    timeseries(
                        "Error ratio",
                        description=(
                            "Share of this tenant's server requests with status ERROR. Dashed: the SLO's "
                            f"budget ({AVAILABILITY_BUDGET:.1%}) and the fast-burn alert's level "
                            f"({tenant_slo.TENANT_WINDOW.burn_rate:g} x the budget)."
                        ),
                        unit=RATIO_AS_PERCENT,
                        datasource=prometheus,
                        targets=[prom(tenant_error_ratio(), "error ratio")],
                        steps=thresholds(
                            "green",
                            (AVAILABILITY_BUDGET, "orange"),
                            (round(AVAILABILITY_BUDGET * tenant_slo.TENANT_WINDOW.burn_rate, 6), "red"),
                        ),
                        width=10,
                    ),
                    timeseries(
                        "Within the latency target",
                        description=(
                            f"Share of this tenant's requests that took at most {LATENCY_THRESHOLD_SECONDS} "
                            "s "
                            f"(the Collector's per-tenant slow count against all its requests). Dashed: the "
                            f"SLO's {LATENCY_TARGET:.0%}. Route-level latency (P50/P95/P99) has no tenant: "
                            "see the Overview."
                        ),
                        unit=RATIO_AS_PERCENT,
                        datasource=prometheus,
                        targets=[prom(within_latency_target(), "within target")],
                        steps=thresholds("red", (LATENCY_TARGET, "green")),
                        width=10,
                        min_value=None,
                    ),
                ],
            ),
            Row(
                "Error budget",
                [
                    stat(
                        "Availability budget left (30 d)",
                        description=(
                            "Share of this tenant's 30-day availability error budget not spent: 1 - (its "
                            f"error share over 30 days) / {AVAILABILITY_BUDGET:.1%}. Below 0: the SLO is "
                            "broken."
                        ),
                        unit=RATIO_AS_PERCENT,
                        datasource=prometheus,
                        targets=[
                            prom(
                                budget_left(tenant_slo.TENANT_ERRORS, AVAILABILITY_BUDGET),
                                "left",
                                instant=True,
                            )
                        ],
                        steps=thresholds("red", (0, "orange"), (0.5, "green")),
                        width=6,
                    ),
                    stat(
                        "Latency budget left (30 d)",
                        description=(
                            "Share of this tenant's 30-day latency error budget not spent: 1 - (its share "
                            f"of slow requests over 30 days) / {LATENCY_BUDGET:.0%}."
                        ),
                        unit=RATIO_AS_PERCENT,
                        datasource=prometheus,
                        targets=[
                            prom(budget_left(tenant_slo.TENANT_SLOW, LATENCY_BUDGET), "left", instant=True)
                        ],
                        steps=thresholds("red", (0, "orange"), (0.5, "green")),
                        width=6,
                    ),
                    _burn_panel(
                        "Availability burn rate",
                        tenant_slo.TENANT_ERRORS,
                        AVAILABILITY_BUDGET,
                        "availability",
                    ),
                ],
            ),
            Row(
                "WhatsApp and realtime",
                [
                    stat(
                        "Active WhatsApp sessions",
                        description=(
                            "This tenant's WhatsApp sessions connected now "
                            "(tiktickets_whatsapp_sessions_active). "
                            "Red at zero: this tenant cannot send messages."
                        ),
                        unit=COUNT,
                        datasource=prometheus,
                        targets=[prom(q.or_zero(q.tenant_sum(WHATSAPP_SESSIONS_ACTIVE)), "sessions")],
                        steps=thresholds("red", (1, "green")),
                        width=4,
                        height=8,
                    ),
                    timeseries(
                        "Socket.io connections",
                        description=(
                            "Open Socket.io connections of this tenant's users "
                            "(tiktickets_socketio_connections)."
                        ),
                        unit=COUNT,
                        datasource=prometheus,
                        targets=[prom(q.tenant_sum(SOCKETIO_CONNECTIONS), "connections")],
                        width=10,
                    ),
                    timeseries(
                        "Messages sent",
                        description=(
                            "WhatsApp messages this tenant sends per second "
                            "(tiktickets_whatsapp_messages_sent_total)."
                        ),
                        unit=REQUESTS_PER_SECOND,
                        datasource=prometheus,
                        targets=[prom(q.tenant_sum(WHATSAPP_MESSAGES_SENT), "messages/s")],
                        width=10,
                    ),
                ],
            ),
            Row(
                "Logs",
                [
                    logs(
                        "Error logs",
                        description=(
                            "This tenant's backend log records with severity ERROR or worse, newest first. "
                            "Expand a line and use the TraceID link to open its trace; the dashboard's "
                            "link above searches all of the tenant's traces in Jaeger."
                        ),
                        datasource=LOKI.ref,
                        targets=[loki(q.log_lines(BACKEND_LOGS, errors_only=True))],
                        height=12,
                    ),
                ],
            ),
        ],
    )
