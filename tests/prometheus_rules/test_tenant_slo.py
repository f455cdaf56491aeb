"""Each tenant's SLO rules behave as support and on-call expect, on contract-shaped series, with promtool.

The promises checked here are stated in prometheus_rules/tenant_slo.py's docstring and are written
down here independently (the numbers below are the SLO's 0.5 % and 5 % budgets and the workbook's
14.4x, not read from the rules' text), then every threshold is derived from the module's constants:
- the recorded hourly rates per tenant are the tenant's requests, failures and slow requests;
- a tenant failing fast opens a ticket for THAT tenant only, never a page, once its `for` is past;
- a tenant under the traffic floor opens nothing, whatever its ratio;
- a tenant whose last 5 minutes burn but whose hour does not opens nothing and is not counted for the
  many-tenants page; a burning tenant's ticket carries its failed share of the hour (between 0 and 1);
- a tenant whose requests are mostly slow opens the latency ticket; the same tenant with half its
  requests slow (10x the budget, under 14.4x) opens none;
- many tenants burning at once is one page; as many burning among a large fleet is not;
- the per-tenant SLO costs at most four series per tenant (issue 22's budget).
Every case runs under every schedule of evaluation.py, like the fleet's rules.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.grafana_math import parse_duration
from prometheus_rules import tenant_slo
from prometheus_rules.slo import AVAILABILITY_TARGET, LATENCY_TARGET, error_budget
from telemetry.contract import TENANT_SLOW_SPAN_CALLS
from tests.prometheus.rules import rendered_rules
from tests.prometheus_rules.evaluation import LAG_SECONDS, SCHEDULES, Schedule, on_grid
from tests.prometheus_rules.test_promtool_rules import (
    ERROR,
    SERVER,
    SERVICE,
    UNSET,
    alert,
    expect,
    hold,
    per_second,
    run_promtool,
    samples_until,
    seconds,
)

ALERTS = {rule.alert: rule for rule in tenant_slo.TENANT_SLO_GROUP.alerts}
ERRORS_ALERT, LATENCY_ALERT = "TikTicketsTenantErrorBudgetBurn", "TikTicketsTenantLatencyBudgetBurn"
MANY = "TikTicketsManyTenantsBurning"
CALLS = "tenant_span_metrics_calls_total"
SLOW = TENANT_SLOW_SPAN_CALLS.prometheus_name
FAST_FACTOR = 14.4
"""The workbook's fastest pair: 2 % of a 30-day budget in 1 h. The tenant alerts use that pair."""


def tenant(
    name: str, requests: float, failing: float, slow: float | None, samples: int
) -> list[dict[str, str]]:
    """One tenant's series as the Collector writes them: `requests`/s of which `failing`/s fail, and
    `slow`/s over the latency threshold (None: no slow request, so no series at all)."""
    series = [
        {
            "series": f'{CALLS}{{{SERVER}, {UNSET}, tenant_id="{name}"}}',
            "values": per_second(requests - failing, samples),
        },
        {
            "series": f'{CALLS}{{{SERVER}, {ERROR}, tenant_id="{name}"}}',
            "values": per_second(failing, samples),
        },
    ]
    if slow is not None:
        series.append(
            {"series": f'{SLOW}{{{SERVICE}, tenant_id="{name}"}}', "values": per_second(slow, samples)}
        )
    return series


def test_the_tenant_alerts_use_the_fastest_page_pair_and_are_tickets() -> None:
    assert tenant_slo.TENANT_WINDOW.burn_rate == FAST_FACTOR
    assert (tenant_slo.TENANT_WINDOW.long, tenant_slo.TENANT_WINDOW.short) == ("1h", "5m")
    assert {ALERTS[ERRORS_ALERT].severity, ALERTS[LATENCY_ALERT].severity} == {"ticket"}
    assert ALERTS[MANY].severity == "page"


def test_the_per_tenant_slo_costs_at_most_four_series_per_tenant() -> None:
    """Issue 22's budget: the recorded per-tenant series of this file plus the Collector's slow count."""
    per_tenant = [rule for rule in tenant_slo.TENANT_RECORDINGS if "tenant_id" in rule.expr.labels]
    assert len(per_tenant) == len(tenant_slo.TENANT_RECORDINGS)  # every one is per tenant, none fleet-wide
    assert TENANT_SLOW_SPAN_CALLS.tenant_budget is not None
    assert len(per_tenant) + TENANT_SLOW_SPAN_CALLS.tenant_budget.series <= 4


