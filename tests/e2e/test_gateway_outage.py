"""The scaled topology's gateway with a shard down and then killed itself: nothing it acknowledged is lost.

The gateway is the real Collector with the committed `monitoring/otel-collector/gateway.yaml` (its
addresses and queue folder set through its `${env:...}`). Its two shards are real Collectors with a
small config of this test's that forwards every span and log record to a recording receiver: what
is under test is the gateway's queue, not the shards' pipelines (tests/e2e/test_scaled_topology.py
runs those). With shard 2 down, the test sends 1,000 numbered spans and log records in 20 traces
(routed by trace id, so both shards get a share); shard 2's share waits in the gateway's queue. The
gateway is then killed (SIGKILL, as an OOM kill: no flush) and started again, shard 2 comes back, and
every number must arrive. The same steps with the gateway's queue in memory (the exporter's queue
without `storage`) lose shard 2's share: the test that the counting can see a loss.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import yaml

from monitoring.scaled_topology import GATEWAY_CONFIG, gateway_environment, listen_addresses
from monitoring.tools import OTELCOL
from tests.demo.otlp_receiver import Received, attributes, otlp_receiver
from tests.e2e.test_hub import _scrape, wait_healthy
from tests.e2e.test_outage import SENT, SEQUENCE, _send
from tests.local_http import free_port
from tests.processes import stop
from tests.tooling import require_tool

TRACE_EXPORTER = "load_balancing/by_trace"
SHARD_CONFIG = {
    "extensions": {"health_check": {"endpoint": "${env:HEALTH_CHECK_ENDPOINT}"}},
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "${env:OTLP_GRPC_ENDPOINT}"}}}},
    "exporters": {"otlp_http": {"endpoint": "${env:RECEIVER}"}},
    "service": {
        "extensions": ["health_check"],
        "telemetry": {"metrics": {"level": "none"}},
        "pipelines": {
            signal: {"receivers": ["otlp"], "exporters": ["otlp_http"]} for signal in ("traces", "logs")
        },
    },
}
"""A stand-in shard: OTLP in, everything forwarded to the recording receiver."""


def _shard_environment(receiver: str) -> dict[str, str]:
    return {
        "OTLP_GRPC_ENDPOINT": f"127.0.0.1:{free_port()}",
        "HEALTH_CHECK_ENDPOINT": f"127.0.0.1:{free_port()}",
        "RECEIVER": receiver,
    }


@contextmanager
def _running(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Started and healthy; stopped on leaving (if the test has not stopped it already)."""
    with log.open("a") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://{env['HEALTH_CHECK_ENDPOINT']}/", process, log)
        yield process
    finally:
        if process.poll() is None:
            stop(process)


def _numbers(items: list[tuple[dict[str, Any], dict[str, Any]]]) -> Counter[int]:
    return Counter(
        int(attributes(item)[SEQUENCE]) for _, item in items if attributes(item).get(SEQUENCE) is not None
    )


def _queued_bytes(env: dict[str, str]) -> float:
    url = f"http://{env['TELEMETRY_HOST']}:{env['TELEMETRY_PORT']}/metrics"
    return sum(
        s.value
        for s in _scrape(url)
        if s.name == "otelcol_exporter_queue_size" and s.labels.get("exporter") == TRACE_EXPORTER
    )


def _all_arrived(received: Received, patience: float) -> tuple[Counter[int], Counter[int]]:
    deadline = time.monotonic() + patience
    while True:
        spans, records = _numbers(received.spans()), _numbers(received.logs())
        if (
            set(spans) >= set(range(SENT)) and set(records) >= set(range(SENT))
        ) or time.monotonic() > deadline:
            return spans, records
        time.sleep(0.5)


def _gateway_config(workdir: Path, *, on_disk: bool) -> Path:
    if on_disk:
        return GATEWAY_CONFIG
    config = yaml.safe_load(GATEWAY_CONFIG.read_text())
    for exporter in config["exporters"].values():
        exporter["sending_queue"] = {k: v for k, v in exporter["sending_queue"].items() if k != "storage"}
    path = workdir / "gateway-in-memory.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_outage(
    workdir: Path, *, on_disk: bool, patience: float
) -> tuple[Counter[int], Counter[int], float, int]:
    """Shard 2 down; send; kill the gateway; start it again; shard 2 back; count what arrives. Returns
    the spans and records by number, the bytes queued before the kill, and the spans arrived by then."""
    collector = require_tool(OTELCOL)
    shard_config = workdir / "shard.yaml"
    shard_config.write_text(yaml.safe_dump(SHARD_CONFIG))
    shard_command = [collector, f"--config={shard_config}"]
    with otlp_receiver() as (receiver, received), ExitStack() as running:
        shards = [_shard_environment(receiver) for _ in range(2)]
        gateway_env = gateway_environment(listen_addresses(), shards, workdir / "queue")
        gateway_command = [collector, f"--config={_gateway_config(workdir, on_disk=on_disk)}"]
        gateway_log = workdir / "gateway.log"
        running.enter_context(_running(shard_command, shards[0], workdir / "shard-1.log"))
        # shard 2 is not started yet: nothing listens at its address
        first = running.enter_context(_running(gateway_command, gateway_env, gateway_log))
        _send(f"http://{gateway_env['OTLP_HTTP_ENDPOINT']}")
        deadline = time.monotonic() + 30  # shard 1's share arrives; shard 2's waits
        while time.monotonic() < deadline and len(_numbers(received.spans())) == 0:
            time.sleep(0.2)
        queued = _queued_bytes(gateway_env)
        arrived_before = len(_numbers(received.spans()))
        first.kill()
        first.wait(timeout=30)
        running.enter_context(_running(gateway_command, gateway_env, gateway_log))
        running.enter_context(_running(shard_command, shards[1], workdir / "shard-2.log"))
        spans, records = _all_arrived(received, patience)
    return spans, records, queued, arrived_before


def _lost(seen: Counter[int]) -> int:
    return SENT - len(set(seen) & set(range(SENT)))


def test_a_shards_share_waits_on_disk_through_a_gateway_kill_and_arrives_when_it_is_back(
    tmp_path: Path,
) -> None:
    spans, records, queued, arrived_before = run_outage(tmp_path, on_disk=True, patience=120)
    assert queued > 0, "the premise: shard 2's share waited in the gateway's queue"
    assert 0 < arrived_before < SENT, f"the premise: shard 1 got a share, shard 2 not ({arrived_before})"
    assert _lost(spans) == 0, f"{_lost(spans)} of {SENT} spans lost"
    assert _lost(records) == 0, f"{_lost(records)} of {SENT} log records lost"


def test_the_same_outage_with_the_queue_in_memory_loses_the_down_shards_share(tmp_path: Path) -> None:
    """What the counting above would show if the gateway's queue were not on disk (the exporter's
    queue without `storage`): the kill loses what waited for shard 2."""
    spans, _, queued, arrived_before = run_outage(tmp_path, on_disk=False, patience=30)
    assert queued > 0 and arrived_before < SENT
    assert _lost(spans) > 0, "the counting must be able to see a loss"
