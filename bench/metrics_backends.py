"""The scale benchmark's metrics engines: Prometheus (the single-node stack) or Cortex (the scaled one).

`bench/hub_at_scale.py --backend cortex` runs the scaled topology of monitoring/docker-compose.scale.yml
on 127.0.0.1 in place of the single Collector and Prometheus: the committed gateway config in front,
two shards (config.yaml with shard.yaml over it) pushing metrics over OTLP to Cortex (the committed
cortex.yaml, one process), Prometheus as an agent scraping the Collectors' and Cortex's own telemetry
into Cortex (as prometheus.scale.yml does), and the rule groups loaded into Cortex's ruler the way
`build.py push-rules` loads them. Loki's stand-in, Jaeger, Alertmanager and the demo are the
single-node stack's, from monitoring/local_stack.py.

Every figure is then asked of Cortex's Prometheus API (`<cortex>/prometheus`) with the environment's
tenant in `X-Scope-OrgID`, which this module adds to every request of the process
(`send_tenant_header`), so the benchmark's queries are the same for both engines. What differs is named
here: each engine's own metric for its in-memory series and its exemplar storage, and which processes
take the engine's and the Collector's place in the memory and CPU rows.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dashboards_as_code.external_tools import PROMETHEUS, require
from dashboards_as_code.ruler_api.client import Ruler
from dashboards_as_code.ruler_api.sync import synchronise_rules
from monitoring import local_stack, loopback
from monitoring.local_stack import Program, program_version
from monitoring.scaled_topology import (
    CORTEX_CONFIG,
    GATEWAY_CONFIG,
    SHARDS,
    cortex_environment,
    gateway_environment,
    shard_command,
    shard_environment,
)
from monitoring.tools import CORTEX, OTELCOL
from tests.local_http import free_port

REPO = Path(__file__).resolve().parent.parent
MONITORING = REPO / "monitoring"
CORTEX_SERVICE = "cortex"
AGENT_SERVICE = "prometheus-agent"
TENANT = "tiktickets"
"""The environment's one Cortex tenant (prometheus.scale.yml's and shard.yaml's default)."""
RULE_POLL_SECONDS = "10s"
"""How often Cortex's ruler looks for new groups here: the committed 1 m would leave the first minute of
a run without recorded series."""


@dataclass(frozen=True)
class Backend:
    """What the benchmark reads differently from each engine."""

    name: str
    title: str
    head_series: str
    """The engine's own gauge of the series it holds in memory."""
    exemplars_appended: str
    exemplars_in_storage: str
    exemplars_max: str
    exemplars_last_timestamp: str
    engine_roles: tuple[str, ...]
    """The processes whose memory and CPU are the engine's row: what takes Prometheus' place."""
    collector_roles: tuple[str, ...]
    """The processes whose memory and CPU are the Collector's row (the gateway and the shards, summed)."""
    shards: int
    """The Collectors that count spans: the contract's budgets grow with each one past the first."""

    def total(self, found: Mapping[str, float], name: str) -> float | None:
        """`name` summed over its label sets in a parsed exposition (Cortex labels some per tenant);
        None when the program does not expose it."""
        values = self._values(found, name)
        return sum(values) if values else None

    def latest(self, found: Mapping[str, float], name: str) -> float | None:
        """The largest of `name`'s values (a timestamp per tenant: the newest), None when not exposed."""
        values = self._values(found, name)
        return max(values) if values else None

    @staticmethod
    def _values(found: Mapping[str, float], name: str) -> list[float]:
        return [v for series, v in found.items() if series == name or series.startswith(name + "{")]


