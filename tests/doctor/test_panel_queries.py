"""The query `doctor` diagnoses for a panel, as Grafana would send it: a panel without a width is full
width (its `$__interval` from 1,600 points), and a hidden query is not sent at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from dashboards_as_code.doctor.causes import Cause, Status
from dashboards_as_code.doctor.http import Endpoint
from dashboards_as_code.doctor.run import DoctorRun, Reached, Selection

PROM = {"type": "prometheus", "uid": "prom"}


@dataclass
class FakeDoctor:
    diagnosed: list[str] = field(default_factory=list)

    def diagnose(self, expr: str, *, exemplar: bool) -> tuple[Status, list[Cause]]:
        self.diagnosed.append(expr)
        return Status.OK, []


def _sent(monkeypatch: pytest.MonkeyPatch, panel: dict[str, Any]) -> list[str]:
    doctor = FakeDoctor()
    run = DoctorRun(documents=None, endpoint_for=lambda kind, uid: Endpoint("http://p", kind, 5))  # type: ignore[arg-type]
    api = SimpleNamespace(scrape_interval=15.0)
    run.reached[("prometheus", "prom")] = Reached(Endpoint("http://p", "prometheus", 5), None, api, True)  # type: ignore[arg-type]
    run.selections["d"] = [Selection(True, "", {}, ())]
    monkeypatch.setattr(DoctorRun, "_prometheus_doctor", lambda self, api, range_s: doctor)
    board = SimpleNamespace(uid="d", document={"time": {"from": "now-6h", "to": "now"}})
    run._panel(board, {"title": "p", "datasource": PROM, **panel})  # type: ignore[arg-type]
    return doctor.diagnosed


def test_a_panel_without_a_width_is_sized_as_a_full_width_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """6 h over 1,600 points is 13.5 s, 15 s rounded; over 800 points (half width) it would be 30 s."""
    target = {"expr": "rate(x[$__interval])"}
    assert _sent(monkeypatch, {"targets": [target]}) == ["rate(x[15s])"]
    half = {"targets": [target], "gridPos": {"w": 12, "h": 8}}
    assert _sent(monkeypatch, half) == ["rate(x[30s])"]


def test_a_hidden_query_is_not_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    targets = [{"expr": "a", "hide": True}, {"expr": "b"}, {"expr": "c", "hide": False}]
    assert _sent(monkeypatch, {"targets": targets}) == ["b", "c"]


def test_a_loki_query_has_no_scrape_interval_to_floor_its_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loki is not scraped: its interval floor is 1 s, not Prometheus' scrape interval. At 1 h on a
    full-width panel `$__interval` is 2 s (3,600 s over 1,600 points, rounded), `$__rate_interval` 4 s."""
    sent: list[str] = []

    class FakeLokiDoctor:
        def __init__(self, api: object, range_label: str) -> None:
            pass

        def diagnose(self, expr: str) -> tuple[Status, list[Cause]]:
            sent.append(expr)
            return Status.OK, []

    monkeypatch.setattr("dashboards_as_code.doctor.run.LokiDoctor", FakeLokiDoctor)
    run = DoctorRun(documents=None, endpoint_for=lambda kind, uid: Endpoint("http://l", kind, 5))  # type: ignore[arg-type]
    run.reached[("loki", "logs")] = Reached(Endpoint("http://l", "loki", 5), None, None, True)
    run.selections["d"] = [Selection(True, "", {}, ())]
    board = SimpleNamespace(uid="d", document={"time": {"from": "now-1h", "to": "now"}})
    target = {"expr": 'count_over_time({a="b"}[$__interval]) / count_over_time({a="b"}[$__rate_interval])'}
    run._panel(board, {"title": "p", "datasource": {"type": "loki", "uid": "logs"}, "targets": [target]})  # type: ignore[arg-type]
    assert sent == ['count_over_time({a="b"}[2s]) / count_over_time({a="b"}[4s])']
