"""Jaeger v2, built from its Go module, behind the real Collector: metric -> trace, with real programs.

The committed monitoring/jaeger/config.yaml runs with its `${env:...}` addresses and Badger directory
rendered for 127.0.0.1 and a temporary folder by monitoring/loopback.py, as `make stack` runs it, and
the Collector's from the same plan (so it sends to this Jaeger; Loki's port is closed). The demo's
traffic goes through the Collector; trace ids taken from the latency exemplars Prometheus would store
are looked up in Jaeger's query API.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.external_tools import NODE
from monitoring import loopback
from monitoring.tools import DEMO, JAEGER, OTELCOL
from telemetry.contract import CONTRACT
from tests.conftest import REPO
from tests.e2e.test_hub import (
    COLLECTOR,
    COMPOSE,
    EXPORTER,
    HEALTH,
    OTLP_HTTP,
    Series,
    _scrape,
    collector_environment,
    collector_url,
    loopback_plan,
    wait_healthy,
)
from tests.tooling import require_tool

JAEGER_CONFIG = REPO / "monitoring" / "jaeger" / "config.yaml"
JAEGER_SERVICE = "jaeger"
JAEGER_HEALTH, JAEGER_QUERY = 13133, 16686
"""Jaeger's container ports (its config's defaults): health check v2, query API."""


@dataclass
class Traced:
    exemplar_trace_ids: list[str]
    query: str
    restart: Any


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _start_jaeger(binary: str, plan: loopback.Plan, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **loopback.config_environment(COMPOSE, JAEGER_SERVICE, plan)}
    with log.open("a") as output:
        return subprocess.Popen(
            [binary, *loopback.host_command(COMPOSE, JAEGER_SERVICE, plan)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traced]:
    jaeger, collector = require_tool(JAEGER), require_tool(OTELCOL)
    node, demo = require_tool(NODE), require_tool(DEMO)
    workdir = tmp_path_factory.mktemp("jaeger")
    plan = loopback_plan(workdir)  # the Badger folder is `workdir/jaeger-data`, the volume's name
    health = f"{plan.url(JAEGER_SERVICE, JAEGER_HEALTH)}/status"
    collector_env = collector_environment(plan)
    log = workdir / "jaeger.log"
    processes = [_start_jaeger(jaeger, plan, log)]
    try:
        wait_healthy(health, processes[0], log)
        with (workdir / "collector.log").open("w") as output:
            processes.append(
                subprocess.Popen(
                    [collector, *loopback.host_command(COMPOSE, COLLECTOR, plan)],
                    env=collector_env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_healthy(f"{collector_url(plan, HEALTH)}/", processes[1], workdir / "collector.log")
        demo_env = {
            **collector_env,
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector_url(plan, OTLP_HTTP),
            "DEMO_DURATION": "8s",
            "DEMO_TENANTS": "3",
            "DEMO_RPS": "30",
            "OTEL_BSP_SCHEDULE_DELAY": "300",
            "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        }
        traffic = subprocess.Popen(
            [node, demo], env=demo_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # Poll, not a fixed sleep: on a loaded machine the SDK's first export can come seconds late.
        ids = _exemplar_ids_while(traffic, f"{collector_url(plan, EXPORTER)}/metrics")
        assert traffic.wait(timeout=60) == 0
        time.sleep(3)  # the Collector's batch and Jaeger's own batch deliver the last spans

        def restart() -> None:
            processes[0].terminate()
            processes[0].wait(timeout=20)
            processes[0] = _start_jaeger(jaeger, plan, log)
            wait_healthy(health, processes[0], log)

        yield Traced(ids, plan.url(JAEGER_SERVICE, JAEGER_QUERY), restart)
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=20)


def _exemplar_ids_while(traffic: subprocess.Popen[bytes], metrics_url: str, want: int = 5) -> list[str]:
    """The latency exemplars' trace ids on the Collector's exporter, scraped until `want` appear or the
    demo ends (then one last scrape): each scrape holds only the latest exemplar of each bucket series."""
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = traffic.poll() is None
        live: list[Series] = _scrape(metrics_url)
        seen |= {
            s.exemplar["trace_id"]
            for s in live
            if s.name.startswith("traces_span_metrics_duration") and s.exemplar
        }
        if len(seen) >= want or not running:
            break
        time.sleep(0.5)
    return sorted(seen)


def _trace(query: str, trace_id: str) -> list[dict[str, Any]]:
    body = _get(f"{query}/api/traces/{trace_id}")
    return [span for trace in body.get("data", []) for span in trace.get("spans", [])]


def test_the_committed_jaeger_config_validates() -> None:
    result = subprocess.run(
        [require_tool(JAEGER), "validate", f"--config={JAEGER_CONFIG}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_exemplar_trace_ids_are_traces_in_jaeger(traced: Traced) -> None:
    assert len(traced.exemplar_trace_ids) >= 3
    for trace_id in traced.exemplar_trace_ids[:5]:
        spans = _trace(traced.query, trace_id)
        assert spans, f"Jaeger has no trace {trace_id} that an exemplar names"
        tags = [{tag["key"]: tag["value"] for tag in span["tags"]} for span in spans]
        assert all(t.get("tenant_id") for t in tags)  # rule 4, as Jaeger stores it
        services = {
            trace["processes"][p]["serviceName"]
            for trace in _get(f"{traced.query}/api/traces/{trace_id}")["data"]
            for p in trace["processes"]
        }
        assert services == {CONTRACT.resource.service_name}


def _comparable(spans: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Spans in a stable order, tags sorted: Badger's read order is not part of what is kept."""
    return sorted(
        (
            span["spanID"],
            span["operationName"],
            span["startTime"],
            span["duration"],
            tuple(sorted((tag["key"], str(tag["value"])) for tag in span["tags"])),
        )
        for span in spans
    )


def test_a_restart_loses_no_trace(traced: Traced) -> None:
    trace_ids = traced.exemplar_trace_ids[:3]
    before = {trace_id: _comparable(_trace(traced.query, trace_id)) for trace_id in trace_ids}
    assert all(before.values())
    traced.restart()
    assert {trace_id: _comparable(_trace(traced.query, trace_id)) for trace_id in trace_ids} == before
