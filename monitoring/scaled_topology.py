"""The scaled topology's Collectors on 127.0.0.1 (docker-compose.scale.yml without Docker): the pieces
the scale benchmark (bench/metrics_backends.py) and the end-to-end tests both start.

A shard runs the single Collector's own config.yaml with shard.yaml over it, so it takes the single
Collector's environment (Loki's and Jaeger's addresses, as `make stack` renders them) with listen
addresses of its own, its own queue folder, its shard label, and where it pushes metrics; the gateway
takes the addresses the SDK sends to and the shards' OTLP addresses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from monitoring.loopback import MONITORING
from tests.local_http import free_port

GATEWAY_CONFIG = MONITORING / "otel-collector" / "gateway.yaml"
COLLECTOR_CONFIG = MONITORING / "otel-collector" / "config.yaml"
SHARD_OVERLAY = MONITORING / "otel-collector" / "shard.yaml"
CORTEX_CONFIG = MONITORING / "cortex" / "cortex.yaml"
SHARDS = ("1", "2")
SHARD_LABEL = "collector_shard"


def cortex_environment(data: Path, http: int, alertmanager: str, **intervals: str) -> dict[str, str]:
    """cortex.yaml's `${NAME:default}` for a Cortex on 127.0.0.1: its HTTP port `http` (and a free gRPC
    one), its data folder, the Alertmanager its ruler sends to, and any of
    CORTEX_RULE_EVALUATION_INTERVAL / CORTEX_RULE_POLL_INTERVAL (the config's 15 s and 1 m otherwise)."""
    return {
        "CORTEX_LISTEN_ADDRESS": "127.0.0.1",
        "CORTEX_HTTP_PORT": str(http),
        "CORTEX_GRPC_PORT": str(free_port()),
        "CORTEX_DATA": str(data),
        "CORTEX_ALERTMANAGER_URL": alertmanager,
        **intervals,
    }


def shard_command(collector: str) -> list[str]:
    return [collector, f"--config={COLLECTOR_CONFIG}", f"--config={SHARD_OVERLAY}"]


def listen_addresses() -> dict[str, str]:
    """Free listen addresses for one more Collector (the `${env:...}` of config.yaml and gateway.yaml):
    the plan's are the gateway's (the compose service `otel-collector` is the gateway in the overlay)."""
    return {
        "OTLP_GRPC_ENDPOINT": f"127.0.0.1:{free_port()}",
        "OTLP_HTTP_ENDPOINT": f"127.0.0.1:{free_port()}",
        "HEALTH_CHECK_ENDPOINT": f"127.0.0.1:{free_port()}",
        "TELEMETRY_HOST": "127.0.0.1",
        "TELEMETRY_PORT": str(free_port()),
        "PROMETHEUS_EXPORTER_ENDPOINT": f"127.0.0.1:{free_port()}",  # defined, in no pipeline of a shard
    }


def shard_environment(
    single: Mapping[str, str], shard: str, queue: Path, engine_otlp: str, tenant: str
) -> dict[str, str]:
    """Shard `shard`'s environment: the single Collector's `single`, its own addresses and queue, its
    label, and Cortex's OTLP metrics endpoint `engine_otlp` as `tenant`."""
    queue.mkdir(parents=True, exist_ok=True)
    return {
        **single,
        **listen_addresses(),
        "QUEUE_DIRECTORY": str(queue),
        "COLLECTOR_SHARD": shard,
        "METRICS_ENGINE_OTLP_ENDPOINT": engine_otlp,
        "METRICS_ENGINE_TENANT": tenant,
    }


def gateway_environment(
    listen: Mapping[str, str], shards: Sequence[Mapping[str, str]], queue: Path
) -> dict[str, str]:
    """The gateway's environment: its listen addresses `listen`, the shards' OTLP gRPC addresses, its
    queue folder."""
    queue.mkdir(parents=True, exist_ok=True)
    return {
        **listen,
        "QUEUE_DIRECTORY": str(queue),
        **{f"SHARD_{n}_OTLP_ENDPOINT": shard["OTLP_GRPC_ENDPOINT"] for n, shard in enumerate(shards, 1)},
    }
