"""More tenants than an OTel SDK keeps apart by default, through the real hub: none is folded away.

An OTel SDK keeps 2,000 attribute sets per metric unless it is told otherwise, and folds every later
tenant into one `otel_metric_overflow="true"` series: those tenants vanish from every panel. The demo
(the backend team's reference, on the real Node.js SDK) configures the limits the contract's budgets
give (`monitoring/demo/cardinality-limits.json`, written by `build`). Here it serves more tenants
than that default through the real Collector (the committed config, rendered for 127.0.0.1 as `make
stack` renders it) into a real Prometheus 3 that evaluates the project's rules each second.
Checked: every tenant reaches every tenant-scoped series and every per-tenant recorded series, no
series overflowed or lost its tenant, and the latency exemplars the P99 panel links to traces with
are there all through the run (no per-tenant exemplar crowds them out of Prometheus' one ring).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboards_as_code.contract.model import MetricSignal
from dashboards_as_code.defaults import ALL_TENANTS, TENANT_LABEL
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.external_tools import NODE, PROMETHEUS
from monitoring import loopback
from monitoring.tools import DEMO, OTELCOL
from telemetry.contract import SERVER_SPANS_ONLY, SPAN_DURATION
from tests.conftest import REPO
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
from tests.e2e.test_rule_health import rfc3339_seconds
from tests.prometheus.rules import rules_for_the_test
from tests.prometheus.server import Prometheus, running_prometheus
from tests.prometheus_rules.test_all_rows import shape, twinned_rules
from tests.tooling import require_tool

SDK_DEFAULT_LIMIT = 2_000
"""Attribute sets an OTel JS SDK keeps per metric when no limit is configured (sdk-metrics 1.29.0)."""
TENANTS = 2_500
"""Past the SDK's default: with the default, 500 of them would be folded into the overflow series."""
SOCKET_TENANTS = 200
"""demo.js opens a Socket.io client for its first 200 tenants at once; others only by chance."""
RUN = "40s"
RUN_SECONDS = 40
EXPORT_MS = 2_000
"""The demo's metric export interval here (its default is 15 s): several exports within the run."""
QUARTERS = 4
"""The run is cut in this many parts; the P99 panel's exemplars must be found in each one."""


@dataclass
class Run:
    prometheus: Prometheus
    started: float
    ended: float
    demo_output: str


