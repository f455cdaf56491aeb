"""The Collector the stack runs, built from its Go modules: versions agree, the config is valid.

The binary is built by `make tools` (scripts/build-otelcol) from tools/otelcol/manifest.yaml; the
compose file's image must be the same release, and the binary must hold exactly the components the
stack's Collectors use: the single Collector (config.yaml) and the scaled topology's gateway
(gateway.yaml) and shards (config.yaml with shard.yaml over it).
"""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
import yaml

from dashboards_as_code.external_tools import PROMETHEUS
from monitoring.tools import OTELCOL
from tests.conftest import REPO
from tests.tooling import require_tool

MANIFEST = REPO / "tools" / "otelcol" / "manifest.yaml"
CONFIG = REPO / "monitoring" / "otel-collector" / "config.yaml"
SHARD = REPO / "monitoring" / "otel-collector" / "shard.yaml"
GATEWAY = REPO / "monitoring" / "otel-collector" / "gateway.yaml"
INVOCATIONS = {"single": (CONFIG,), "shard": (CONFIG, SHARD), "gateway": (GATEWAY,)}
"""Each Collector of the stack, by the config files it is started with (compose, and the tests)."""
COMPOSE = REPO / "monitoring" / "docker-compose.observability.yml"
SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")


def _yaml(text: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def _load(path: Any) -> dict[str, Any]:
    return _yaml(path.read_text())


def _required_version(gomod: str, module: str) -> str:
    """The version a go.mod requires of `module` (tool dependencies appear as indirect requirements)."""
    (version,) = [
        line.split()[1]
        for line in (REPO / gomod).read_text().splitlines()
        if line.strip().startswith(f"{module} ")
    ]
    return version


def test_manifest_components_and_compose_image_are_one_release() -> None:
    manifest = _load(MANIFEST)
    release = manifest["dist"]["version"]
    versions = {entry["gomod"].split()[1] for section in SECTIONS for entry in manifest.get(section, [])}
    assert versions == {f"v{release}"}, versions
    image = _load(COMPOSE)["services"]["otel-collector"]["image"]
    assert image == f"otel/opentelemetry-collector-contrib:{release}"


def test_the_binary_holds_exactly_the_components_the_config_uses() -> None:
    built = _yaml(
        subprocess.run(
            [require_tool(OTELCOL), "components"], capture_output=True, text=True, check=True
        ).stdout
    )
    configs = [_load(path) for path in {path for files in INVOCATIONS.values() for path in files}]
    for section in SECTIONS:
        used = {name.split("/")[0] for config in configs for name in (config.get(section) or {})}
        assert {c["name"] for c in built.get(section) or []} == used, section
    assert built["buildinfo"]["version"] == _load(MANIFEST)["dist"]["version"]


@pytest.mark.parametrize("collector", sorted(INVOCATIONS))
def test_each_committed_config_validates_with_the_real_collector(collector: str) -> None:
    configs = [f"--config={path}" for path in INVOCATIONS[collector]]
    result = subprocess.run(
        [require_tool(OTELCOL), "validate", *configs],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLLECTOR_SHARD": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_a_broken_config_fails_validation(tmp_path: Any) -> None:
    broken = tmp_path / "config.yaml"
    broken.write_text(CONFIG.read_text().replace("exclude_dimensions:", "exclude_dimension:", 1))
    result = subprocess.run(
        [require_tool(OTELCOL), "validate", f"--config={broken}"], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "exclude_dimension" in result.stderr


def test_the_prometheus_the_tests_run_is_the_one_the_stack_ships() -> None:
    """The tests build Prometheus from the Go module version that matches the compose image."""
    module = _required_version("tools/gotools/go.mod", "github.com/prometheus/prometheus")
    minor, patch = module.removeprefix("v0.").split(".")[:2]
    release = f"3.{int(minor) - 300}.{patch}"  # v0.314.0 is Prometheus 3.14.0
    image = _load(COMPOSE)["services"]["prometheus"]["image"]
    assert image == f"prom/prometheus:v{release}"
    version = subprocess.run(
        [require_tool(PROMETHEUS), "--version"], capture_output=True, text=True, check=True
    )
    assert f"version {release} " in version.stdout + version.stderr


JAEGER_RELEASES = {"v1.76.0": "2.13.0"}
"""Jaeger's Go module has no /v2 path: its v2 releases carry v1 module tags (collector-facts.md)."""


def test_the_jaeger_the_tests_run_is_the_one_the_stack_ships() -> None:
    module = _required_version("tools/jaeger/go.mod", "github.com/jaegertracing/jaeger")
    image = _load(COMPOSE)["services"]["jaeger"]["image"]
    assert image == f"cr.jaegertracing.io/jaegertracing/jaeger:{JAEGER_RELEASES[module]}"