PROMETHEUS_BACKEND = Backend(
    "prometheus",
    "Prometheus",
    "prometheus_tsdb_head_series",
    "prometheus_tsdb_exemplar_exemplars_appended_total",
    "prometheus_tsdb_exemplar_exemplars_in_storage",
    "prometheus_tsdb_exemplar_max_exemplars",
    "prometheus_tsdb_exemplar_last_exemplars_timestamp_seconds",
    (local_stack.PROMETHEUS_SERVICE,),
    (local_stack.COLLECTOR,),
    1,
)
CORTEX_BACKEND = Backend(
    "cortex",
    "Cortex",
    "cortex_ingester_memory_series",
    "cortex_ingester_tsdb_exemplar_exemplars_appended_total",
    "cortex_ingester_tsdb_exemplar_exemplars_in_storage",
    "cortex_ingester_tsdb_exemplar_max_exemplars",
    "cortex_ingester_tsdb_exemplar_last_exemplars_timestamp_seconds",
    (CORTEX_SERVICE, AGENT_SERVICE),
    (local_stack.COLLECTOR, *(f"{local_stack.COLLECTOR}-shard-{s}" for s in SHARDS)),
    len(SHARDS),
)
BACKENDS = {b.name: b for b in (PROMETHEUS_BACKEND, CORTEX_BACKEND)}


def backend_versions() -> dict[str, str]:
    """The scaled topology's own program, for a column's versions."""
    cortex = require(CORTEX, REPO)
    return {"Cortex": f"{program_version(cortex, '-version')} (monitoring/cortex/cortex.yaml, one process)"}


def configured_max_exemplars() -> float:
    """cortex.yaml's `limits.max_exemplars`: the ring's size when Cortex does not expose it."""
    limits = yaml.safe_load(CORTEX_CONFIG.read_text())["limits"]
    return float(limits.get("max_exemplars", 0))


class _TenantHeader(urllib.request.BaseHandler):
    def __init__(self, tenant: str) -> None:
        self.tenant = tenant

    def http_request(self, request: urllib.request.Request) -> urllib.request.Request:
        request.add_unredirected_header("X-Scope-OrgID", self.tenant)
        return request

    https_request = http_request


def send_tenant_header(tenant: str = TENANT) -> None:
    """Every urllib request of this process carries the Cortex tenant (Prometheus ignores the header)."""
    urllib.request.install_opener(urllib.request.build_opener(_TenantHeader(tenant)))


@dataclass(frozen=True)
class Engine:
    """Where the benchmark asks its questions, and where the engine's own metrics are."""

    query_url: str
    metrics_url: str


