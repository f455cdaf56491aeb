"""Prometheus recording and alerting rules as typed objects, and the series the recording rules create.

Rules are built from the same query builders as the dashboards, so a recorded series carries the
labels and unit of the expression it records; the lint checks treat it like a contract signal, and
the dashboards read it through `dashboards_as_code.queries.select_recorded`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from dashboards_as_code.defaults import TENANT_LABEL
from dashboards_as_code.grafana_math import parse_duration
from dashboards_as_code.queries import PromQL

RECORD_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
LOOKBACK_DELTA = "5m"
"""Prometheus' `--query.lookback-delta` (its default, which the compose Prometheus keeps): an alert or a
panel reading a series sees its newest sample only while that sample is younger than this. Since
Prometheus 3 the window is open on the left: a sample exactly this old is already out of view."""


def _seconds_text(seconds: float) -> str:
    """150.0 -> `2m30s`: a duration as Prometheus writes it."""
    minutes, rest = divmod(round(seconds), 60)
    return (f"{minutes}m" if minutes else "") + (f"{rest}s" if rest or not minutes else "")


def interval_problem(interval: str) -> str | None:
    """Why a rule group must not run every `interval`, or None.

    Every group writes series that something reads at its own pace: the recorded series (alerts,
    panels, other rules) and, for alerts, ALERTS. A reader finds a sample only within the lookback,
    so a group must run at least twice per lookback: then one late or missed evaluation still leaves
    a sample in view. At exactly the lookback, an alert evaluated just before the group finds nothing
    and its `for` starts over at every turn (no ticket alert fired in 40 h at 4x the burn).
    """
    lookback = parse_duration(LOOKBACK_DELTA)
    if 2 * parse_duration(interval) < lookback:
        return None
    return (
        f"an interval of {interval} is too long: Prometheus reads a series' newest sample only while "
        f"it is younger than its {LOOKBACK_DELTA} lookback (a sample exactly {LOOKBACK_DELTA} old is out), "
        "so an alert or panel reading what this group writes finds nothing whenever one evaluation is late "
        "or missed, and an alert's `for` starts over. Run the group at least twice per lookback: "
        f"an interval below {_seconds_text(lookback / 2)}, e.g. 1m"
    )


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class RecordingRule(_Model):
    record: str
    expr: PromQL
    grafana_unit: str
    """The unit of the recorded value, for panels that read it (`reqps`, `short`...)."""
    histogram_unit: str | None = None
    """For recorded histogram buckets: the unit of a quantile computed from them (`s`)."""
    labels: dict[str, str] = {}

    @field_validator("record")
    @classmethod
    def _level_metric_operations(cls, name: str) -> str:
        if not RECORD_NAME.match(name) or name.count(":") < 2:
            raise ValueError(f"recording rule name {name!r} should read level:metric:operations")
        return name

    @property
    def series_labels(self) -> frozenset[str]:
        return self.expr.labels | frozenset(self.labels)

    @property
    def tenant_scoped(self) -> bool:
        return TENANT_LABEL in self.series_labels

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"record": self.record, "expr": self.expr.text}
        if self.labels:
            document["labels"] = dict(self.labels)
        return document


class AlertRule(_Model):
    alert: str
    expr: str
    duration: str = "0s"
    severity: str
    summary: str
    description: str
    """May use `{{ $value }}` and `{{ $labels.x }}` (Prometheus alert templating)."""
    runbook: str
    """Anchor of the runbook section in the README, e.g. `runbook-tiktickets-error-budget-burn`."""
    dashboard: str | None = None
    """uid of the dashboard the alert links to, with `dashboard_panel` (a panel title) opened."""
    dashboard_panel: str | None = None
    dashboard_variables: dict[str, str] = {}
    """Dashboard variables the link sets, e.g. `{"tenant": "{{ $labels.tenant_id }}"}`: a per-tenant
    alert opens its tenant's dashboard on that tenant (`var-tenant=...`), not on the first one."""
    labels: dict[str, str] = {}

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not DURATION.match(value):
            raise ValueError(f"not a Prometheus duration: {value!r}")
        return value


class RuleGroup(_Model):
    name: str
    interval: str
    """Chosen per group on purpose: see the group's definition for why. Below half of LOOKBACK_DELTA."""
    recording: tuple[RecordingRule, ...] = ()
    alerts: tuple[AlertRule, ...] = ()

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        if not DURATION.match(value):
            raise ValueError(f"not a Prometheus duration: {value!r}")
        problem = interval_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def recorded_series(groups: list[RuleGroup] | tuple[RuleGroup, ...]) -> dict[str, RecordingRule]:
    """Record name -> the first rule recording it (aggregate rows share the name and labels)."""
    found: dict[str, RecordingRule] = {}
    for group in groups:
        for rule in group.recording:
            found.setdefault(rule.record, rule)
    return found
