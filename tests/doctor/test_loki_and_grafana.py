"""`doctor` on the log panel (Loki test server), through Grafana's datasource proxy (Grafana test
server), and with a datasource left out (`LOKI_URL=`).

One healthy Prometheus serves the module; each Loki scenario replaces what the Loki test server
holds, so the log panel is the only one that changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import REPO
from tests.doctor.stack import (
    BACKEND_STREAM,
    Doctor,
    Stack,
    all_value,
    live_stack,
    one_tenant_dashboards,
    panels_by_kind,
    run_doctor,
    run_doctor_text,
    seed_logs,
)
from tests.grafana_server.server import FakeGrafana
from tests.prometheus.collector_exporter import TENANTS

LOGS = "Recent error logs"


def _checked(doctor: Doctor) -> list[str]:
    return [f"{report['dashboard']} / {report['panel']}" for report in doctor.reports]


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


def _only_cause(doctor: Doctor) -> dict[str, Any]:
    panel = doctor.panel(LOGS)
    assert len(panel["causes"]) == 1, panel
    return dict(panel["causes"][0])


def test_no_log_stream_at_all(loki: Stack) -> None:
    doctor = loki.doctor()
    assert doctor.code == 1 and doctor.panel(LOGS)["status"] == "empty"
    cause = _only_cause(doctor)
    assert cause["code"] == "loki-no-stream" and "no log stream at all" in cause["detail"]


def test_the_selection_that_was_empty_is_named_all_with_its_value(loki: Stack) -> None:
    """Empty at All: the JSON gives `$tenant`'s value (`__all__`), the text says All and that value."""
    at_all = all_value()
    cause = _only_cause(loki.doctor())
    assert cause["selection"] == {"tenant": at_all}
    assert cause["detail"].startswith(f"with $tenant = All (`{at_all}`): ")
    text = run_doctor_text(loki.env)
    assert text.code == 1
    assert f"loki-no-stream: with $tenant = All (`{at_all}`): Loki holds no log stream at all" in text.stdout


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
    assert cause["selection"] == {"tenant": sorted(TENANTS)[0]}


# -- a datasource left out -----------------------------------------------------------------------------


def test_an_empty_loki_url_leaves_loki_out_and_says_so(stack: Stack) -> None:
    loki_panels, prometheus_panels = panels_by_kind()["loki"], panels_by_kind()["prometheus"]
    assert loki_panels, "the project has a log panel: this scenario needs one"
    doctor = run_doctor({**stack.env, "LOKI_URL": ""})
    assert doctor.code == 0, (doctor.stderr, doctor.reports)  # nothing failed: Loki was not asked
    assert doctor.skipped == [{"datasource": "loki", "reason": "LOKI_URL is empty", "panels": loki_panels}]
    assert _checked(doctor) == [p for p in prometheus_panels if p not in loki_panels]
    assert set(doctor.statuses().values()) == {"ok"}
    text = run_doctor_text({**stack.env, "LOKI_URL": ""})
    assert text.code == 0, text
    note = f"note: Loki left out (LOKI_URL is empty): {len(loki_panels)} panel(s) not checked: "
    assert note + "; ".join(loki_panels) in text.stderr
    assert "Loki left out" in text.stdout
    assert not [line for line in text.stderr.splitlines() if line.startswith("error:")], text.stderr


def test_an_empty_prometheus_url_leaves_prometheus_out(stack: Stack) -> None:
    doctor = run_doctor({**stack.env, "PROMETHEUS_URL": ""})
    assert doctor.code == 0, (doctor.stderr, doctor.reports)
    [skipped] = doctor.skipped
    assert (skipped["datasource"], skipped["reason"]) == ("prometheus", "PROMETHEUS_URL is empty")
    # A one-tenant dashboard's log panel needs a tenant from Prometheus: not checked either, not empty.
    one_tenant = one_tenant_dashboards()
    needs_prometheus = [name for name in panels_by_kind()["loki"] if name.split(" / ")[0] in one_tenant]
    assert sorted(skipped["panels"]) == sorted(panels_by_kind()["prometheus"] + needs_prometheus)
    checked = [name for name in panels_by_kind()["loki"] if name not in needs_prometheus]
    assert _checked(doctor) == checked and doctor.panel(LOGS)["status"] == "ok"
    assert doctor.rules == []  # no Prometheus asked, no rule looked at


def test_with_every_datasource_left_out_nothing_was_checked(stack: Stack) -> None:
    doctor = run_doctor({**stack.env, "PROMETHEUS_URL": "", "LOKI_URL": ""})
    assert doctor.code == 2 and doctor.reports == []
    assert {one["datasource"] for one in doctor.skipped} == {"prometheus", "loki"}
    assert "nothing was checked" in doctor.stderr


@pytest.mark.parametrize(
    ("variable", "example"),
    [("LOKI_URL", "http://localhost:3100"), ("PROMETHEUS_URL", "http://localhost:9090")],
)
def test_a_url_without_a_scheme_is_refused_with_that_services_example(variable: str, example: str) -> None:
    env: dict[str, Any] = {"LOKI_URL": "http://127.0.0.1:9", "PROMETHEUS_URL": "http://127.0.0.1:9"}
    text = run_doctor_text({**env, variable: example.removeprefix("http://")})
    assert text.code == 2
    assert (
        f"{variable}: " in text.stderr
        and f"is not an http:// or https:// URL (e.g. {example})" in text.stderr
    )


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
