"""TikTickets - Tenants: which tenants are hurting, and which are hurting the others.

The fleet seen tenant by tenant, cheap at 10,000 tenants: every panel is an instant top-k over one
series per tenant (prometheus_rules/tenant_slo.py's hourly rates, the WhatsApp sessions), so a load
reads a few tens of thousands of samples, whatever the time range. Every bar links to that tenant's
Tenant dashboard over the same time range. `$tenant` narrows the fleet (a plan's tenants, say); All
is `.*`, because these series have no pre-summed All row.
"""

from config import TENANT_UID, TENANTS_UID, TIKTICKETS_FOLDER
from dashboards_as_code.define import (
    COUNT,
    RATIO_AS_PERCENT,
    REQUESTS_PER_SECOND,
    TENANT_LABEL,
    TENANT_VARIABLE,
    DashboardDefinition,
    QueryVariable,
    RecordingRule,
    Row,
    bar_gauge,
    prom,
    stat,
    tenant_link,
    thresholds,
)
from dashboards_as_code.define import dashboard as make_dashboard
from dashboards_as_code.define import queries as q
from datasources import PROMETHEUS
from prometheus_rules import tenant_slo
from prometheus_rules.slo import AVAILABILITY_BUDGET, LATENCY_BUDGET
from telemetry.contract import TENANT_SPAN_CALLS, WHATSAPP_SESSIONS_ACTIVE

TOP = 20
"""Bars per panel: the tenants worth a look, readable with thousands of tenants."""


def _rate(rule: RecordingRule) -> str:
    return tenant_slo.recorded(rule).text


def _above_floor() -> str:
    return tenant_slo.above_floor(_rate(tenant_slo.TENANT_REQUESTS))


def burn_rate(bad: RecordingRule, budget: float) -> q.PromQL:
    """Each tenant's burn rate over the last hour (its bad share over the SLO's budget), for the
    tenants above the alerts' traffic floor; the top TOP."""
    requests = _rate(tenant_slo.TENANT_REQUESTS)
    # A tenant without a failed (slow) request in the hour has no such series: it burns at 0, and is
    # shown so, never an empty panel that looks broken on a good day.
    share = f"({_rate(bad)} or {requests} * 0) / {requests}"
    return q.PromQL(
        f"topk({TOP}, ({share}) / {budget} and {_above_floor()})", (), labels=frozenset({TENANT_LABEL})
    )


def grew_most() -> q.PromQL:
    """Requests per second now minus at the start of the range (`offset $__range`), per tenant, a
    tenant new in the range growing from 0: the noisy neighbours. Not `@ start()`: in an instant
    query, Prometheus resolves start() and end() both to the evaluation time, and every bar reads 0."""
    now = _rate(tenant_slo.TENANT_REQUESTS)
    then = f"({tenant_slo.recorded(tenant_slo.TENANT_REQUESTS, offset='$__range').text} or {now} * 0)"
    return q.PromQL(f"topk({TOP}, {now} - {then})", (), labels=frozenset({TENANT_LABEL}))


def share_of_requests() -> q.PromQL:
    rates = _rate(tenant_slo.TENANT_REQUESTS)
    return q.PromQL(f"topk({TOP}, {rates} / scalar(sum({rates})))", (), labels=frozenset({TENANT_LABEL}))


def _sessions() -> str:
    """Connected WhatsApp sessions per tenant above the traffic floor; 0 for one with no session series."""
    sessions = q.sum_by(q.select(WHATSAPP_SESSIONS_ACTIVE), TENANT_LABEL).text
    requests = _rate(tenant_slo.TENANT_REQUESTS)
    return f"(({sessions}) or {requests} * 0) and on ({TENANT_LABEL}) ({_above_floor()})"


def without_sessions() -> q.PromQL:
    """How many tenants above the traffic floor have no connected WhatsApp session: they cannot send."""
    return q.PromQL(f"count(({_sessions()}) == 0) or vector(0)", (), labels=frozenset())


def fewest_sessions() -> q.PromQL:
    return q.PromQL(f"bottomk({TOP}, {_sessions()})", (), labels=frozenset({TENANT_LABEL}))


