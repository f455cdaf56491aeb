"""The rules' promises at their edges, from the docstrings of prometheus_rules/: the per-tenant traffic
floor is "at least" its number of requests (the number itself counts), and the SLO windows are each
recorded once, every window up to SHORT_WINDOW_LIMIT (the limit itself included) in the group that
runs every SHORT_EVERY."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dashboards_as_code.grafana_math import parse_duration
from prometheus_rules import slo, tenant_slo
from tests.prometheus_rules.evaluation import SCHEDULES, Schedule
from tests.prometheus_rules.test_promtool_rules import expect, run_promtool

REQUESTS = tenant_slo.TENANT_REQUESTS.record
FLOOR = tenant_slo.TENANT_MIN_REQUESTS_PER_HOUR
WINDOWS: list[str] = sorted({w for b in slo.WINDOWS for w in (b.long, b.short)}, key=parse_duration)


def test_a_tenant_with_exactly_the_floor_of_requests_is_considered_and_one_fewer_is_not(
    tmp_path: Path,
) -> None:
    """README and tenant_slo: the alerts need "at least TENANT_MIN_REQUESTS_PER_HOUR requests in the
    hour". The hourly request rate is given directly (the recorded series), at the floor and just under."""
    case = {
        "interval": "15s",
        "input_series": [
            {"series": f'{REQUESTS}{{tenant_id="at-floor"}}', "values": f"{FLOOR / 3600!r}x40"},
            {"series": f'{REQUESTS}{{tenant_id="under"}}', "values": f"{(FLOOR - 1) / 3600!r}x40"},
        ],
        "promql_expr_test": [
            expect(
                f"count by (tenant_id) ({tenant_slo.above_floor(REQUESTS)})",
                ('{tenant_id="at-floor"}', 1),
                at="5m",
            )
        ],
    }
    schedule: Schedule = SCHEDULES[0]
    result = run_promtool(tmp_path, case, schedule)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_slo_window_is_recorded_once_per_sli() -> None:
    """Each window of WINDOWS (6 h is both a long and a short one) gets one rule per SLI: a duplicate
    record in one group is two rules writing one series."""
    records = [rule.record for group in (slo.SLO_SHORT_GROUP, slo.SLO_LONG_GROUP) for rule in group.recording]
    assert [record for record, times in Counter(records).items() if times > 1] == []
    windows = {window for w in slo.WINDOWS for window in (w.long, w.short)}
    for kind in ("errors", "slow"):
        assert {f"tiktickets:slo_{kind}:ratio_rate{window}" for window in windows} <= set(records)


@pytest.mark.parametrize("window", WINDOWS)
def test_a_window_up_to_the_limit_is_recorded_every_short_interval(window: str) -> None:
    """ "Windows up to this long are recorded every SHORT_EVERY, longer ones every LONG_EVERY": the page
    alerts' 1 h window is one of the short ones."""
    short = parse_duration(window) <= parse_duration(slo.SHORT_WINDOW_LIMIT)
    group = slo.SLO_SHORT_GROUP if short else slo.SLO_LONG_GROUP
    assert group.interval == (slo.SHORT_EVERY if short else slo.LONG_EVERY)
    assert f"tiktickets:slo_errors:ratio_rate{window}" in {rule.record for rule in group.recording}


@pytest.mark.parametrize(
    ("name", "what", "budget"),
    [
        ("TikTicketsTenantErrorBudgetBurn", "availability", "0.50%"),
        ("TikTicketsTenantLatencyBudgetBurn", "latency", "5.00%"),
    ],
)
def test_a_tenant_ticket_names_its_tenant_its_two_windows_and_its_budget(
    name: str, what: str, budget: str
) -> None:
    """README: a ticket "when that tenant burns its budget at the fast pace (14.4x over 1 h and over 5 m)":
    the long window is the share the value shows, the short one confirms it; the budget is the SLO's."""
    (rule,) = [alert for alert in tenant_slo.TENANT_SLO_GROUP.alerts if alert.alert == name]
    assert "{{ $labels.tenant_id }}" in rule.summary
    assert f"requests over the last 1h are {what} failures (the last 5m too)" in rule.description
    assert f"the SLO allows {budget} over 30 days" in rule.description
