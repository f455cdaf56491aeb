"""Each tenant's SLOs: the fleet's targets and windows (slo.py), per tenant, at a bounded cost.

The fleet's SLO cannot see one tenant: a tenant at 100 % errors among 3,000 moves the fleet's error
ratio by 0.03 %. So each tenant's error ratio and latency compliance are recorded too, from the same
targets, but not over every window of the fleet's: five windows x two SLIs would be ten series per
tenant. What is recorded is three rates over the fastest page window (1 h) per tenant: requests,
failed requests and slow requests (over the latency threshold). With the Collector's slow count, that
is at most four series per tenant (the contract's budget of tenant_slow_span_metrics_calls_total is
one); a tenant without errors or slow requests in the hour has no series of those. Every longer view
(6 h, 3 d, the 30-day budget) is a `sum_over_time` of the 1 h rates, each sample of which is one hour's
average; queried for one tenant (its dashboard) or as a top-k (the fleet's), never in a rule.

The alert policy (README, "Per-tenant SLO alerts"): a tenant's fast burn opens a TICKET for that
tenant, never a page; it needs both windows of the fleet's fastest pair (1 h and 5 m at the same
factor, so it resolves minutes after the burning stops) and at least TENANT_MIN_REQUESTS_PER_HOUR
requests in the hour, so a tenant with a handful of requests does not open a ticket for one failure.
One page covers the case that is "us", not "them": when many tenants burn at once
(TikTicketsManyTenantsBurning), whether or not the fleet's own SLO sees it (many small tenants can
burn while the big ones keep the fleet's ratio low).
"""

from config import TENANT_UID, TENANTS_UID
from dashboards_as_code.define import TENANT_LABEL, TENANT_VARIABLE, AlertRule, RecordingRule, RuleGroup
from dashboards_as_code.define import queries as q
from prometheus_rules.slo import (
    AVAILABILITY_BUDGET,
    LATENCY_BUDGET,
    LONG_EVERY,
    SLO_LABEL,
    SLO_NAMES,
    WINDOWS,
    BurnWindow,
)
from telemetry.contract import SERVER_SPANS_ONLY, STATUS_CODE_ERROR, TENANT_SLOW_SPAN_CALLS, TENANT_SPAN_CALLS

TENANT_WINDOW: BurnWindow = max((w for w in WINDOWS if w.severity == "page"), key=lambda w: w.burn_rate)
"""The fleet's fastest page pair (the highest burn rate): 2 % of the 30-day budget in 1 h."""
TENANT_MIN_REQUESTS_PER_HOUR = 100
"""Below this, a tenant's ratio is a few requests' luck: at 100 requests the error alert needs 8
failures in the hour (14.4 x 0.5 % = 7.2 %), the latency alert 72 slow requests."""
TENANT_BURN_FOR = "2m"
"""How long a tenant burns before its ticket fires. TikTicketsManyTenantsBurning waits no longer: it
silences those tickets (prometheus_rules/routing.py) only once it fires, so a longer wait let every
burning tenant's ticket out before the one page (2 min, plus the ticket route's 2 min of gathering)."""
MANY_TENANTS_AT_LEAST = 3
MANY_TENANTS_SHARE = 0.01
"""TikTicketsManyTenantsBurning pages when at least this many tenants, and more than this share of
the tenants above the traffic floor, burn at once: one tenant is a ticket; 1 % of them is an incident."""

_REQUESTS = TENANT_SPAN_CALLS


def _per_tenant_rate(signal_selector: q.PromQL, window: str) -> q.PromQL:
    return q.sum_by(q.rate(signal_selector, window), TENANT_LABEL)


# Every tenant at once (a rule has no `$tenant`: Grafana's variables mean nothing to Prometheus).
def requests(window: str) -> q.PromQL:
    return _per_tenant_rate(q.select(_REQUESTS, SERVER_SPANS_ONLY, tenant_filter=False), window)


def errors(window: str) -> q.PromQL:
    failed = q.eq("status_code", STATUS_CODE_ERROR)
    return _per_tenant_rate(q.select(_REQUESTS, SERVER_SPANS_ONLY, failed, tenant_filter=False), window)


def slow(window: str) -> q.PromQL:
    return _per_tenant_rate(q.select(TENANT_SLOW_SPAN_CALLS, tenant_filter=False), window)


def _record(kind: str, expr: q.PromQL) -> RecordingRule:
    return RecordingRule(
        record=f"{TENANT_LABEL}:tiktickets_slo_{kind}:rate{TENANT_WINDOW.long}",
        expr=expr,
        grafana_unit="reqps",
    )


TENANT_REQUESTS = _record("requests", requests(TENANT_WINDOW.long))
TENANT_ERRORS = _record("errors", errors(TENANT_WINDOW.long))
TENANT_SLOW = _record("slow", slow(TENANT_WINDOW.long))
TENANT_RECORDINGS = (TENANT_REQUESTS, TENANT_ERRORS, TENANT_SLOW)
"""Every series this file adds per tenant; tests/prometheus_rules/test_tenant_slo.py holds the budget."""


