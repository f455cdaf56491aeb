#!/usr/bin/env python3
"""Benchmark: how fast the Collector's sending queues fill while Loki and Jaeger are down.

The Collector and the demo backend start as `make stack` starts them (monitoring/local_stack.py,
free 127.0.0.1 ports, the committed config), but Loki and Jaeger do not: every span and log record
the demo sends waits in the exporters' queues on disk (`file_storage/queue`). After --seconds of
traffic it reads, from the Collector's own metrics, each queue's size (bytes: the config's sizer) and
the spans and log records the Collector accepted, and prints bytes per second, bytes per item, and
how long the configured `queue_size` lasts at that pace: how long a backend may be down before
data is refused (TikTicketsCollectorQueueFull).

With --gateway, the scaled topology's gateway (monitoring/otel-collector/gateway.yaml) takes the
Collector's place and no shard runs: everything the demo sends waits in the gateway's queues on disk
(traces and logs in `load_balancing/by_trace`'s, metrics in `load_balancing/by_resource`'s). With one
of two shards down, half of it waits: the table gives both paces.

Run from the repository root: `.venv/bin/python -m bench.queue_fill [--rps 150] [--tenants 1000]
[--seconds 60] [--gateway]`. The table goes to bench/results/queue-fill.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bench.hub_at_scale import parse_exposition
from monitoring import local_stack, loopback
from monitoring.scaled_topology import GATEWAY_CONFIG, SHARDS, gateway_environment
from tests.local_http import free_port

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "queue-fill.md"
COLLECTOR_CONFIG = REPO / "monitoring" / "otel-collector" / "config.yaml"
QUEUES = {"otlp_grpc/jaeger": "spans", "otlp_http/loki": "log_records"}
"""Each exporter with a queue on disk, and the items it carries."""
QUEUE_VOLUME = "otel-collector-queue"
"""The compose volume of the queues: `make stack` puts it in a folder of the run directory by that name."""
TELEMETRY_PORT = 8888
"""The Collector's own metrics port in its container (its config's default)."""


GATEWAY_QUEUES = {
    "load_balancing/by_trace": ("spans", "log_records"),
    "load_balancing/by_resource": ("metric_points",),
}
"""The gateway's exporters (each with its queue on disk) and the items they carry."""
GATEWAY_QUEUE_FOLDER = "gateway-queue"


def queue_capacity(exporter: str, config_file: Path = COLLECTOR_CONFIG) -> int:
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    return int(config["exporters"][exporter]["sending_queue"]["queue_size"])