def _agent_config(run_dir: Path, scraped: Mapping[str, list[str]], cortex: str) -> Path:
    """prometheus.scale.yml for loopback: the same jobs, these targets, remote write to this Cortex."""
    config: dict[str, Any] = yaml.safe_load((MONITORING / "prometheus" / "prometheus.scale.yml").read_text())
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": scraped.get(job["job_name"], [])}]
    config["scrape_configs"] = [j for j in config["scrape_configs"] if j["static_configs"][0]["targets"]]
    config["remote_write"][0]["url"] = f"{cortex}/api/v1/push"
    path = run_dir / "prometheus-agent.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def cortex_programs(single: list[Program], plan: loopback.Plan) -> tuple[list[Program], Engine]:
    """`single` (local_stack's programs) with the Collector and Prometheus replaced by the scaled
    topology, in start order: Cortex, the shards, the gateway, the agent, before the demo."""
    run_dir, base = plan.run_dir, {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    compose = loopback.Compose()
    collector, cortex, prometheus = require(OTELCOL, REPO), require(CORTEX, REPO), require(PROMETHEUS, REPO)
    collector_env = loopback.config_environment(compose, local_stack.COLLECTOR, plan)
    http = free_port()
    cortex_url = f"http://127.0.0.1:{http}"
    alertmanager = plan.url(local_stack.ALERTMANAGER_SERVICE, local_stack.ALERTMANAGER_HTTP.port)
    cortex_env = {
        **base,
        **cortex_environment(
            run_dir / "cortex", http, alertmanager, CORTEX_RULE_POLL_INTERVAL=RULE_POLL_SECONDS
        ),
    }
    version = program_version(collector, "--version")
    scaled = [
        Program(
            CORTEX_SERVICE,
            "Cortex",
            [cortex, f"-config.file={CORTEX_CONFIG}", "-config.expand-env=true"],
            cortex_env,
            f"{cortex_url}/ready",
            cortex_url,
            f"Cortex {program_version(cortex, '-version')}, monitoring/cortex/cortex.yaml",
            cwd=run_dir,
        )
    ]
    shards, telemetry = [], [collector_env["TELEMETRY_HOST"] + ":" + collector_env["TELEMETRY_PORT"]]
    for shard in SHARDS:
        queue, engine_otlp = run_dir / f"shard-{shard}-queue", f"{cortex_url}/api/v1/otlp/v1/metrics"
        env = {**base, **shard_environment(collector_env, shard, queue, engine_otlp, TENANT)}
        scaled.append(
            Program(
                f"{local_stack.COLLECTOR}-shard-{shard}",
                f"Collector shard {shard}",
                shard_command(collector),
                env,
                f"http://{env['HEALTH_CHECK_ENDPOINT']}/",
                env["OTLP_GRPC_ENDPOINT"],
                f"Collector {version}, config.yaml + shard.yaml, shard {shard}",
            )
        )
        shards.append(env)
        telemetry.append(f"{env['TELEMETRY_HOST']}:{env['TELEMETRY_PORT']}")
    gateway = next(p for p in single if p.service == local_stack.COLLECTOR)
    gateway_env = gateway_environment(gateway.env, shards, run_dir / "gateway-queue")
    scaled.append(
        Program(
            local_stack.COLLECTOR,
            "Collector gateway",
            [collector, f"--config={GATEWAY_CONFIG}"],
            gateway_env,
            gateway.ready,
            gateway.address,
            f"Collector {version}, gateway.yaml: load balancing by trace id and by resource to the shards",
        )
    )
    agent_port = free_port()
    scraped = {"otel-collector": telemetry, "cortex": [f"127.0.0.1:{http}"]}
    agent_yml = _agent_config(run_dir, scraped, cortex_url)
    scaled.append(
        Program(
            AGENT_SERVICE,
            "Prometheus agent",
            [
                prometheus,
                "--agent",
                f"--config.file={agent_yml}",
                f"--storage.agent.path={run_dir / 'prometheus-agent'}",
                f"--web.listen-address=127.0.0.1:{agent_port}",
            ],
            base,
            f"http://127.0.0.1:{agent_port}/-/ready",
            f"http://127.0.0.1:{agent_port}",
            f"Prometheus {program_version(prometheus, '--version')} --agent, prometheus.scale.yml (rendered)",
        )
    )
    kept = [p for p in single if p.service not in (local_stack.COLLECTOR, local_stack.PROMETHEUS_SERVICE)]
    infrastructure = [p for p in kept if p.service != local_stack.DEMO_SERVICE]
    demo = [p for p in kept if p.service == local_stack.DEMO_SERVICE]
    return [*infrastructure, *scaled, *demo], Engine(f"{cortex_url}/prometheus", cortex_url)


def load_rules(engine: Engine, groups: list[dict[str, Any]], backups: Path) -> None:
    """The rule groups into Cortex's ruler as `build.py push-rules` loads them; a failure ends the run."""
    report = synchronise_rules(
        Ruler(engine.metrics_url, TENANT, timeout=30), TENANT, groups, TENANT, apply=True, backup_dir=backups
    )
    if not report.ok:
        problems = [f"{a.uid}: {a.error or a.summary}" for a in report.actions if a.failed or a.error]
        raise local_stack.StackError(f"Cortex's ruler refused the rules: {report.stopped or problems}", 1)
    print(f"  rules: {report.count()} in Cortex's ruler", file=sys.stderr, flush=True)
