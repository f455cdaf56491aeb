"""The read-only slice of Prometheus' HTTP API that `doctor` asks.

Every answer is validated at this edge against the shape the API documents (the pydantic models
below); see prometheus.io/docs/prometheus/latest/querying/api/. Past this module nothing checks a
type again: a broken answer has already become a `bad-answer` SourceError naming the endpoint.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    TypeAdapter,
)

from dashboards_as_code.doctor.causes import CauseCode
from dashboards_as_code.doctor.http import Answer, Endpoint, SourceError, null_as_empty
from dashboards_as_code.grafana_math import parse_duration

DEFAULT_SCRAPE_INTERVAL = 60.0
"""Prometheus' own default when `global.scrape_interval` is not set."""


def _number(text: str) -> str:
    """Prometheus sends sample values as strings ("1.5", "NaN", "+Inf"): they must parse as floats."""
    float(text)  # ValueError -> a validation error naming the value
    return text


NumberText = Annotated[str, AfterValidator(_number)]
Timestamp = StrictFloat
"""Unix seconds: a JSON number (an integer too), never a string or a boolean."""
Labels = dict[str, str]
Point = tuple[Timestamp, NumberText]
"""[unix seconds, "value"]: one sample as the API writes it."""


class _Model(BaseModel):
    """Answers are read, never built: unknown fields are ignored, known ones must have their type."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class BuildInfo(_Model):
    version: str


class VectorSample(_Model):
    metric: Labels
    value: Point


class MatrixSeries(_Model):
    metric: Labels
    values: list[Point]


class VectorData(_Model):
    resultType: Literal["vector"]  # noqa: N815  (the API's name)
    result: list[VectorSample]


class MatrixData(_Model):
    resultType: Literal["matrix"]  # noqa: N815
    result: list[MatrixSeries]


class ScalarData(_Model):
    resultType: Literal["scalar"]  # noqa: N815
    result: Point


class StringData(_Model):
    resultType: Literal["string"]  # noqa: N815
    result: tuple[Timestamp, str]


QueryData = Annotated[VectorData | MatrixData | ScalarData | StringData, Field(discriminator="resultType")]


class Exemplar(_Model):
    labels: Labels
    value: NumberText
    timestamp: Timestamp


class ExemplarSeries(_Model):
    seriesLabels: Labels  # noqa: N815
    exemplars: list[Exemplar]


class Rule(_Model):
    type: str
    name: str
    query: str = ""
    labels: Labels | None = None
    health: str = "unknown"
    lastError: str = ""  # noqa: N815
    lastEvaluation: str = ""  # noqa: N815


class RuleGroup(_Model):
    name: str
    file: str = ""
    interval: float = 0.0
    """Seconds between two evaluations of the group."""
    rules: list[Rule]


class RulesData(_Model):
    groups: list[RuleGroup]


class Target(_Model):
    labels: Labels = {}
    scrapePool: str = ""  # noqa: N815
    scrapeUrl: str = ""  # noqa: N815
    health: str
    lastError: str = ""  # noqa: N815


class TargetsData(_Model):
    activeTargets: list[Target]  # noqa: N815


class ConfigData(_Model):
    yaml: str


BUILD_INFO = Answer(TypeAdapter(BuildInfo), "an object with version")
QUERY: Answer[VectorData | MatrixData | ScalarData | StringData] = Answer(
    TypeAdapter(QueryData), "an object with resultType and result"
)
NAMES = Answer(TypeAdapter(Annotated[list[str], BeforeValidator(null_as_empty)]), "a list of strings")
EXEMPLARS = Answer(
    TypeAdapter(Annotated[list[ExemplarSeries], BeforeValidator(null_as_empty)]),
    "a list of series with exemplars",
)
RULES = Answer(TypeAdapter(RulesData), "an object with groups")
TARGETS = Answer(TypeAdapter(TargetsData), "an object with activeTargets")
CONFIG = Answer(TypeAdapter(ConfigData), "an object with yaml")
FLAGS = Answer(TypeAdapter(dict[str, str]), "an object of flag names and string values")


@dataclass(frozen=True)
class Sample:
    """One series of an instant query and its value (a matrix series: its newest value)."""

    labels: Labels
    value: float


def samples(data: VectorData | MatrixData | ScalarData | StringData) -> list[Sample]:
    """Any query answer as samples: a scalar is one unlabelled sample, a string one with no value."""
    if isinstance(data, VectorData):
        return [Sample(s.metric, float(s.value[1])) for s in data.result]
    if isinstance(data, MatrixData):
        return [Sample(s.metric, float(s.values[-1][1])) for s in data.result if s.values]
    if isinstance(data, ScalarData):
        return [Sample({}, float(data.result[1]))]
    return [Sample({}, math.nan)]


def evaluated_at(last_evaluation: str) -> float | None:
    """`lastEvaluation` (RFC 3339) as Unix seconds, or None for a rule not evaluated yet.

    Prometheus writes Go's zero time (`0001-01-01T00:00:00Z`) for a rule it has not evaluated yet; a
    time that does not parse is treated the same way (nothing can be said of when the rule ran).
    """
    if not last_evaluation or last_evaluation.startswith("0001-01-01"):
        return None
    try:
        return datetime.fromisoformat(last_evaluation.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _down(target: Target) -> str:
    return f"{target.labels.get('job') or target.scrapePool} ({target.scrapeUrl}): {target.lastError}".strip()


@dataclass(frozen=True)
class RuleState:
    """One rule as Prometheus runs it (`/api/v1/rules`)."""

    record: str
    """The series a recording rule writes, or an alerting rule's alert name."""
    query: str
    labels: dict[str, str]
    group: str
    file: str
    health: str
    last_error: str
    evaluated: bool
    last_evaluation: float | None = None
    """Unix seconds of its last run (None before the first)."""
    interval: float = 0.0
    """Its group's evaluation interval, in seconds (0 when Prometheus does not say)."""
    kind: str = "recording"
    """"recording" or "alerting"."""