def own_metrics(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return parse_exposition(response.read().decode())


def value(metrics: dict[str, float], name: str, **labels: str) -> float:
    """The sum of `name`'s series whose labels include `labels` (with or without `_total`)."""
    total = 0.0
    for key, number in metrics.items():
        base, _, rest = key.partition("{")
        if base.removesuffix("_total") == name and all(f'{k}="{v}"' in rest for k, v in labels.items()):
            total += number
    return total


@dataclass(frozen=True)
class Observed:
    """A Collector's own metrics at the start and end of the traffic, and its queue folder's bytes."""

    start: dict[str, float]
    end: dict[str, float]
    elapsed: float
    on_disk: int

    def grew(self, name: str, **labels: str) -> float:
        return value(self.end, name, **labels) - value(self.start, name, **labels)


def _programs(rps: float, tenants: int, prefix: str) -> tuple[Path, loopback.Plan, list[local_stack.Program]]:
    """The Collector and the demo as `make stack` starts them (free ports), nothing downstream."""
    run_dir = Path(tempfile.mkdtemp(prefix=prefix))
    compose = loopback.Compose()
    plan = local_stack.make_plan(compose, run_dir, free=True)
    settings = {"DEMO_TENANTS": str(tenants), "DEMO_RPS": f"{rps:g}"}
    wanted = {local_stack.COLLECTOR, "demo"}
    found = [p for p in local_stack.programs(compose, plan, demo_settings=settings) if p.service in wanted]
    return run_dir, plan, found


def _observe(
    found: list[local_stack.Program], run_dir: Path, url: str, seconds: float, queue: Path
) -> Observed:
    with local_stack.started(found, run_dir, sys.stderr):
        start = own_metrics(url)
        began = time.monotonic()
        time.sleep(seconds)
        end = own_metrics(url)
        elapsed = time.monotonic() - began
        on_disk = sum(f.stat().st_size for f in queue.rglob("*") if f.is_file())
    return Observed(start, end, elapsed, on_disk)


def _row(exporter: str, accepted: dict[str, float], queued: float, elapsed: float, capacity: int) -> str:
    per_second = queued / elapsed
    lasts = capacity / per_second / 3600 if per_second > 0 else float("inf")
    items = ", ".join(f"{n / elapsed:,.0f} {k.replace('_', ' ')}/s" for k, n in accepted.items())
    total = sum(accepted.values())
    return (
        f"| {exporter} | {items} | {per_second / 1024:,.1f} KiB/s | {queued / total if total else 0:,.0f} B "
        f"| {capacity / 2**30:g} GiB | {lasts:,.1f} h |"
    )


def _files_row(observed: Observed, queued_total: float) -> str:
    return (
        f"| files on disk (all queues) | | {observed.on_disk / observed.elapsed / 1024:,.1f} KiB/s | "
        f"{observed.on_disk / queued_total if queued_total else 0:.2f}x the queues' bytes | | |"
    )


def measure(rps: float, tenants: int, seconds: float) -> list[str]:
    """The single Collector's queues filling with Loki and Jaeger down."""
    run_dir, plan, found = _programs(rps, tenants, "queue-fill-")
    compose = loopback.Compose()
    port = loopback.config_environment(compose, local_stack.COLLECTOR, plan).get("TELEMETRY_PORT")
    url = f"http://127.0.0.1:{port or plan.port(local_stack.COLLECTOR, TELEMETRY_PORT)}/metrics"
    observed = _observe(found, run_dir, url, seconds, run_dir / QUEUE_VOLUME)
    rows = [
        _row(
            exporter,
            {items: observed.grew(f"otelcol_receiver_accepted_{items}")},
            observed.grew("otelcol_exporter_queue_size", exporter=exporter),
            observed.elapsed,
            queue_capacity(exporter),
        )
        for exporter, items in QUEUES.items()
    ]
    queued_total = sum(value(observed.end, "otelcol_exporter_queue_size", exporter=e) for e in QUEUES)
    return [*rows, _files_row(observed, queued_total)]


def _gateway(found: list[local_stack.Program], run_dir: Path) -> local_stack.Program:
    """The gateway in the single Collector's place (its OTLP and health addresses, which the demo and
    the readiness check use), its shards at addresses where nothing listens."""
    single = next(p for p in found if p.service == local_stack.COLLECTOR)
    nowhere = [{"OTLP_GRPC_ENDPOINT": f"127.0.0.1:{free_port()}"} for _ in SHARDS]
    env = gateway_environment(single.env, nowhere, run_dir / GATEWAY_QUEUE_FOLDER)
    argv = [single.argv[0], f"--config={GATEWAY_CONFIG}"]
    return replace(single, argv=argv, env=env, what="Collector gateway, gateway.yaml, no shard up")


def measure_gateway(rps: float, tenants: int, seconds: float) -> list[str]:
    """The gateway's queues filling with no shard up: everything the demo sends waits on disk (with one
    of two shards down, half of it: the queue lasts twice as long)."""
    run_dir, _, found = _programs(rps, tenants, "queue-fill-gateway-")
    found = [_gateway(found, run_dir) if p.service == local_stack.COLLECTOR else p for p in found]
    gateway = next(p for p in found if p.service == local_stack.COLLECTOR)
    url = f"http://{gateway.env['TELEMETRY_HOST']}:{gateway.env['TELEMETRY_PORT']}/metrics"
    observed = _observe(found, run_dir, url, seconds, run_dir / GATEWAY_QUEUE_FOLDER)
    rows = [
        _row(
            exporter,
            {k: observed.grew(f"otelcol_receiver_accepted_{k}") for k in kinds},
            observed.grew("otelcol_exporter_queue_size", exporter=exporter),
            observed.elapsed,
            queue_capacity(exporter, GATEWAY_CONFIG),
        )
        for exporter, kinds in GATEWAY_QUEUES.items()
    ]
    queued_total = sum(value(observed.end, "otelcol_exporter_queue_size", exporter=e) for e in GATEWAY_QUEUES)
    return [*rows, _files_row(observed, queued_total)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    parser.add_argument("--rps", type=float, default=150.0, help="the demo's requests per second")
    parser.add_argument("--tenants", type=int, default=1000, help="tenants the demo spreads them over")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of traffic measured")
    parser.add_argument(
        "--gateway",
        action="store_true",
        help="the scaled topology's gateway, with no shard up (gateway.yaml)",
    )
    arguments = parser.parse_args(argv)
    measured = measure_gateway if arguments.gateway else measure
    rows = measured(arguments.rps, arguments.tenants, arguments.seconds)
    down = "the gateway's shards down" if arguments.gateway else "Loki and Jaeger down"
    table = "\n".join(
        [
            f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {arguments.rps:g} requests/s over "
            f"{arguments.tenants:,} tenants, {arguments.seconds:g} s, {down}",
            "",
            "| exporter | accepted | queue grows | queued bytes per item | queue_size | lasts |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    print(table)
    previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Sending queues filling\n\n"
    RESULTS.write_text(previous + table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
