"""`doctor` against the real Prometheus: one broken thing per scenario, and the cause it must name.

Each scenario starts its own Prometheus (1 s scrapes and rule evaluations) scraping the Collector
stand-in, changes one thing, and runs `build.py doctor --json`. The assertions name the panel the
cause concerns and the evidence the detail must carry, so a diagnosis that drifts fails here.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from dashboards_as_code.definitions.loader import load_project
from tests.conftest import REPO
from tests.doctor.stack import Doctor, all_value, live_stack, panels_by_kind
from tests.prometheus.collector_exporter import CollectorExporter
from tests.prometheus.server import SCRAPE_INTERVAL_S

RECORDED_PANELS = (
    "Request rate per route",
    "Error rate",
    "Error rate over time",
    "Latency P50 / P95 / P99",
    "Active WhatsApp sessions",
    "Active WhatsApp sessions over time",
    "Socket.io connections per tenant",
)
SESSIONS_ALL = "tenant_id:tiktickets_whatsapp_sessions_active:sum"


def _group_of(record: str) -> str:
    """The rule group that records `record` as the project loads (it may be derived from a query)."""
    groups = load_project(REPO).rule_groups
    return next(g.name for g in groups if any(rule.record == record for rule in g.recording))


def _details(doctor: Doctor, panel: str, code: str) -> list[str]:
    return [c["detail"] for c in doctor.panel(panel)["causes"] if c["code"] == code]


def test_a_healthy_stack_is_all_ok_and_exits_0(tmp_path: Path) -> None:
    with live_stack(tmp_path) as stack:
        doctor = stack.doctor()
    assert doctor.code == 0, doctor.reports
    assert set(doctor.statuses().values()) == {"ok"}
    checked = sorted(f"{r['dashboard']} / {r['panel']}" for r in doctor.reports)
    assert checked == sorted({name for names in panels_by_kind().values() for name in names})  # every panel
    assert all(report["causes"] == [] for report in doctor.reports)


def test_rules_file_not_loaded(tmp_path: Path) -> None:
    with live_stack(tmp_path, rules=False) as stack:
        doctor = stack.doctor()
    assert doctor.code == 1
    for panel in RECORDED_PANELS:
        assert doctor.panel(panel)["status"] == "empty", panel
        assert "rule-not-loaded" in doctor.codes(panel), (panel, doctor.panel(panel))
        # Empty at All: each cause says so (the dashboard's only variable, at its All value).
        assert {str(c["selection"]) for c in doctor.panel(panel)["causes"]} == {str({"tenant": all_value()})}
    [detail, *_] = _details(doctor, "Active WhatsApp sessions", "rule-not-loaded")
    assert f"`{SESSIONS_ALL}`" in detail and "monitoring/prometheus/rules/tiktickets.yml" in detail
    assert doctor.panel("Recent error logs")["status"] == "ok"


def _break_the_all_sessions_rule(document: dict[str, Any]) -> None:
    """A runtime error: a one-to-one join whose right side has many series."""
    for group in document["groups"]:
        for rule in group["rules"]:
            if rule.get("record") == SESSIONS_ALL and rule.get("labels"):
                rule["expr"] = (
                    "sum(tiktickets_whatsapp_sessions_active) * on () tiktickets_whatsapp_sessions_active"
                )


def test_a_rule_that_fails_to_evaluate(tmp_path: Path) -> None:
    with live_stack(tmp_path, change_rules=_break_the_all_sessions_rule) as stack:
        doctor = stack.doctor()
    assert doctor.code == 1
    for panel in ("Active WhatsApp sessions", "Active WhatsApp sessions over time"):
        assert doctor.panel(panel)["status"] == "empty"
        [detail] = _details(doctor, panel, "rule-unhealthy")
        assert SESSIONS_ALL in detail and f"group '{_group_of(SESSIONS_ALL)}'" in detail
        assert "duplicate series" in detail
    assert doctor.panel("Request rate per route")["status"] == "ok"


def test_tenant_id_dropped_by_relabelling_on_one_metric(tmp_path: Path) -> None:
    drop_tenant = {
        "metric_relabel_configs": [
            {
                "source_labels": ["__name__"],
                "regex": "tiktickets_socketio_connections",
                "target_label": "tenant_id",
                "replacement": "",
            }
        ]
    }
    with live_stack(tmp_path, scrape=drop_tenant) as stack:
        doctor = stack.doctor()
    assert doctor.code == 1
    panel = doctor.panel("Socket.io connections per tenant")
    assert panel["status"] == "suspect"  # All still draws a bar, for the unlabelled series
    [cause] = [c for c in panel["causes"] if c["code"] == "label-missing"]
    assert "tiktickets_socketio_connections" in cause["detail"] and "rule 4" in cause["detail"]
    assert 'tenant_id=""' in cause["query"]
    assert doctor.panel("Active WhatsApp sessions")["status"] == "ok"


def test_job_renamed_because_honor_labels_is_lost(tmp_path: Path) -> None:
    with live_stack(tmp_path, scrape={"honor_labels": False}) as stack:
        doctor = stack.doctor()
    assert doctor.code == 1
    for panel in ("Active WhatsApp sessions", "Socket.io connections per tenant"):
        assert doctor.panel(panel)["status"] == "empty", panel
        [detail, *_] = _details(doctor, panel, "label-mismatch")
        assert "`exported_job`" in detail and "honor_labels: true" in detail
    assert doctor.panel("Request rate per route")["status"] == "ok"  # spanmetrics select on service_name


def test_exemplar_storage_off(tmp_path: Path) -> None:
    with live_stack(tmp_path, exemplar_storage=False) as stack:
        doctor = stack.doctor()
    assert doctor.code == 1
    panel = doctor.panel("Latency P50 / P95 / P99")
    assert panel["status"] == "suspect"
    [detail] = _details(doctor, "Latency P50 / P95 / P99", "exemplars-missing")
    assert "--enable-feature=exemplar-storage" in detail
    assert {p: s for p, s in doctor.statuses().items() if s != "ok"} == {panel["panel"]: "suspect"}


class NoExemplarExporter(CollectorExporter):
    """An exporter that sends no exemplar: a Collector whose prometheus exporter lacks
    `enable_open_metrics`, while Prometheus itself stores exemplars."""

    def _exemplar(self, value: float) -> str:
        return ""


def test_exemplar_storage_on_but_no_exemplar_arrives(tmp_path: Path) -> None:
    """With `--enable-feature=exemplar-storage` set, the flag is not the cause: doctor must point at
    the emitter (OpenMetrics / `enable_open_metrics`), not tell the user to set a flag they have."""
    with live_stack(tmp_path, exporter=NoExemplarExporter()) as stack:
        doctor = stack.doctor()
    panel = doctor.panel("Latency P50 / P95 / P99")
    assert panel["status"] == "suspect"
    [detail] = _details(doctor, "Latency P50 / P95 / P99", "exemplars-missing")
    assert "enable_open_metrics" in detail and "OpenMetrics" in detail
    assert "--enable-feature=exemplar-storage" not in detail


def test_an_emitter_that_stopped_is_stale(tmp_path: Path) -> None:
    with live_stack(tmp_path) as stack:
        stopped = time.time()
        stack.exporter_server.shutdown()
        stack.exporter_server.server_close()
        stack.prometheus.wait_for('count(up{job="otel-collector"} == 0)', 1)
        deadline = time.monotonic() + 30
        gone = "tiktickets_whatsapp_sessions_active or tiktickets_socketio_connections or " + " or ".join(
            f"tenant_id:{name}:sum"
            for name in ("tiktickets_whatsapp_sessions_active", "tiktickets_socketio_connections")
        )
        while stack.prometheus.query(
            gone
        ):  # the failed scrape, then the next rule run, write staleness markers
            assert time.monotonic() < deadline, stack.prometheus.query(gone)
            time.sleep(0.2)
        doctor = stack.doctor()
        asked = time.time()
    assert doctor.code == 1
    for panel in ("Active WhatsApp sessions", "Socket.io connections per tenant"):
        assert doctor.panel(panel)["status"] == "empty", panel
        assert _details(doctor, panel, "stale"), doctor.panel(panel)
        [detail, *_] = _details(doctor, panel, "stale")
        assert "newest sample of `tiktickets_" in detail and "scrape target down" in detail
        # The age it states: from the last scrape before the stop to doctor's question, no more, never
        # negative (a scrape interval, and a second of rounding, of slack on the older side).
        age = re.search(r" is (?:(\d+) min )?(\d+) s old", detail)
        assert age, detail
        seconds = 60 * int(age.group(1) or 0) + int(age.group(2))
        assert 0 <= seconds <= asked - stopped + 2 * SCRAPE_INTERVAL_S + 1, detail


def test_a_histogram_in_milliseconds_instead_of_seconds(tmp_path: Path) -> None:
    with live_stack(tmp_path, exporter=CollectorExporter(duration_unit="milliseconds")) as stack:
        doctor = stack.doctor()
    assert doctor.code == 1
    panel = doctor.panel("Latency P50 / P95 / P99")
    assert panel["status"] == "empty"
    [detail, *_] = _details(doctor, "Latency P50 / P95 / P99", "unit-mismatch")
    assert "`traces_span_metrics_duration_seconds_bucket`" in detail
    assert "`traces_span_metrics_duration_milliseconds_bucket` exists" in detail
    assert doctor.panel("Request rate per route")["status"] == "ok"
