"""`doctor` on the log panel (Loki test server) and through Grafana's datasource proxy (Grafana test server).

One healthy Prometheus serves the module; each Loki scenario replaces what the Loki test server
holds, so the log panel is the only one that changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import REPO
from tests.doctor.stack import BACKEND_STREAM, Doctor, Stack, live_stack, run_doctor, seed_logs
from tests.grafana_server.server import FakeGrafana
from tests.prometheus.collector_exporter import TENANTS

LOGS = "Recent error logs"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with live_stack(tmp_path_factory.mktemp("doctor-loki")) as running:
        yield running


@pytest.fixture
def loki(stack: Stack) -> Iterator[Stack]:
    """The stack with an empty Loki; each test puts in what its scenario needs."""
    with stack.loki.lock:
        stack.loki.entries.clear()
    yield stack
    with stack.loki.lock:
        stack.loki.entries.clear()
    seed_logs(stack.loki)


def _only_cause(doctor: Doctor) -> dict[str, str]:
    panel = doctor.panel(LOGS)
    assert len(panel["causes"]) == 1, panel
    return dict(panel["causes"][0])


def test_no_log_stream_at_all(loki: Stack) -> None:
    doctor = loki.doctor()
    assert doctor.code == 1 and doctor.panel(LOGS)["status"] == "empty"
    cause = _only_cause(doctor)
    assert cause["code"] == "loki-no-stream" and "no log stream at all" in cause["detail"]


def test_logs_under_another_service_name(loki: Stack) -> None:
    for tenant in TENANTS:  # an SDK without service.name: Loki files it under unknown_service
        loki.loki.push(
            {**BACKEND_STREAM, "service_name": "unknown_service"},
            "boom",
            {"severity_number": "17", "tenant_id": tenant},
        )
    cause = _only_cause(loki.doctor())
    assert cause["code"] == "loki-no-stream"
    assert 'service_name="tiktickets-backend"' in cause["detail"] and "unknown_service" in cause["detail"]


def test_the_selector_uses_a_label_loki_does_not_index(loki: Stack) -> None:
    stream = {"service_name": BACKEND_STREAM["service_name"]}  # service.namespace sent as a log attribute
    for tenant in TENANTS:
        loki.loki.push(
            stream, "boom", {"severity_number": "17", "tenant_id": tenant, "service_namespace": "tiktickets"}
        )
    cause = _only_cause(loki.doctor())
    assert cause["code"] == "loki-label-not-indexed"
    assert "`service_namespace`" in cause["detail"] and "indexed: service_name" in cause["detail"]


def test_the_severity_field_is_missing(loki: Stack) -> None:
    for tenant in TENANTS:
        loki.loki.push(BACKEND_STREAM, "boom", {"tenant_id": tenant})
    cause = _only_cause(loki.doctor())
    assert cause["code"] == "loki-field-missing" and "`severity_number`" in cause["detail"]


def test_lines_exist_but_none_at_the_panels_severity(loki: Stack) -> None:
    for tenant in TENANTS:
        loki.loki.push(BACKEND_STREAM, "ticket saved", {"severity_number": "9", "tenant_id": tenant})
    cause = _only_cause(loki.doctor())
    assert cause["code"] == "loki-no-lines" and "severity_number >= 17" in cause["detail"]


def test_error_lines_without_tenant_id_break_rule_4(loki: Stack) -> None:
    seed_logs(loki.loki)
    loki.loki.push(BACKEND_STREAM, "orphan", {"severity_number": "17"})
    doctor = loki.doctor()
    assert doctor.panel(LOGS)["status"] == "suspect"
    cause = _only_cause(doctor)
    assert (
        cause["code"] == "label-missing" and "rule 4" in cause["detail"] and 'tenant_id=""' in cause["query"]
    )


def test_a_tenant_with_no_error_lines_is_named(loki: Stack) -> None:
    for tenant in TENANTS[1:]:
        loki.loki.push(BACKEND_STREAM, "boom", {"severity_number": "17", "tenant_id": tenant})
    doctor = loki.doctor()
    assert doctor.panel(LOGS)["status"] == "suspect"  # All shows lines; the first tenant has none
    cause = _only_cause(doctor)
    assert cause["detail"].startswith(f"with $tenant = {sorted(TENANTS)[0]}: ")
    assert cause["code"] == "loki-no-lines"


def _grafana_with_the_stack(grafana: FakeGrafana, stack: Stack) -> dict[str, str]:
    grafana.provision_datasource(
        {"uid": "prometheus", "name": "Prometheus", "type": "prometheus", "url": stack.prometheus.url}
    )
    grafana.provision_datasource({"uid": "loki", "name": "Loki", "type": "loki", "url": stack.loki_url})
    # PROMETHEUS_URL and LOKI_URL point nowhere: only Grafana's proxy reaches the datasources.
    return {
        "GRAFANA_URL": grafana.url,
        "PROMETHEUS_URL": "http://127.0.0.1:9",
        "LOKI_URL": "http://127.0.0.1:9",
    }


def test_through_grafanas_datasource_proxy(stack: Stack) -> None:
    with FakeGrafana() as grafana:
        env = _grafana_with_the_stack(grafana, stack)
        doctor = run_doctor({**env, "GRAFANA_TOKEN": "glsa_viewer"}, "--via-grafana")
        proxied = {path for method, path, _ in grafana.state.requests if "/proxy/uid/" in path}
        methods = {method for method, _, _ in grafana.state.requests}
    assert doctor.code == 0, doctor.reports
    assert set(doctor.statuses().values()) == {"ok"}
    assert any(p.startswith("/api/datasources/proxy/uid/prometheus/api/v1/") for p in proxied)
    assert any(p.startswith("/api/datasources/proxy/uid/loki/loki/api/v1/") for p in proxied)
    assert methods == {"GET"}  # read-only


def test_through_grafana_with_a_refused_token_is_unauthorized_and_never_prints_it(stack: Stack) -> None:
    secret = "glsa_not-a-real-token-4711"
    with FakeGrafana() as grafana:
        env = _grafana_with_the_stack(grafana, stack)
        doctor = run_doctor({**env, "GRAFANA_TOKEN": secret}, "--via-grafana")
    assert doctor.code == 2
    assert {cause["code"] for report in doctor.reports for cause in report["causes"]} == {"unauthorized"}
    assert "refused the credentials (HTTP 401)" in doctor.stderr
    assert secret not in doctor.stderr and secret not in str(doctor.reports)


def test_through_grafana_without_credentials_is_a_usage_error(stack: Stack) -> None:
    with FakeGrafana() as grafana:
        env = _grafana_with_the_stack(grafana, stack)
        doctor_env = {**env, "GRAFANA_TOKEN": "", "GRAFANA_USER": "", "GRAFANA_PASSWORD": ""}
        completed = subprocess.run(
            [sys.executable, str(REPO / "build.py"), "doctor", "--via-grafana"],
            env={**os.environ, **doctor_env}, capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    assert completed.returncode == 2
    assert "no Grafana credentials" in completed.stderr and "Traceback" not in completed.stderr
