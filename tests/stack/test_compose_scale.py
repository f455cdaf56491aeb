"""The scaled overlay (monitoring/docker-compose.scale.yml) laid over the single-node stack: valid, and
every name, path, port and tenant in it agrees with the configs it runs.

What runs is proven by tests/e2e/test_scaled_topology.py (the real Collectors and Cortex on 127.0.0.1);
here is what only the compose wiring decides: which file each container reads, which address the
gateway sends to, which tenant the shards and the Prometheus agent write as.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.external_tools import PROMETHEUS
from tests.conftest import REPO
from tests.local_http import free_port
from tests.stack.conftest import COMPOSE, MONITORING, interpolate, load, with_defaults
from tests.stack.test_compose import published, run_schema_check
from tests.tooling import require_tool

SCALE = MONITORING / "docker-compose.scale.yml"
GATEWAY = MONITORING / "otel-collector" / "gateway.yaml"
SHARD = MONITORING / "otel-collector" / "shard.yaml"
AGENT = MONITORING / "prometheus" / "prometheus.scale.yml"
CORTEX_CONFIG = MONITORING / "cortex" / "cortex.yaml"
CORTEX_GO_MOD = REPO / "tools" / "cortex" / "go.mod"
CORTEX_DEFAULT = re.compile(r"\$\{(\w+):([^}]*)\}")
"""Cortex's `${NAME:default}` (`-config.expand-env`)."""


def _merged(base: Any, overlay: Any, key: str = "") -> Any:
    """Compose's merge of an overlay file (docs.docker.com, "Merge Compose files"): mappings key by key,
    a service's `volumes` by their container path, `command` and other sequences replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for name, value in overlay.items():
            out[name] = _merged(base[name], value, name) if name in base else value
        return out
    if key == "volumes" and isinstance(base, list) and isinstance(overlay, list):
        by_target = {entry.split(":")[1]: entry for entry in base}
        by_target |= {entry.split(":")[1]: entry for entry in overlay}
        return list(by_target.values())
    return copy.deepcopy(overlay)


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    document: dict[str, Any] = _merged(load(COMPOSE), load(SCALE))
    return document


def _mounted(service: dict[str, Any], container_path: str) -> str:
    """The repository file a service sees at `container_path` (a bind mount of the stack)."""
    [source] = [v.split(":")[0] for v in service["volumes"] if v.split(":")[1] == container_path]
    return str((MONITORING / source).resolve().relative_to(REPO))


def _configs(service: dict[str, Any]) -> list[str]:
    """The Collector config files a service starts with, as repository paths."""
    paths = [a.removeprefix("--config=") for a in service.get("command", []) if a.startswith("--config=")]
    return [_mounted(service, path) for path in paths]


def _shards(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rel = str(SHARD.relative_to(REPO))
    return {
        name: s
        for name, s in stack["services"].items()
        if "command" in s and "volumes" in s and rel in _configs(s)
    }


def test_the_overlay_matches_the_compose_specification() -> None:
    result = run_schema_check(SCALE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_path_it_mounts_exists_and_every_volume_is_declared(stack: dict[str, Any]) -> None:
    for name, service in load(SCALE)["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (MONITORING / source).is_file(), f"{name} mounts missing {source}"
            else:
                assert source in stack["volumes"], f"{name} uses undeclared volume {source}"


def test_the_sdks_address_is_the_gateway(stack: dict[str, Any]) -> None:
    """The application's OTLP address does not change: the service it sends to now runs gateway.yaml."""
    gateway = stack["services"]["otel-collector"]
    assert _configs(gateway) == [str(GATEWAY.relative_to(REPO))]
    assert set(published(gateway)) == {"4317", "4318"}


def test_each_shard_runs_the_single_collectors_config_with_the_shard_file_and_its_own_label_and_queue(
    stack: dict[str, Any],
) -> None:
    shards = _shards(stack)
    assert len(shards) >= 2, "the premise: the overlay runs shards"
    labels = [str(s["environment"]["COLLECTOR_SHARD"]) for s in shards.values()]
    assert all(labels) and len(set(labels)) == len(labels), f"COLLECTOR_SHARD by shard: {labels}"
    queues = [v.split(":")[0] for s in shards.values() for v in s["volumes"] if v.endswith("/queue")]
    assert len(set(queues)) == len(shards), f"the shards' sending queues: {queues}"
    for name, shard in shards.items():
        assert _configs(shard) == [
            "monitoring/otel-collector/config.yaml",
            "monitoring/otel-collector/shard.yaml",
        ]
        assert shard["image"] == stack["services"]["otel-collector"]["image"], name