LAST = max(hold(rule) for rule in ALERTS.values()) + LAG_SECONDS
N = samples_until(LAST)
AT = on_grid(70 * 60)
"""Past the first hour: before it, a 1 h rate is the increase so far over the whole hour (Prometheus
does not extrapolate to a window's start the series had not reached), a third at 20 min. The ratios
the alerts read are right from the start, numerator and denominator alike."""


def recording() -> dict[str, Any]:
    """acme: 10/s, 1/s failing, 2/s slow; globex: 10/s, none failing, none slow."""
    rates = {
        "requests": {"acme": 10, "globex": 10},
        "errors": {"acme": 1, "globex": 0},
        "slow": {"acme": 2},
    }
    records = {
        kind: next(rule.record for rule in tenant_slo.TENANT_RECORDINGS if f"_{kind}:" in rule.record)
        for kind in rates
    }
    return {
        "interval": "15s",
        "input_series": tenant("acme", 10, 1, 2, samples_until(AT))
        + tenant("globex", 10, 0, None, samples_until(AT)),
        "promql_expr_test": [
            expect(
                f"round({records[kind]} * 10) / 10",
                *((f'{{tenant_id="{name}"}}', value) for name, value in sorted(rates[kind].items())),
                at=seconds(AT),
            )
            for kind in rates
        ],
    }


def one_tenant_failing() -> dict[str, Any]:
    """acme fails 25 % (50x the 0.5 % budget); globex and initech are healthy; tiny has 100 % errors at a
    fifth of the floor's traffic. Only acme's ticket fires, and only once its `for` is past."""
    rule = ALERTS[ERRORS_ALERT]
    tiny = tenant_slo.TENANT_MIN_REQUESTS_PER_HOUR / 3600 / 5
    series = (
        tenant("acme", 8, 2, None, N)
        + tenant("globex", 10, 0.001, None, N)
        + tenant("initech", 3, 0, None, N)
        + tenant("tiny", tiny, tiny, None, N)
    )
    return {
        "interval": "15s",
        "input_series": series,
        "alert_rule_test": [
            alert(rule.alert, seconds(hold(rule) - 60)),
            alert(
                rule.alert,
                seconds(hold(rule) + LAG_SECONDS),
                {"severity": "ticket", "tenant_id": "acme", "slo": "availability"},
            ),
            alert(MANY, seconds(hold(rule) + LAG_SECONDS)),
            alert(LATENCY_ALERT, seconds(hold(rule) + LAG_SECONDS)),
        ],
    }


def slow_tenant(share: float, fires: bool) -> dict[str, Any]:
    """acme at 10/s with `share` of its requests slow: the latency ticket fires above 14.4 x 5 %."""
    assert fires is (share > FAST_FACTOR * round(1 - LATENCY_TARGET, 6)), "the case contradicts the policy"
    rule = ALERTS[LATENCY_ALERT]
    expected = [{"severity": "ticket", "tenant_id": "acme", "slo": "latency"}] if fires else []
    return {
        "interval": "15s",
        "input_series": tenant("acme", 10, 0, 10 * share, N) + tenant("globex", 10, 0, None, N),
        "alert_rule_test": [alert(rule.alert, seconds(hold(rule) + LAG_SECONDS), *expected)],
    }


def many_tenants(burning: int, healthy: int, fires: bool, quiet: int = 0) -> dict[str, Any]:
    """`burning` tenants at 25 % errors among `healthy` ones: one page when they are at least three and
    more than 1 % of the tenants above the floor (the README's policy, stated here, not read). `quiet`
    tenants more send a few requests an hour, under the floor: they are not among those counted."""
    rule = ALERTS[MANY]
    series = [s for i in range(burning) for s in tenant(f"burning-{i}", 4, 1, None, N)]
    series += [s for i in range(healthy) for s in tenant(f"healthy-{i}", 4, 0, None, N)]
    under_floor = tenant_slo.TENANT_MIN_REQUESTS_PER_HOUR / 3600 / 2
    series += [s for i in range(quiet) for s in tenant(f"quiet-{i}", under_floor, 0, None, N)]
    at = seconds(hold(rule) + LAG_SECONDS)
    return {
        "interval": "15s",
        "input_series": series,
        "alert_rule_test": [
            alert(rule.alert, at, *([{"severity": "page", "slo": "availability"}] if fires else []))
        ],
    }


