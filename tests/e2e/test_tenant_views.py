"""Issue 22's proof: one failing and one slow tenant, found by the tenant views and alerts on real data.

The demo backend (the real OTel Node.js SDK) makes every request of FAILING fail and every request of
SLOW take a second longer (DEMO_FAILING_TENANTS, DEMO_SLOW_TENANTS), among healthy tenants; the real
Collector (the committed config, on loopback ports) derives the per-tenant counts; a real Prometheus 3
scrapes it and runs the rules the definitions render now (each group every second; every alert's `for`
at 1 s: when they fire is promtool's business, tests/prometheus_rules/test_tenant_slo.py). Then:
- the Tenants dashboard's burn-rate bars, queried as Grafana sends them, put FAILING (availability)
  and SLOW (latency) first;
- the per-tenant alerts fire for those tenants and no other, and nothing pages;
- the Tenant dashboard, opened on FAILING and on SLOW, shows the errors and the slowness;
- `doctor` finds every panel of the tenant dashboards returning data.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from config import TENANT_UID, TENANTS_UID
from dashboards_as_code.defaults import TENANT_VARIABLE
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.external_tools import NODE, PROMETHEUS
from dashboards_as_code.promql.tree import as_prometheus_receives
from dashboards_as_code.render.documents import build_documents
from monitoring import loopback
from monitoring.tools import DEMO, OTELCOL
from tests.conftest import REPO
from tests.demo.otlp_receiver import otlp_receiver
from tests.doctor.stack import run_doctor
from tests.e2e.test_hub import (
    COLLECTOR,
    COMPOSE,
    EXPORTER,
    HEALTH,
    OTLP_HTTP,
    collector_environment,
    collector_url,
    loopback_plan,
    wait_healthy,
)
from tests.prometheus.rules import rules_for_the_test
from tests.prometheus.server import Prometheus, running_prometheus
from tests.tooling import require_tool

TENANTS = 6
FAILING, SLOW = "tenant-004", "tenant-005"
TROUBLED = {"TikTicketsTenantErrorBudgetBurn": FAILING, "TikTicketsTenantLatencyBudgetBurn": SLOW}
RUN_SECONDS = 25


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    collector, node, demo = require_tool(OTELCOL), require_tool(NODE), require_tool(DEMO)
    workdir = tmp_path_factory.mktemp("tenant-views")
    log = workdir / "collector.log"
    with otlp_receiver(prefix="/otlp") as (loki, _):
        plan = loopback_plan(workdir, loki=int(loki.rsplit(":", 1)[1]))
        rules = rules_for_the_test(workdir, hold="1s")
        with (
            log.open("w") as output,
            running_prometheus(
                require_tool(PROMETHEUS), workdir, plan.address(COLLECTOR, EXPORTER), [rules]
            ) as server,
        ):
            env = collector_environment(plan)
            command = [collector, *loopback.host_command(COMPOSE, COLLECTOR, plan)]
            process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
            try:
                wait_healthy(f"{collector_url(plan, HEALTH)}/", process, log)
                traffic = subprocess.run(
                    [node, demo],
                    env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": collector_url(plan, OTLP_HTTP),
                         "DEMO_DURATION": f"{RUN_SECONDS}s", "DEMO_TENANTS": str(TENANTS), "DEMO_RPS": "90",
                         "DEMO_ERROR_RATIO": "0", "DEMO_FAILING_TENANTS": FAILING, "DEMO_SLOW_TENANTS": SLOW,
                         "OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_BSP_SCHEDULE_DELAY": "300",
                         "OTEL_BLRP_SCHEDULE_DELAY": "300"},
                    capture_output=True, text=True, timeout=RUN_SECONDS + 60, check=False,
                )  # fmt: skip
                assert traffic.returncode == 0, traffic.stdout + traffic.stderr
                time.sleep(4)  # the last span-metric flush is scraped, the rules run on it
                yield server
            finally:
                process.terminate()
                process.wait(timeout=20)


def _targets(uid: str) -> dict[str, str]:
    """Panel title -> its first Prometheus query, as the dashboard `uid` is rendered now."""
    board = next(b for b in build_documents(load_project(REPO)).dashboards if b.uid == uid)
    return {
        str(panel["title"]): str(panel["targets"][0]["expr"])
        for panel in board.document["panels"]
        if panel.get("targets") and panel["targets"][0]["datasource"]["type"] == "prometheus"
    }


def _ask(prometheus: Prometheus, expr: str, tenant: str) -> list[dict[str, Any]]:
    return prometheus.query(as_prometheus_receives(expr, {TENANT_VARIABLE: tenant}, interval="10s"))


def _ranked(result: list[dict[str, Any]]) -> list[str]:
    return [s["metric"]["tenant_id"] for s in sorted(result, key=lambda s: -float(s["value"][1]))]


@pytest.mark.parametrize(
    ("panel", "first"), [("Availability burn rate", FAILING), ("Latency burn rate", SLOW)]
)
def test_the_tenants_dashboard_ranks_the_troubled_tenant_first(
    prometheus: Prometheus, panel: str, first: str
) -> None:
    [(title, expr)] = [(t, e) for t, e in _targets(TENANTS_UID).items() if t.startswith(panel)]
    ranked = _ranked(_ask(prometheus, expr, ".*"))
    assert ranked and ranked[0] == first, f"{title}: {ranked}"
    assert len(ranked) == TENANTS, f"{title}: every tenant above the traffic floor has a bar: {ranked}"


def test_the_tenant_alerts_fire_for_the_troubled_tenants_only(prometheus: Prometheus) -> None:
    firing: dict[str, set[str]] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        alerts = prometheus.query('ALERTS{alertstate="firing"}')
        firing = {}
        for alert in alerts:
            firing.setdefault(alert["metric"]["alertname"], set()).add(alert["metric"].get("tenant_id", ""))
        if all(firing.get(name) == {tenant} for name, tenant in TROUBLED.items()):
            break
        time.sleep(1)
    for name, tenant in TROUBLED.items():
        assert firing.get(name) == {tenant}, firing
    pages = prometheus.query('ALERTS{alertstate="firing", severity="page"}')
    assert not [a for a in pages if a["metric"]["alertname"].startswith("TikTicketsTenant")]
    assert "TikTicketsManyTenantsBurning" not in firing  # 2 tenants of 6 is not many: fewer than 3


def test_the_tenant_dashboard_shows_the_tenants_trouble(prometheus: Prometheus) -> None:
    targets = _targets(TENANT_UID)
    [errors] = _ask(prometheus, targets["Error ratio"], FAILING)
    assert float(errors["value"][1]) > 0.9, errors  # all but the warm-up's first request
    [healthy] = _ask(prometheus, targets["Error ratio"], "tenant-001")
    assert float(healthy["value"][1]) == 0, healthy
    [within] = _ask(prometheus, targets["Within the latency target"], SLOW)
    assert float(within["value"][1]) < 0.1, within
    [others] = _ask(prometheus, targets["Within the latency target"], "tenant-001")
    assert float(others["value"][1]) > 0.5, others


def test_doctor_finds_every_tenant_panel_returning_data(prometheus: Prometheus) -> None:
    doctor = run_doctor({"PROMETHEUS_URL": prometheus.url, "LOKI_URL": ""})
    mine = [r for r in doctor.reports if r["dashboard"] in (TENANT_UID, TENANTS_UID)]
    assert len(mine) == len(_targets(TENANT_UID)) + len(_targets(TENANTS_UID))
    assert {r["status"] for r in mine} == {"ok"}, [r for r in mine if r["status"] != "ok"]
