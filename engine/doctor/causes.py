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
    STALE = "stale"
    """The series existed, but its newest sample is older than several scrape intervals."""
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

    def as_json(self) -> dict[str, str]:
        return {"code": self.code.value, "detail": self.detail, "query": self.query}


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
