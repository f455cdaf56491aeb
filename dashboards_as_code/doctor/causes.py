"""What `doctor` reports: a status per panel and the named causes behind it.

Cause codes are part of the `--json` output and so are stable: scripts and alerts may match on them.
Add one here (with its meaning) before any diagnosis uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    SUSPECT = "suspect"
    """Shows data, but breaks the contract (a series without tenant_id) or misses part of what it
    promises (exemplars)."""
    EMPTY = "empty"
    ERROR = "error"
    """The query failed, or its datasource could not be asked."""


SEVERITY = {status: rank for rank, status in enumerate(Status)}
"""Worse is later in `Status`: a panel keeps the worst status any of its queries got."""


class CauseCode(StrEnum):
    SERIES_MISSING = "series-missing"
    """The series was never seen: nothing emits it, or the pipeline drops it before Prometheus."""
    LABEL_MISMATCH = "label-mismatch"
    """The series exists, but no value of one of the query's labels matches."""
    LABEL_MISSING = "label-missing"
    """A label the query or the contract needs is absent from the series (tenant_id: rule 4)."""
    RULE_NOT_LOADED = "rule-not-loaded"
    RULE_UNHEALTHY = "rule-unhealthy"
    RULE_NOT_EVALUATED = "rule-not-evaluated"
    RULE_WARMING_UP = "rule-warming-up"
    """The rule is healthy, but its last run came before the data it reads arrived (right after the
    stack starts): its series appears at the next run, whose time the detail gives."""
    STALE = "stale"
    """The series existed, but its newest sample is older than several scrape intervals."""
    SPARSE_SAMPLES = "sparse-samples"
    """The series exists, but its samples arrive further apart than a third of the window of the
    rate() over it, so the window does not always hold the two samples rate() needs (an OTel SDK at
    its 60 s default export interval under a 1m `$__rate_interval`)."""
    CARDINALITY_OVERFLOW = "cardinality-overflow"
    """A tenant's selection is empty while the metric has data and an `otel_metric_overflow="true"`
    series: its emitter reached its cardinality limit and folded that tenant into the overflow."""
    EXEMPLARS_MISSING = "exemplars-missing"
    UNIT_MISMATCH = "unit-mismatch"
    NO_MATCH = "no-match"
    """Every series the query reads exists, but the expression as a whole (a join, a filter) is empty."""
    QUERY_ERROR = "query-error"
    BAD_ANSWER = "bad-answer"
    """The datasource answered, but not in the shape its API documents (`data` null, a label that is
    not a string, a sample value that is not a number): a broken proxy, an incompatible version."""
    UNREACHABLE = "unreachable"
    UNAUTHORIZED = "unauthorized"
    NOT_PROMETHEUS = "not-prometheus"
    NOT_LOKI = "not-loki"
    LOKI_NO_STREAM = "loki-no-stream"
    LOKI_LABEL_NOT_INDEXED = "loki-label-not-indexed"
    """The stream selector uses a label Loki does not index for OTLP logs (it is structured metadata)."""
    LOKI_FIELD_MISSING = "loki-field-missing"
    LOKI_NO_LINES = "loki-no-lines"


@dataclass(frozen=True)
class Cause:
    code: CauseCode
    detail: str
    """Names the series, label, rule or URL concerned."""
    query: str = ""
    """One query to paste into Explore to see the evidence."""
    selection: tuple[tuple[str, str], ...] = ()
    """(variable, value) of each dashboard variable when the panel came back empty: which selection
    was empty (`tenant` = `__all__` for All, or one tenant). Empty for causes that do not depend on it
    (a datasource that is down)."""

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code.value,
            "detail": self.detail,
            "query": self.query,
            "selection": dict(self.selection),
        }


@dataclass
class PanelReport:
    dashboard: str
    panel: str
    status: Status = Status.OK
    causes: list[Cause] = field(default_factory=list)

    def add(self, status: Status, causes: list[Cause]) -> None:
        """Keep the worst status seen; each cause once, in the order found."""
        if SEVERITY[status] > SEVERITY[self.status]:
            self.status = status
        for cause in causes:
            if cause not in self.causes:
                self.causes.append(cause)

    def as_json(self) -> dict[str, object]:
        return {
            "dashboard": self.dashboard,
            "panel": self.panel,
            "status": self.status.value,
            "causes": [cause.as_json() for cause in self.causes],
        }


class RuleHealth(StrEnum):
    """A rule's `health` in Prometheus' /api/v1/rules."""

    OK = "ok"
    ERR = "err"
    """Its last evaluation failed (`lastError` says why): an alert in err never fires."""
    UNKNOWN = "unknown"
    """Not evaluated yet: its group's first slot has not come (normal for one interval after a start)."""


@dataclass(frozen=True)
class RuleReport:
    """One alerting or recording rule whose health is not ok, as Prometheus runs it."""

    datasource: str
    """The Prometheus datasource's uid."""
    kind: str
    """"alerting" or "recording"."""
    name: str
    """The alert's name, or the series the rule records."""
    group: str
    file: str
    health: str
    last_error: str
    interval_s: float
    """Its group's evaluation interval, in seconds."""

    @property
    def failing(self) -> bool:
        """In err: the only health that fails a `doctor` run (unknown is a rule that has not run yet)."""
        return self.health == RuleHealth.ERR.value

    def as_json(self) -> dict[str, object]:
        return {
            "datasource": self.datasource,
            "type": self.kind,
            "name": self.name,
            "group": self.group,
            "file": self.file,
            "health": self.health,
            "last_error": self.last_error,
            "interval_seconds": self.interval_s,
        }


@dataclass(frozen=True)
class Skipped:
    """A datasource left out on purpose (its URL setting is empty): its panels are not checked."""

    kind: str
    """"prometheus" or "loki"."""
    reason: str
    """Which setting left it out, e.g. "LOKI_URL is empty"."""
    panels: tuple[str, ...]
    """"dashboard / panel" of each panel that has a query on it."""

    def as_json(self) -> dict[str, object]:
        return {"datasource": self.kind, "reason": self.reason, "panels": list(self.panels)}