def test_the_gateways_queue_is_on_a_volume_of_its_own_that_no_shard_shares(stack: dict[str, Any]) -> None:
    """The gateway keeps a down shard's share on disk (gateway.yaml's file_storage/queue): its folder
    must be a named volume in the merged stack (a container's own layer is lost with the container),
    and not one a shard writes its own queue to."""
    gateway = with_defaults(load(GATEWAY))
    folder = gateway["extensions"]["file_storage/queue"]["directory"]
    assert all(e["sending_queue"]["storage"] == "file_storage/queue" for e in gateway["exporters"].values())
    mounts = {v.split(":")[1]: v.split(":")[0] for v in stack["services"]["otel-collector"]["volumes"]}
    assert folder in mounts and mounts[folder] in stack["volumes"], (folder, mounts)
    shard_volumes = {v.split(":")[0] for s in _shards(stack).values() for v in s["volumes"]}
    assert mounts[folder] not in shard_volumes


def test_the_gateway_sends_to_exactly_the_shards_on_their_otlp_grpc_port(stack: dict[str, Any]) -> None:
    gateway = with_defaults(load(GATEWAY))
    wanted = {f"{name}:4317" for name in _shards(stack)}
    exporters = gateway["exporters"]
    assert exporters, "the premise: the gateway exports"
    for name, exporter in exporters.items():
        assert set(exporter["resolver"]["static"]["hostnames"]) == wanted, name


def test_shards_and_the_prometheus_agent_write_to_cortex_as_one_tenant(stack: dict[str, Any]) -> None:
    cortex_port = CORTEX_DEFAULT.sub(lambda m: m.group(2), _cortex_text("http_listen_port"))
    shard = with_defaults(load(SHARD))["exporters"]["otlp_http/metrics_engine"]
    assert shard["metrics_endpoint"] == f"http://cortex:{cortex_port}/api/v1/otlp/v1/metrics"
    [remote_write] = load(AGENT)["remote_write"]
    assert remote_write["url"] == f"http://cortex:{cortex_port}/api/v1/push"
    assert remote_write["headers"]["X-Scope-OrgID"] == shard["headers"]["X-Scope-OrgID"]
    assert "cortex" in stack["services"]


def _cortex_text(key: str) -> str:
    [line] = [line for line in CORTEX_CONFIG.read_text().splitlines() if line.strip().startswith(f"{key}:")]
    return line.split(":", 1)[1].strip()


def test_cortex_is_the_release_the_tests_build_and_publishes_on_loopback_only(stack: dict[str, Any]) -> None:
    [version] = re.findall(r"^\tgithub\.com/cortexproject/cortex v(\S+)", CORTEX_GO_MOD.read_text(), re.M)
    cortex = stack["services"]["cortex"]
    assert cortex["image"] == f"quay.io/cortexproject/cortex:v{version}"
    assert {host: address for host, (address, _) in published(cortex).items()} == {"9009": "127.0.0.1"}
    assert "-config.expand-env=true" in cortex["command"]
    assert _mounted(cortex, "/etc/cortex/cortex.yaml") == "monitoring/cortex/cortex.yaml"


def test_the_prometheus_agent_scrapes_every_collector_of_the_stack(stack: dict[str, Any]) -> None:
    prometheus = stack["services"]["prometheus"]
    assert "--agent" in prometheus["command"]
    assert (
        _mounted(prometheus, "/etc/prometheus/prometheus.yml") == "monitoring/prometheus/prometheus.scale.yml"
    )
    [job] = [j for j in load(AGENT)["scrape_configs"] if j["job_name"] == "otel-collector"]
    targets = {t for c in job["static_configs"] for t in c["targets"]}
    collectors = {"otel-collector", *_shards(stack)}
    assert targets == {f"{name}:8888" for name in collectors}
    assert "rule_files" not in load(AGENT), "the rules run in Cortex's ruler, not in the agent"


def test_the_agents_config_runs_in_prometheus_agent_mode(tmp_path: Path) -> None:
    """The real Prometheus, `--agent` as the overlay starts it: it loads the file and scrapes its targets."""
    port = free_port()
    command = [
        require_tool(PROMETHEUS), "--agent", f"--config.file={AGENT}", f"--storage.agent.path={tmp_path}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]  # fmt: skip
    with (tmp_path / "agent.log").open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        targets: list[dict[str, Any]] = []
        while not targets and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets", timeout=2) as response:
                    targets = json.loads(response.read())["data"]["activeTargets"]
            except OSError:
                time.sleep(0.2)
        jobs = {target["labels"]["job"] for target in targets}
        assert jobs == {job["job_name"] for job in load(AGENT)["scrape_configs"]}, (
            tmp_path / "agent.log"
        ).read_text()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_an_unset_compose_variable_in_the_overlay_has_a_loopback_default(stack: dict[str, Any]) -> None:
    for name, service in load(SCALE)["services"].items():
        for entry in service.get("ports", []):
            assert interpolate(str(entry)).startswith("127.0.0.1:"), name