def traffic_rose() -> dict[str, Any]:
    """Both windows are each their own share: `acme` sends 10 requests a minute with 3 failing (30 %)
    for 50 minutes, then 100 a minute with 5 failing (5 %). At 62 minutes the hour holds 204 failures
    in 1,680 requests (12 %, over 14.4 x 0.5 % = 7.2 %) but the last 5 minutes only 5 % (under it):
    no ticket, because the short window confirms nothing. Dividing the 5 m failures by the 1 h
    request rate (28 a minute) would read 18 % and open one."""
    before, after = 200, 48  # 15 s samples: 50 min, then 12 min
    unset = f"0+{7 / 4:g}x{before - 1} {7 / 4 * before:g}+{95 / 4:g}x{after}"
    failed = f"0+{3 / 4:g}x{before - 1} {3 / 4 * before:g}+{5 / 4:g}x{after}"
    series = [
        {"series": f'{CALLS}{{{SERVER}, {UNSET}, tenant_id="acme"}}', "values": unset},
        {"series": f'{CALLS}{{{SERVER}, {ERROR}, tenant_id="acme"}}', "values": failed},
    ]
    return {
        "interval": "15s",
        "input_series": series,
        "alert_rule_test": [alert(ERRORS_ALERT, "62m")],
    }


def outgoing_calls_failing() -> dict[str, Any]:
    """acme serves 10/s, none failing, while every one of its 10/s outgoing calls (client spans, e.g.
    to the WhatsApp API) fails: its requests are fine, so no ticket and no page. Counting client spans
    as requests or failures would open one (50 % of its spans fail)."""
    client = f'{SERVICE}, span_kind="SPAN_KIND_CLIENT"'
    failing_calls = {"series": f'{CALLS}{{{client}, {ERROR}, tenant_id="acme"}}', "values": per_second(10, N)}
    series = [*tenant("acme", 10, 0, None, N), failing_calls]
    at = seconds(max(hold(rule) for rule in ALERTS.values()) + LAG_SECONDS)
    return {
        "interval": "15s",
        "input_series": series,
        "alert_rule_test": [alert(ERRORS_ALERT, at), alert(MANY, at)],
    }


def outgoing_calls_do_not_dilute() -> dict[str, Any]:
    """acme serves 10/s with 1/s failing (10 %, over 14.4 x 0.5 % = 7.2 %) and makes 10/s outgoing
    calls that succeed: its requests are the 10/s it serves, so its ticket opens. Counting the client
    spans as requests would read 5 % and open none."""
    client = f'{SERVICE}, span_kind="SPAN_KIND_CLIENT"'
    calls_out = {"series": f'{CALLS}{{{client}, {UNSET}, tenant_id="acme"}}', "values": per_second(10, N)}
    rule = ALERTS[ERRORS_ALERT]
    labels = {"severity": "ticket", "tenant_id": "acme", "slo": "availability"}
    return {
        "interval": "15s",
        "input_series": [*tenant("acme", 10, 1, None, N), calls_out],
        "alert_rule_test": [alert(rule.alert, seconds(hold(rule) + LAG_SECONDS), labels)],
    }


TICKET_WITHIN_SECONDS = 2 * 60
"""tenant_slo.py: a tenant burns 2 minutes before its ticket fires (and the many-tenants page waits no
longer). Written here, not read from the rule's `for`: a longer `for` must fail this."""


def ticket_in_time() -> dict[str, Any]:
    """acme fails 25 % from the start: its ticket is out 2 minutes (plus the evaluation lag) later."""
    labels = {"severity": "ticket", "tenant_id": "acme", "slo": "availability"}
    return {
        "interval": "15s",
        "input_series": tenant("acme", 8, 2, None, N) + tenant("globex", 10, 0, None, N),
        "alert_rule_test": [alert(ERRORS_ALERT, seconds(TICKET_WITHIN_SECONDS + LAG_SECONDS), labels)],
    }


AVAILABILITY_BUDGET = round(1 - AVAILABILITY_TARGET, 6)
assert math.isclose(AVAILABILITY_BUDGET, 0.005), "the scenarios' 25 % is 50x this budget"

TENANT_CASES = {
    "per-tenant hourly rates": recording(),
    "one tenant failing opens its ticket only": one_tenant_failing(),
    "a tenant whose last 5 minutes are under the burn rate opens none": traffic_rose(),
    "a tenant with 80 % slow requests opens the latency ticket": slow_tenant(0.8, fires=True),
    "a tenant with 50 % slow requests opens none": slow_tenant(0.5, fires=False),
    "three of four tenants burning pages once": many_tenants(3, 1, fires=True),
    "two burning tenants do not page": many_tenants(2, 0, fires=False),
    "four burning among 400 do not page": many_tenants(4, 396, fires=False),
    "five burning among 400 page": many_tenants(5, 395, fires=True),
    # "More than 1 %": exactly 1 % (three among 300) is not more.
    "three burning among 300 (exactly 1 %) do not page": many_tenants(3, 297, fires=False),
    "a tenant whose outgoing calls fail opens nothing": outgoing_calls_failing(),
    "a failing tenant's outgoing calls do not hide its ticket": outgoing_calls_do_not_dilute(),
    "a failing tenant's ticket is out within 2 minutes": ticket_in_time(),
    # 1 % of the tenants above the floor, not of every tenant: 400 tenants with a handful of requests
    # an hour (half the floor) do not make three burning ones a small share.
    "three burning beside 400 under the floor page": many_tenants(3, 0, fires=True, quiet=400),
}


