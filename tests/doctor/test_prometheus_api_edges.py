"""What `doctor` asks Prometheus' API and how it reads the answers, against a fake endpoint that
validates each canned `data` member with the real answer models: the scrape interval's default, the
window of label look-ups, sorted values, the Go zero time, a target named by its job."""

from __future__ import annotations

from typing import Any, TypeVar

from dashboards_as_code.doctor.http import Answer
from dashboards_as_code.doctor.prometheus_api import DEFAULT_SCRAPE_INTERVAL, PrometheusApi, evaluated_at

T = TypeVar("T")
NOW = 1_800_000_000.0


class FakeEndpoint:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, dict[str, str]]] = []

    def get(self, path: str, answer: Answer[T], params: dict[str, str] | None = None) -> T:
        self.asked.append((path, dict(params or {})))
        return answer.model.validate_python(self.answers[path])


def _api(answers: dict[str, Any]) -> tuple[PrometheusApi, FakeEndpoint]:
    endpoint = FakeEndpoint(answers)
    api = PrometheusApi(endpoint)  # type: ignore[arg-type]
    api.now = NOW
    return api, endpoint


def test_a_configuration_without_a_scrape_interval_gets_prometheus_default() -> None:
    api, _ = _api({"/api/v1/status/config": {"yaml": "global:\n  evaluation_interval: 15s\n"}})
    assert api.scrape_interval == DEFAULT_SCRAPE_INTERVAL == 60.0


def test_a_scrape_interval_in_milliseconds_is_read() -> None:
    api, _ = _api({"/api/v1/status/config": {"yaml": "global:\n  scrape_interval: 500ms\n"}})
    assert api.scrape_interval == 0.5


def test_label_values_are_sorted_and_asked_over_the_last_hour_without_a_start() -> None:
    api, endpoint = _api({"/api/v1/label/tenant_id/values": ["globex", "acme", "initech"]})
    assert api.label_values("tenant_id") == ["acme", "globex", "initech"]
    assert endpoint.asked == [
        ("/api/v1/label/tenant_id/values", {"start": f"{NOW - 3600:.3f}", "end": f"{NOW:.3f}"})
    ]


def test_label_values_of_a_selector_are_matched_from_the_start_given() -> None:
    api, endpoint = _api({"/api/v1/label/tenant_id/values": []})
    api.label_values("tenant_id", "up", start=NOW - 86400)
    assert endpoint.asked[0][1] == {"start": f"{NOW - 86400:.3f}", "end": f"{NOW:.3f}", "match[]": "up"}


def test_a_count_of_nan_is_zero_series() -> None:
    answer = {"resultType": "vector", "result": [{"metric": {}, "value": [NOW, "NaN"]}]}
    api, _ = _api({"/api/v1/query": answer})
    assert api.count("x") == 0


def test_a_rule_never_evaluated_has_no_evaluation_time() -> None:
    assert evaluated_at("0001-01-01T00:00:00Z") is None
    assert evaluated_at("") is None
    assert evaluated_at("2027-01-15T08:00:00Z") == NOW


def test_a_down_target_is_named_by_its_job_and_only_active_targets_are_asked() -> None:
    targets = {
        "activeTargets": [
            {"labels": {"job": "tickets"}, "scrapePool": "pool", "scrapeUrl": "http://t:9464/metrics",
             "health": "down", "lastError": "connection refused"},
            {"labels": {}, "scrapePool": "collector", "scrapeUrl": "http://c:8888/metrics", "health": "down",
             "lastError": "timeout"},
            {"labels": {"job": "up"}, "health": "up"},
            {"labels": {"job": "new"}, "health": "unknown"},
        ]
    }  # fmt: skip
    api, endpoint = _api({"/api/v1/targets": targets})
    assert api.down_targets == [
        "tickets (http://t:9464/metrics): connection refused",
        "collector (http://c:8888/metrics): timeout",
    ]
    assert endpoint.asked == [("/api/v1/targets", {"state": "active"})]


def test_only_recording_rules_are_recorded_series() -> None:
    rule = {"query": "x", "health": "ok", "lastError": "", "lastEvaluation": "0001-01-01T00:00:00Z"}
    groups = {
        "groups": [
            {"name": "g", "file": "r.yml", "interval": 30, "rules": [
                {**rule, "name": "job:x:rate1m", "type": "recording"},
                {**rule, "name": "XHigh", "type": "alerting"},
            ]}
        ]
    }  # fmt: skip
    api, _ = _api({"/api/v1/rules": groups})
    assert list(api.recording_rules) == ["job:x:rate1m"]
    assert [state.interval for state in api.rules] == [30, 30]
