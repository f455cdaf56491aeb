"""SLOs for TikTickets' server requests, and multi-window, multi-burn-rate alerts on them.

Targets live here and nowhere else. The alert windows and burn rates are the Google SRE workbook's
(chapter "Alerting on SLOs"): page when 2 % of a 30-day budget burns in 1 h or 5 % in 6 h, open a
ticket when 10 % burns in 3 days; each long window is paired with a short one (1/12 of it) so an
alert resets soon after the burning stops.
"""

from dataclasses import dataclass

from config import OVERVIEW_UID
from dashboards_as_code.define import AlertRule, RecordingRule, RuleGroup, parse_duration
from dashboards_as_code.define import queries as q
from telemetry.contract import (
    LATENCY_THRESHOLD_SECONDS,
    SERVER_SPANS_ONLY,
    SPAN_CALLS,
    SPAN_DURATION,
    STATUS_CODE_ERROR,
)

SLO_PERIOD = "30d"
"""The period every SLO's budget is counted over: Prometheus must keep at least this much data
(monitoring/docker-compose.observability.yml, `--storage.tsdb.retention.time`)."""
AVAILABILITY_TARGET = 0.995
"""Share of server requests that must not fail (status ERROR), over 30 days."""
LATENCY_TARGET = 0.95
"""Share of server requests that must finish within LATENCY_THRESHOLD_SECONDS, over 30 days."""
# LATENCY_THRESHOLD_SECONDS (imported): the contract's, where the Collector's per-tenant cut is defined too.


def error_budget(target: float) -> float:
    """The share of requests an SLO of `target` may spend on bad ones (rounded: 1 - 0.995 is not 0.005
    in floating point, and the budget is printed in rules and dashboards)."""
    return round(1 - target, 6)


AVAILABILITY_BUDGET = error_budget(AVAILABILITY_TARGET)
LATENCY_BUDGET = error_budget(LATENCY_TARGET)
SLO_LABEL = "slo"
"""Every SLO alert names its SLO in this label (`availability`, `latency`): Alertmanager groups by it
and lets a page silence the ticket of the same SLO (prometheus_rules/routing.py)."""
SLO_NAMES = {"errors": "availability", "slow": "latency"}


@dataclass(frozen=True)
class BurnWindow:
    long: str
    short: str
    burn_rate: float
    severity: str


WINDOWS = (
    BurnWindow("1h", "5m", 14.4, "page"),
    BurnWindow("6h", "30m", 6.0, "page"),
    BurnWindow("3d", "6h", 1.0, "ticket"),
)

SHORT_WINDOW_LIMIT = "1h"
"""Windows up to this long are recorded every SHORT_EVERY, longer ones every LONG_EVERY."""
SHORT_EVERY = "30s"
"""The page alerts read the short windows: recomputed every 30 s, a fast burn pages within minutes."""
LONG_EVERY = "1m"
"""Windows of hours change slowly, but the alerts that read them must find a sample at every evaluation.
Prometheus sees a recorded sample only while it is younger than its 5 m lookback (since Prometheus 3, a
sample exactly 5 m old is out). At the former 5 m, the ticket alerts found nothing whenever they ran just
before this group, and their 15 m `for` started over: at 4x the allowed burn they never fired in 40 h
(promtool 3.14). Once a minute, as often as the alerts run, a sample stays in view through three late or
missed evaluations in a row; RuleGroup refuses an interval of half the lookback or more. A 3 d rate reads
17,280 samples per series (15 s scrapes): once a minute, over the few hundred server-span series of one
service, that is cheap."""


def error_ratio(window: str) -> q.PromQL:
    errors = q.sum_by(
        q.rate(q.select(SPAN_CALLS, SERVER_SPANS_ONLY, q.eq("status_code", STATUS_CODE_ERROR)), window)
    )
    return q.ratio(errors, q.sum_by(q.rate(q.select(SPAN_CALLS, SERVER_SPANS_ONLY), window)))


def slow_ratio(window: str) -> q.PromQL:
    fast = q.sum_by(
        q.rate(
            q.select(SPAN_DURATION, SERVER_SPANS_ONLY, q.eq("le", LATENCY_THRESHOLD_SECONDS), part="bucket"),
            window,
        )
    )
    total = q.sum_by(q.rate(q.select(SPAN_DURATION, SERVER_SPANS_ONLY, part="count"), window))
    return q.PromQL(f"1 - (\n{fast.text}\n/\n{total.text}\n)", fast.signals + total.signals)


def _recorded(kind: str, window: str) -> RecordingRule:
    build = error_ratio if kind == "errors" else slow_ratio
    return RecordingRule(
        record=f"tiktickets:slo_{kind}:ratio_rate{window}", expr=build(window), grafana_unit="percentunit"
    )


def _windows(short: bool) -> list[str]:
    """Every window of WINDOWS (short and long) up to SHORT_WINDOW_LIMIT, or every longer one; each once."""
    limit = parse_duration(SHORT_WINDOW_LIMIT)
    found = []
    for w in WINDOWS:
        for window in (w.short, w.long):
            if (parse_duration(window) <= limit) == short and window not in found:
                found.append(window)
    return found


SHORT_WINDOWS = _windows(short=True)
LONG_WINDOWS = _windows(short=False)


def _burn_alert(kind: str, budget: float, name: str, what: str, panel: str) -> list[AlertRule]:
    alerts = []
    for severity in ("page", "ticket"):
        pace = "fast" if severity == "page" else "steadily"
        pairs = [w for w in WINDOWS if w.severity == severity]
        condition = "\nor\n".join(
            f"(tiktickets:slo_{kind}:ratio_rate{w.long} > ({w.burn_rate} * {budget})"
            f" and tiktickets:slo_{kind}:ratio_rate{w.short} > ({w.burn_rate} * {budget}))"
            for w in pairs
        )
        alerts.append(
            AlertRule(
                alert=f"{name}{'' if severity == 'page' else 'Slow'}",
                expr=condition,
                duration="2m" if severity == "page" else "15m",
                severity=severity,
                summary=f"TikTickets is burning its {what} error budget {pace}",
                description=(
                    f"{{{{ $value | humanizePercentage }}}} of server requests are {what} failures; "
                    f"the SLO allows {budget:.2%} over 30 days. "
                    + (
                        "At this pace the whole budget is gone within days: act now."
                        if severity == "page"
                        else "At this pace the budget will not last the 30 days."
                    )
                ),
                runbook=f"runbook-{name.lower()}",
                dashboard=OVERVIEW_UID,
                dashboard_panel=panel,
                labels={SLO_LABEL: SLO_NAMES[kind]},
            )
        )
    return alerts


SLO_SHORT_GROUP = RuleGroup(
    name="tiktickets-slo-short-windows",
    interval=SHORT_EVERY,
    recording=tuple(_recorded(kind, w) for kind in ("errors", "slow") for w in SHORT_WINDOWS),
)

SLO_LONG_GROUP = RuleGroup(
    name="tiktickets-slo-long-windows",
    interval=LONG_EVERY,
    recording=tuple(_recorded(kind, w) for kind in ("errors", "slow") for w in LONG_WINDOWS),
)

BURN_RATE_ALERTS = [
    *_burn_alert(
        "errors", AVAILABILITY_BUDGET, "TikTicketsErrorBudgetBurn", "availability", "Error rate over time"
    ),
    *_burn_alert("slow", LATENCY_BUDGET, "TikTicketsLatencyBudgetBurn", "latency", "Latency P50 / P95 / P99"),
]