@pytest.mark.parametrize("schedule", SCHEDULES, ids=str)
@pytest.mark.parametrize("name", TENANT_CASES)
def test_tenant_slo_rules_with_promtool(tmp_path: Path, name: str, schedule: Schedule) -> None:
    result = run_promtool(tmp_path, TENANT_CASES[name], schedule)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


LIMIT = tenant_slo.TENANT_WINDOW.burn_rate * error_budget(AVAILABILITY_TARGET)
"""The share of failed requests over which a tenant burns, from the definitions (14.4 x 0.5 % = 7.2 %)."""
LONG, SHORT = (parse_duration(w) for w in (tenant_slo.TENANT_WINDOW.long, tenant_slo.TENANT_WINDOW.short))
BURST_SHARE = 4.5 * LIMIT
"""Far over the limit in both windows: 32.4 % failed."""
CALM_HOUR_SHARE = 0.75 * LIMIT
"""Under the limit over the long window: 5.4 % failed."""
BURST = LONG * CALM_HOUR_SHARE / BURST_SHARE
"""A burst at BURST_SHARE this long, after a clean hour, is CALM_HOUR_SHARE of the long window (10 min)."""


@pytest.mark.parametrize("schedule", SCHEDULES, ids=str)
def test_a_tenant_whose_hour_is_under_the_burn_rate_opens_nothing_however_its_last_minutes_burn(
    tmp_path: Path, schedule: Schedule
) -> None:
    """tenant_slo.py: a tenant's ticket "needs both windows": over the long one, whose share is the
    alert's value, and over the short one, which only confirms it. `calm` fails nothing, then its last
    10 minutes fail at 32.4 % (4.5x the 7.2 % limit): its last 5 minutes burn, its hour (5.4 % failed)
    does not. So it opens no ticket, and it is not one of the tenants TikTicketsManyTenantsBurning
    counts: with it, the two others burning at 32.4 % all along would be the three that page. Those two
    open their tickets, and each alert's value is its tenant's failed share of the hour, 0.324: a share
    of the requests, between 0 and 1. Both windows and the limit come from the rule definitions; the
    rules are rendered from them now."""
    assert SHORT < BURST, "the burst fills the short window: only the long one can hold the ticket back"
    fires_after = SHORT + hold(ALERTS[ERRORS_ALERT]) + LAG_SECONDS  # on the short window alone
    assert fires_after <= BURST, "the burst is long enough for a ticket to fire"
    at = on_grid(LONG + BURST)  # a full hour of traffic before, the burst ending at the check
    before, during = round((at - BURST) / 15), samples_until(BURST)
    unset = f"0+150x{before - 1} {150 * before}+{150 * (1 - BURST_SHARE):g}x{during}"
    failed = f"0x{before - 1} 0+{150 * BURST_SHARE:g}x{during}"  # 10 requests/s, as `tenant` writes them
    burning = [f"burning-{i}" for i in range(tenant_slo.MANY_TENANTS_AT_LEAST - 1)]
    series = [
        {"series": f'{CALLS}{{{SERVER}, {UNSET}, tenant_id="calm"}}', "values": unset},
        {"series": f'{CALLS}{{{SERVER}, {ERROR}, tenant_id="calm"}}', "values": failed},
        *(s for name in burning for s in tenant(name, 10, 10 * BURST_SHARE, None, samples_until(at))),
    ]
    (expression,) = [
        rule["expr"]
        for group in rendered_rules()["groups"]
        for rule in group["rules"]
        if rule.get("alert") == ERRORS_ALERT
    ]
    tickets = [{"severity": "ticket", "tenant_id": name, "slo": "availability"} for name in burning]
    case = {
        "interval": "15s",
        "input_series": series,
        "promql_expr_test": [
            expect(
                f"round(({expression}) * 1000)",
                *((f'{{tenant_id="{name}"}}', round(BURST_SHARE * 1000)) for name in burning),
                at=seconds(at),
            )
        ],
        "alert_rule_test": [
            alert(ERRORS_ALERT, seconds(at), *tickets),
            alert(LATENCY_ALERT, seconds(at)),
            alert(MANY, seconds(at)),
        ],
    }
    result = run_promtool(tmp_path, case, schedule)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