def recorded(rule: RecordingRule, *, offset: str | None = None) -> q.PromQL:
    """One of TENANT_RECORDINGS as a dashboard reads it: filtered by `$tenant` (rules read the bare name)."""
    return q.select_recorded(rule.record, rule.series_labels, offset=offset)


def above_floor(requests: str) -> str:
    """The tenants the per-tenant alerts consider, given their hourly request rate (TENANT_REQUESTS,
    bare in a rule, filtered in a dashboard): enough requests in the hour for a ratio to mean it."""
    return f"{requests} * 3600 >= {TENANT_MIN_REQUESTS_PER_HOUR}"


def bad_ratio(bad: RecordingRule) -> str:
    """A tenant's share of bad requests over the recorded window: the bad rate over the request rate."""
    return f"{bad.record} / {TENANT_REQUESTS.record}"


def _burning(kind: str, budget: float) -> str:
    """Tenants above the traffic floor whose bad share is over the pair's factor in both windows."""
    bad, short_bad = (TENANT_ERRORS, errors) if kind == "errors" else (TENANT_SLOW, slow)
    limit = f"({TENANT_WINDOW.burn_rate} * {budget})"
    short = f"({short_bad(TENANT_WINDOW.short).text}\n/\n{requests(TENANT_WINDOW.short).text})"
    return f"({bad_ratio(bad)} > {limit}\nand\n{short} > {limit})\nand\n{above_floor(TENANT_REQUESTS.record)}"


def _tenant_alert(kind: str, budget: float, name: str, what: str, panel: str) -> AlertRule:
    return AlertRule(
        alert=name,
        expr=_burning(kind, budget),
        duration=TENANT_BURN_FOR,
        severity="ticket",
        summary=f"Tenant {{{{ $labels.{TENANT_LABEL} }}}} is burning its {what} error budget fast",
        description=(
            f"{{{{ $value | humanizePercentage }}}} of tenant {{{{ $labels.{TENANT_LABEL} }}}}'s requests "
            "over "
            f"the last {TENANT_WINDOW.long} are {what} failures (the last {TENANT_WINDOW.short} too); the "
            "SLO "
            f"allows {budget:.2%} over 30 days. One tenant only: open its dashboard and compare with the "
            "fleet."
        ),
        runbook="runbook-tiktickets-tenant-budget-burn",
        dashboard=TENANT_UID,
        dashboard_panel=panel,
        dashboard_variables={TENANT_VARIABLE: f"{{{{ $labels.{TENANT_LABEL} }}}}"},
        labels={SLO_LABEL: SLO_NAMES[kind]},
    )


def _many_tenants() -> AlertRule:
    """One page when many tenants burn at once, instead of a ticket storm nobody reads at 3 am."""
    burning = f"count(\n{_burning('errors', AVAILABILITY_BUDGET)}\n)"
    active = f"count({above_floor(TENANT_REQUESTS.record)})"
    return AlertRule(
        alert="TikTicketsManyTenantsBurning",
        expr=f"{burning} >= {MANY_TENANTS_AT_LEAST}\nand on ()\n{burning} > {MANY_TENANTS_SHARE} * {active}",
        duration=TENANT_BURN_FOR,
        severity="page",
        summary="{{ $value }} tenants are burning their availability error budget fast at once",
        description=(
            "{{ $value }} tenants are each failing more than their SLO allows at the fast-burn pace: "
            f"at least {MANY_TENANTS_AT_LEAST}, and more than {MANY_TENANTS_SHARE:.0%} of the tenants with "
            f"{TENANT_MIN_REQUESTS_PER_HOUR}+ requests an hour. This is us, not them: look for what they "
            "share."
        ),
        runbook="runbook-tiktickets-tenant-budget-burn",
        dashboard=TENANTS_UID,
        dashboard_panel="Availability burn rate (top 20)",
        labels={SLO_LABEL: SLO_NAMES["errors"]},
    )


TENANT_ERROR_BURN = _tenant_alert(
    "errors", AVAILABILITY_BUDGET, "TikTicketsTenantErrorBudgetBurn", "availability", "Error ratio"
)
TENANT_LATENCY_BURN = _tenant_alert(
    "slow", LATENCY_BUDGET, "TikTicketsTenantLatencyBudgetBurn", "latency", "Within the latency target"
)
MANY_TENANTS_BURNING = _many_tenants()

TENANT_SLO_GROUP = RuleGroup(
    name="tiktickets-tenant-slo",
    # The rates span an hour, so they change slowly; the alerts read them in the same group, right after.
    interval=LONG_EVERY,
    recording=TENANT_RECORDINGS,
    alerts=(TENANT_ERROR_BURN, TENANT_LATENCY_BURN, MANY_TENANTS_BURNING),
)