def _demo_environment(env: dict[str, str], otlp: str) -> dict[str, str]:
    return {
        **env,
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
        "DEMO_TENANTS": str(TENANTS),
        "DEMO_RPS": "100",
        "DEMO_DURATION": RUN,
        "DEMO_STATUS_INTERVAL": "10s",
        "OTEL_METRIC_EXPORT_INTERVAL": str(EXPORT_MS),
        "OTEL_BSP_SCHEDULE_DELAY": "500",
        "OTEL_BLRP_SCHEDULE_DELAY": "500",
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    collector, node, demo = require_tool(OTELCOL), require_tool(NODE), require_tool(DEMO)
    workdir = tmp_path_factory.mktemp("many-tenants")
    log = workdir / "collector.log"
    plan = loopback_plan(workdir)  # Loki's and Jaeger's ports: nothing listens (logs and traces are lost)
    with (
        log.open("w") as output,
        running_prometheus(
            require_tool(PROMETHEUS),
            workdir,
            plan.address(COLLECTOR, EXPORTER),
            [rules_for_the_test(workdir)],
        ) as prometheus,
    ):
        env = collector_environment(plan)
        process = subprocess.Popen(
            [collector, *loopback.host_command(COMPOSE, COLLECTOR, plan)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(f"{collector_url(plan, HEALTH)}/", process, log)
            started = time.time()
            demo_run = subprocess.run(
                [node, demo],
                env=_demo_environment(env, collector_url(plan, OTLP_HTTP)),
                capture_output=True,
                text=True,
                timeout=RUN_SECONDS + 60,
                check=False,
            )
            ended = time.time()
            assert demo_run.returncode == 0, demo_run.stdout + demo_run.stderr
            _settled(prometheus, after=ended, log=log)
            yield Run(prometheus, started, ended, demo_run.stdout)
        finally:
            process.terminate()
            process.wait(timeout=20)


def _settled(prometheus: Prometheus, *, after: float, log: Path) -> None:
    """A scrape of the Collector after the demo's final flush (and the span metrics' next one), then an
    evaluation of every rule group after that scrape: never a blind sleep."""
    deadline = time.monotonic() + 120
    while True:
        scraped = prometheus.query("timestamp(up == 1)")
        groups = prometheus.get("/api/v1/rules")["groups"]
        if (
            scraped
            and float(scraped[0]["value"][1]) > after + 3
            and all(rfc3339_seconds(g["lastEvaluation"]) > after + 3 for g in groups)
        ):
            return
        assert time.monotonic() < deadline, f"Prometheus did not settle: {scraped}\n{log.read_text()[-2000:]}"
        time.sleep(0.5)


def _tenants(prometheus: Prometheus, selector: str) -> set[str]:
    return {
        series["metric"][TENANT_LABEL]
        for series in prometheus.query(f"count by ({TENANT_LABEL}) ({selector})")
        if TENANT_LABEL in series["metric"]
    }


EVERY_TENANT = {f"tenant-{n:03d}" for n in range(1, TENANTS + 1)}


def _tenant_signals() -> list[MetricSignal]:
    signals = [m for m in load_project(REPO).contract.metrics if m.tenant_budget is not None]
    assert signals, "the project's contract has no tenant-scoped signal"
    return signals


def test_the_premise_more_tenants_than_the_sdk_keeps_by_default(run: Run) -> None:
    assert TENANTS > SDK_DEFAULT_LIMIT
    seen = re.findall(r"(\d+)/(\d+) tenants", run.demo_output)
    assert seen and seen[-1] == (str(TENANTS), str(TENANTS)), run.demo_output
    # Every span reached the Collector: none was dropped by the SDK's batch processor for want of room.
    dropped = re.findall(r"(\d+) spans dropped \(queue full\)", run.demo_output)
    assert dropped and dropped[-1] == "0", run.demo_output


@pytest.mark.parametrize("signal", _tenant_signals(), ids=lambda s: s.key)
def test_every_tenant_reaches_every_tenant_scoped_series(run: Run, signal: MetricSignal) -> None:
    """Each tenant is in each series once the demo has served it; the Socket.io gauge holds only the
    tenants with a client open, which are at least the demo's first SOCKET_TENANTS."""
    series = signal.series("count") if signal.prom_type.value == "histogram" else signal.series()
    found = _tenants(run.prometheus, series)
    if "socketio" in signal.otel_name:
        first = {f"tenant-{n:03d}" for n in range(1, SOCKET_TENANTS + 1)}
        assert first <= found <= EVERY_TENANT, sorted(first - found)[:10]
    elif signal.present_only_when is not None:  # the slow count: only the tenants with a slow request
        assert found and found <= EVERY_TENANT, sorted(found - EVERY_TENANT)[:10]
    else:
        assert found == EVERY_TENANT, (
            len(found),
            sorted(EVERY_TENANT - found)[:10],
            sorted(found - EVERY_TENANT)[:10],
        )


@pytest.mark.parametrize("record", sorted(twinned_rules()))
def test_every_tenant_reaches_every_per_tenant_recorded_series(run: Run, record: str) -> None:
    """A recorded per-tenant series has a row for each tenant of the series it reads, and the All row."""
    pair = twinned_rules()[record]
    source = shape(pair.per_tenant)
    matchers = ", ".join(f'{name}{_op(op)}"{value}"' for name, op, value in source.matchers)
    read = _tenants(run.prometheus, f"{source.series}{{{matchers}}}")
    recorded = _tenants(run.prometheus, record)
    assert read, f"the premise: {source.series} has no tenant"
    assert recorded == read | {ALL_TENANTS}, (len(recorded), len(read), sorted(read - recorded)[:10])


def _op(op: str) -> str:
    return {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}[op]


def test_no_series_overflowed_and_none_lost_its_tenant(run: Run) -> None:
    assert run.prometheus.query('{otel_metric_overflow="true"}') == []
    unnamed = run.prometheus.query(f'count by (__name__) ({{{TENANT_LABEL}="unknown"}})')
    assert unnamed == [], unnamed


def test_the_p99_exemplars_are_there_all_through_the_run(run: Run) -> None:
    """The P99 panel's dots are the exemplars of the server spans' latency histogram: present in every
    quarter of the run, not only its last moments."""
    selector = f"{SPAN_DURATION.series('bucket')}{{{SERVER_SPANS_ONLY.render()}}}"
    found = run.prometheus.exemplars(selector, run.started, run.ended)
    stamps = [float(e["timestamp"]) for s in found for e in s["exemplars"]]
    assert stamps, "no exemplar of the latency histogram"
    quarter = (run.ended - run.started) / QUARTERS
    empty = [
        q
        for q in range(QUARTERS)
        if not any(run.started + q * quarter <= t < run.started + (q + 1) * quarter for t in stamps)
    ]
    assert not empty, f"quarters of the run without a P99 exemplar: {empty} ({len(stamps)} exemplars)"
