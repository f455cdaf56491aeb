"""Prometheus recording and alerting rules as typed objects, and the series the recording rules create.

Rules are built from the same query builders as the dashboards, so a recorded series carries the
labels and unit of the expression it records; the lint checks treat it like a contract signal, and
the dashboards read it through `engine.queries.select_recorded`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from engine.defaults import TENANT_LABEL
from engine.queries import PromQL

RECORD_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


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
    """Chosen per group on purpose: see the group's definition for why."""
    recording: tuple[RecordingRule, ...] = ()
    alerts: tuple[AlertRule, ...] = ()

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        if not DURATION.match(value):
            raise ValueError(f"not a Prometheus duration: {value!r}")
        return value


def recorded_series(groups: list[RuleGroup] | tuple[RuleGroup, ...]) -> dict[str, RecordingRule]:
    """Record name -> the first rule recording it (aggregate rows share the name and labels)."""
    found: dict[str, RecordingRule] = {}
    for group in groups:
        for rule in group.recording:
            found.setdefault(rule.record, rule)
    return found