class PrometheusApi:
    """Answers are cached per instance: one `doctor` run asks each fact once, whatever the panel count."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.now = time.time()

    def probe(self) -> None:
        """SourceError unless this is a Prometheus API that answers with these credentials."""
        try:
            self.endpoint.get("/api/v1/status/buildinfo", BUILD_INFO)
        except SourceError as error:
            if error.code is not CauseCode.BAD_ANSWER:
                raise
            raise SourceError(
                self.endpoint.not_this_api(),
                f"{error.detail}: not a Prometheus API",
            ) from None

    def query(self, expr: str) -> list[Sample]:
        """The instant vector at `now` (a scalar comes back as one unlabelled sample)."""
        return samples(self.endpoint.get("/api/v1/query", QUERY, {"query": expr, "time": f"{self.now:.3f}"}))

    def count(self, selector: str) -> int:
        result = self.query(f"count({selector})")
        return int(result[0].value) if result and math.isfinite(result[0].value) else 0

    def newest_sample_age(self, selector: str, lookback: str, step: str) -> float | None:
        """Seconds since the newest sample of `selector` within `lookback`, or None when there is none."""
        result = self.query(f"max(max_over_time(timestamp({selector})[{lookback}:{step}]))")
        return self.now - result[0].value if result and math.isfinite(result[0].value) else None

    def first_sample_times(self, selector: str, lookback: str, step: str) -> list[Sample]:
        """Each series of `selector` that has a sample now, valued at the time (Unix seconds) of its first
        sample within `lookback`, to within one `step`. A subquery, so not every raw sample is fetched."""
        return self.query(f"min_over_time(timestamp({selector})[{lookback}:{step}]) and {selector}")

    def label_names(self, selector: str) -> list[str]:
        return self.endpoint.get("/api/v1/labels", NAMES, {"match[]": selector, **self._last_hour()})

    def label_values(self, label: str, selector: str | None = None, start: float | None = None) -> list[str]:
        params = {**self._last_hour(start)}
        if selector:
            params["match[]"] = selector
        values: list[str] = self.endpoint.get(f"/api/v1/label/{label}/values", NAMES, params)
        return sorted(values)

    def exemplar_count(self, expr: str, start: float) -> int:
        series = self.endpoint.get(
            "/api/v1/query_exemplars",
            EXEMPLARS,
            {"query": expr, "start": f"{start:.3f}", "end": f"{self.now:.3f}"},
        )
        return sum(len(one.exemplars) for one in series)

    def _last_hour(self, start: float | None = None) -> dict[str, str]:
        return {"start": f"{start if start is not None else self.now - 3600:.3f}", "end": f"{self.now:.3f}"}

    @cached_property
    def rules(self) -> list[RuleState]:
        """Every alerting and recording rule Prometheus has loaded, in its groups' order (one request)."""
        data = self.endpoint.get("/api/v1/rules", RULES)
        return [
            RuleState(
                record=rule.name,
                query=rule.query,
                labels=dict(rule.labels or {}),
                group=group.name,
                file=group.file,
                health=rule.health,
                last_error=rule.lastError,
                evaluated=(at := evaluated_at(rule.lastEvaluation)) is not None,
                last_evaluation=at,
                interval=group.interval,
                kind=rule.type,
            )
            for group in data.groups
            for rule in group.rules
        ]

    @property
    def recording_rules(self) -> dict[str, list[RuleState]]:
        """Recorded series -> each rule that writes it (a series and its `__all__` twin: two rules)."""
        rules: dict[str, list[RuleState]] = {}
        for state in self.rules:
            if state.kind == "recording":
                rules.setdefault(state.record, []).append(state)
        return rules

    def query_at(self, expr: str, at: float) -> list[Sample]:
        """The instant vector at `at` (Unix seconds): what a rule evaluated then saw."""
        return samples(self.endpoint.get("/api/v1/query", QUERY, {"query": expr, "time": f"{at:.3f}"}))

    def sample_times(self, selector: str, lookback: str) -> list[list[float]]:
        """The timestamps of each series' raw samples within `lookback` (a range-vector query, so each
        sample as stored, not one per step), oldest first."""
        data = self.endpoint.get(
            "/api/v1/query", QUERY, {"query": f"{selector}[{lookback}]", "time": f"{self.now:.3f}"}
        )
        if not isinstance(data, MatrixData):
            return []
        return [[point[0] for point in series.values] for series in data.result]

    @cached_property
    def scrape_interval(self) -> float:
        """`global.scrape_interval` from the loaded configuration: what Grafana's interval math builds on."""
        data = self.endpoint.get("/api/v1/status/config", CONFIG)
        try:
            document = yaml.safe_load(data.yaml) or {}
            return parse_duration(str(document.get("global", {}).get("scrape_interval", "1m")))
        except (yaml.YAMLError, ValueError, AttributeError, RecursionError):
            return DEFAULT_SCRAPE_INTERVAL

    @cached_property
    def exemplar_storage(self) -> bool:
        """Prometheus 2 and 3 keep exemplars only with `--enable-feature=exemplar-storage`."""
        flags = self.endpoint.get("/api/v1/status/flags", FLAGS)
        return "exemplar-storage" in flags.get("enable-feature", "")

    @cached_property
    def down_targets(self) -> list[str]:
        """`job (url): lastError` for every scrape target that failed its last scrape."""
        data = self.endpoint.get("/api/v1/targets", TARGETS, {"state": "active"})
        return [_down(target) for target in data.activeTargets if target.health == "down"]
