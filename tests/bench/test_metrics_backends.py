"""The scale benchmark's engine switch (bench/metrics_backends.py): what it reads from each engine.

The benchmark on Cortex runs for minutes; here, what decides its figures: the engine's own metric
names (read from a real Cortex's /metrics), their sums over Cortex's per-tenant label sets, which
processes make up each row, the agent's configuration rendered from the committed one, and the
tenant header on every request.
"""

from __future__ import annotations

import http.server
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bench.hub_at_scale import parse_exposition, sampled_pids
from bench.metrics_backends import (
    CORTEX_BACKEND,
    PROMETHEUS_BACKEND,
    _agent_config,
    configured_max_exemplars,
    send_tenant_header,
)
from monitoring import local_stack
from monitoring.local_stack import Program
from monitoring.scaled_topology import SHARDS
from tests.conftest import REPO
from tests.cortex.server import running_cortex


def test_a_metric_is_summed_over_its_label_sets_and_not_confused_with_a_longer_name() -> None:
    found = parse_exposition(
        "cortex_ingester_memory_series 10\n"
        'cortex_ingester_tsdb_exemplar_exemplars_in_storage{user="a"} 3\n'
        'cortex_ingester_tsdb_exemplar_exemplars_in_storage{user="b"} 4\n'
        "cortex_ingester_memory_series_created_total 99\n"
        'cortex_ingester_tsdb_exemplar_last_exemplars_timestamp_seconds{user="a"} 100\n'
        'cortex_ingester_tsdb_exemplar_last_exemplars_timestamp_seconds{user="b"} 250\n'
    )
    assert CORTEX_BACKEND.total(found, CORTEX_BACKEND.head_series) == 10
    assert CORTEX_BACKEND.total(found, CORTEX_BACKEND.exemplars_in_storage) == 7
    assert CORTEX_BACKEND.latest(found, CORTEX_BACKEND.exemplars_last_timestamp) == 250
    assert CORTEX_BACKEND.total(found, CORTEX_BACKEND.exemplars_max) is None, "absent is None, not 0"


def test_the_metric_names_read_from_cortex_are_the_ones_it_exposes(tmp_path: Path) -> None:
    """A renamed metric would read as 0 series and an empty ring, silently: the names are held
    against the real Cortex. Its exemplar storage has no size metric; the configured limit stands in."""
    with running_cortex(tmp_path) as base, urllib.request.urlopen(f"{base}/metrics", timeout=30) as answer:
        found = parse_exposition(answer.read().decode())
    for name in (
        CORTEX_BACKEND.head_series,
        CORTEX_BACKEND.exemplars_appended,
        CORTEX_BACKEND.exemplars_in_storage,
    ):
        assert CORTEX_BACKEND.total(found, name) is not None, name
    assert CORTEX_BACKEND.total(found, CORTEX_BACKEND.exemplars_max) is None
    limits = yaml.safe_load((REPO / "monitoring" / "cortex" / "cortex.yaml").read_text())["limits"]
    assert configured_max_exemplars() == limits["max_exemplars"] > 0


class _FakePopen:
    def __init__(self, pid: int) -> None:
        self.pid = pid


def _program(service: str, pid: int) -> Program:
    program = Program(service, service, [], {}, None, "", "")
    program.process = _FakePopen(pid)  # type: ignore[assignment]
    return program


def test_each_row_sums_the_processes_that_take_its_place() -> None:
    """On Cortex the engine's row is Cortex and the agent, the Collector's the gateway and every shard;
    on Prometheus each row is one process."""
    shards = [f"{local_stack.COLLECTOR}-shard-{s}" for s in SHARDS]
    running = [
        _program("cortex", 10),
        _program("prometheus-agent", 11),
        _program(local_stack.COLLECTOR, 20),
        *(_program(name, 21 + n) for n, name in enumerate(shards)),
        _program(local_stack.DEMO_SERVICE, 30),
        _program(f"{local_stack.DEMO_SERVICE}-2", 31),
    ]
    roles = sampled_pids(running, CORTEX_BACKEND)
    assert roles[local_stack.PROMETHEUS_SERVICE] == (10, 11)
    assert roles[local_stack.COLLECTOR] == (20, *range(21, 21 + len(shards)))
    assert roles[local_stack.DEMO_SERVICE] == (30,)
    single = [_program(local_stack.PROMETHEUS_SERVICE, 40), _program(local_stack.COLLECTOR, 41)]
    assert sampled_pids(single, PROMETHEUS_BACKEND) == {
        local_stack.PROMETHEUS_SERVICE: (40,),
        local_stack.COLLECTOR: (41,),
        local_stack.DEMO_SERVICE: (),
    }


def test_the_agent_scrapes_what_it_is_given_and_writes_to_this_cortex_as_the_environments_tenant(
    tmp_path: Path,
) -> None:
    committed = yaml.safe_load((REPO / "monitoring" / "prometheus" / "prometheus.scale.yml").read_text())
    path = _agent_config(tmp_path, {"otel-collector": ["127.0.0.1:1", "127.0.0.1:2"]}, "http://127.0.0.1:9")
    rendered = yaml.safe_load(path.read_text())
    assert [job["job_name"] for job in rendered["scrape_configs"]] == ["otel-collector"]
    assert rendered["scrape_configs"][0]["static_configs"] == [{"targets": ["127.0.0.1:1", "127.0.0.1:2"]}]
    assert rendered["remote_write"][0]["url"] == "http://127.0.0.1:9/api/v1/push"
    assert rendered["remote_write"][0]["headers"] == committed["remote_write"][0]["headers"]
    assert rendered["global"] == committed["global"]


class _Headers(http.server.BaseHTTPRequestHandler):
    seen: list[str | None] = []  # noqa: RUF012 (one test's record)

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("X-Scope-OrgID"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def header_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Headers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_every_request_of_the_benchmark_carries_the_tenant(header_server: str) -> None:
    previous = urllib.request._opener  # type: ignore[attr-defined]
    try:
        send_tenant_header("env-bench")
        urllib.request.urlopen(f"{header_server}/api/v1/query?query=up", timeout=10).close()
    finally:
        urllib.request.install_opener(previous)
    assert _Headers.seen == ["env-bench"]
