"""The read-only slice of Prometheus' HTTP API that `doctor` asks.

See prometheus.io/docs/prometheus/latest/querying/api/.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml

from engine.doctor.http import Endpoint, SourceError
from engine.grafana_math import parse_duration

DEFAULT_SCRAPE_INTERVAL = 60.0
"""Prometheus' own default when `global.scrape_interval` is not set."""


@dataclass(frozen=True)
class RuleState:
    """One recording rule as Prometheus runs it (`/api/v1/rules`)."""

    record: str
    query: str
    labels: dict[str, str]
    group: str
    file: str
    health: str
    last_error: str
    evaluated: bool


class PrometheusApi:
    """Answers are cached per instance: one `doctor` run asks each fact once, whatever the panel count."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.now = time.time()

    def probe(self) -> None:
        """SourceError unless this is a Prometheus API that answers with these credentials."""
        info = self.endpoint.get("/api/v1/status/buildinfo")
        if not isinstance(info, dict) or "version" not in info:
            raise SourceError(self.endpoint.not_this_api(), f"{self.endpoint.shown} is not a Prometheus API")

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector at `now` (a scalar comes back as one unlabelled sample)."""
        data = self.endpoint.get("/api/v1/query", {"query": expr, "time": f"{self.now:.3f}"})
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def count(self, selector: str) -> int:
        result = self.query(f"count({selector})")
        return int(float(result[0]["value"][1])) if result else 0

    def newest_sample_age(self, selector: str, lookback: str, step: str) -> float | None:
        """Seconds since the newest sample of `selector` within `lookback`, or None when there is none."""
        result = self.query(f"max(max_over_time(timestamp({selector})[{lookback}:{step}]))")
        return self.now - float(result[0]["value"][1]) if result else None

    def label_names(self, selector: str) -> list[str]:
        return list(self.endpoint.get("/api/v1/labels", {"match[]": selector, **self._last_hour()}))

    def label_values(self, label: str, selector: str | None = None, start: float | None = None) -> list[str]:
        params = {**self._last_hour(start)}
        if selector:
            params["match[]"] = selector
        return sorted(self.endpoint.get(f"/api/v1/label/{label}/values", params))

    def exemplar_count(self, expr: str, start: float) -> int:
        data = self.endpoint.get(
            "/api/v1/query_exemplars", {"query": expr, "start": f"{start:.3f}", "end": f"{self.now:.3f}"}
        )
        return sum(len(series.get("exemplars", [])) for series in data or [])

    def _last_hour(self, start: float | None = None) -> dict[str, str]:
        return {"start": f"{start if start is not None else self.now - 3600:.3f}", "end": f"{self.now:.3f}"}

    @cached_property
    def recording_rules(self) -> dict[str, list[RuleState]]:
        data = self.endpoint.get("/api/v1/rules", {"type": "record"})
        rules: dict[str, list[RuleState]] = {}
        for group in data.get("groups", []):
            for rule in group.get("rules", []):
                if rule.get("type") != "recording":
                    continue
                last = str(rule.get("lastEvaluation", ""))
                rules.setdefault(rule["name"], []).append(
                    RuleState(
                        record=rule["name"],
                        query=str(rule.get("query", "")),
                        labels=dict(rule.get("labels") or {}),
                        group=str(group.get("name", "")),
                        file=str(group.get("file", "")),
                        health=str(rule.get("health", "unknown")),
                        last_error=str(rule.get("lastError", "")),
                        evaluated=bool(last) and not last.startswith("0001-01-01"),
                    )
                )
        return rules

    @cached_property
    def scrape_interval(self) -> float:
        """`global.scrape_interval` from the loaded configuration: what Grafana's interval math builds on."""
        data = self.endpoint.get("/api/v1/status/config")
        try:
            document = yaml.safe_load(data.get("yaml", "")) or {}
            return parse_duration(str(document.get("global", {}).get("scrape_interval", "1m")))
        except (yaml.YAMLError, ValueError, AttributeError):
            return DEFAULT_SCRAPE_INTERVAL

    @cached_property
    def exemplar_storage(self) -> bool:
        """Prometheus 2 and 3 keep exemplars only with `--enable-feature=exemplar-storage`."""
        flags = self.endpoint.get("/api/v1/status/flags") or {}
        return "exemplar-storage" in str(flags.get("enable-feature", ""))

    @cached_property
    def down_targets(self) -> list[str]:
        """`job (url): lastError` for every scrape target that failed its last scrape."""
        data = self.endpoint.get("/api/v1/targets", {"state": "active"})
        down = []
        for target in data.get("activeTargets", []):
            if target.get("health") == "down":
                job = target.get("labels", {}).get("job") or target.get("scrapePool", "")
                down.append(f"{job} ({target.get('scrapeUrl', '')}): {target.get('lastError', '')}".strip())
        return down