def dashboard() -> DashboardDefinition:
    tenant = QueryVariable(
        name=TENANT_VARIABLE,
        label="Tenant",
        query=q.label_values(TENANT_SPAN_CALLS, TENANT_LABEL),
        datasource=PROMETHEUS.ref,
        all_value=".*",
    )
    prometheus, to_tenant = PROMETHEUS.ref, [tenant_link(TENANT_UID)]
    factor = tenant_slo.TENANT_WINDOW.burn_rate
    burn_steps = thresholds("green", (1, "orange"), (factor, "red"))
    return make_dashboard(
        uid=TENANTS_UID,
        title="TikTickets - Tenants",
        folder=TIKTICKETS_FOLDER,
        description="Every tenant: budgets burning fastest, noisy neighbours, tenants without WhatsApp.",
        variables=[tenant],
        tags=["tiktickets", "tenant"],
        rows=[
            Row(
                "Burning their error budget fastest (last hour)",
                [
                    bar_gauge(
                        f"Availability burn rate (top {TOP})",
                        description=(
                            "Each tenant's error share over the last hour divided by the availability "
                            f"budget ({AVAILABILITY_BUDGET:.1%}): 1 spends the budget in exactly "
                            f"30 days, {factor:g} (red) opens the tenant's ticket. Tenants with "
                            f"{tenant_slo.TENANT_MIN_REQUESTS_PER_HOUR}+ requests an hour. Click a bar "
                            "for the tenant's dashboard."
                        ),
                        unit=COUNT,
                        datasource=prometheus,
                        targets=[
                            prom(
                                burn_rate(tenant_slo.TENANT_ERRORS, AVAILABILITY_BUDGET),
                                "{{tenant_id}}",
                                instant=True,
                            )
                        ],
                        steps=burn_steps,
                        data_links=to_tenant,
                    ),
                    bar_gauge(
                        f"Latency burn rate (top {TOP})",
                        description=(
                            "Each tenant's share of requests over the latency threshold in the last hour, "
                            f"divided by the latency budget ({LATENCY_BUDGET:.0%}); as beside it."
                        ),
                        unit=COUNT,
                        datasource=prometheus,
                        targets=[
                            prom(
                                burn_rate(tenant_slo.TENANT_SLOW, LATENCY_BUDGET),
                                "{{tenant_id}}",
                                instant=True,
                            )
                        ],
                        steps=burn_steps,
                        data_links=to_tenant,
                    ),
                ],
            ),
            Row(
                "Noisy neighbours",
                [
                    bar_gauge(
                        f"Traffic grew most over the range (top {TOP})",
                        description=(
                            "Requests per second at the end of the time range minus at its start (hourly "
                            "averages), per tenant: who is taking more of the backend than before."
                        ),
                        unit=REQUESTS_PER_SECOND,
                        datasource=prometheus,
                        targets=[prom(grew_most(), "{{tenant_id}}", instant=True)],
                        data_links=to_tenant,
                    ),
                    bar_gauge(
                        f"Share of all requests (top {TOP})",
                        description="Each tenant's share of the requests of those in $tenant, last hour.",
                        unit=RATIO_AS_PERCENT,
                        datasource=prometheus,
                        targets=[prom(share_of_requests(), "{{tenant_id}}", instant=True)],
                        data_links=to_tenant,
                    ),
                ],
            ),
            Row(
                "WhatsApp",
                [
                    stat(
                        "Tenants with traffic and no WhatsApp session",
                        description=(
                            f"Tenants with {tenant_slo.TENANT_MIN_REQUESTS_PER_HOUR}+ requests in the last "
                            "hour "
                            "and no connected WhatsApp session: their users work, but no message can leave."
                        ),
                        unit=COUNT,
                        datasource=prometheus,
                        targets=[prom(without_sessions(), "tenants", instant=True)],
                        steps=thresholds("green", (1, "red")),
                        width=6,
                        height=8,
                    ),
                    bar_gauge(
                        f"Fewest WhatsApp sessions (bottom {TOP})",
                        description=(
                            "Connected WhatsApp sessions of the tenants with traffic, fewest first: red at 0,"
                            " the tenants counted beside. Click one for its dashboard."
                        ),
                        unit=COUNT,
                        datasource=prometheus,
                        targets=[prom(fewest_sessions(), "{{tenant_id}}", instant=True)],
                        steps=thresholds("red", (1, "green")),
                        width=18,
                        data_links=to_tenant,
                    ),
                ],
            ),
        ],
    )
