"""The compose file: schema-valid, consistent cross-references, ports on 127.0.0.1, no literal secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.defaults import GRAFANA_PROVISIONING_MOUNT
from datasources import DATASOURCES
from tests.stack.conftest import COMPOSE, MONITORING, interpolate

EXPECTED_PORTS = {
    "otel-collector": {"4317": "4317", "4318": "4318"},
    "prometheus": {"9090": "9090"},
    "alertmanager": {"9093": "9093"},
    "loki": {"3100": "3100"},
    "jaeger": {"16686": "16686"},
    "grafana": {"3001": "3000"},
    "vector": {},
    "demo": {},
}


def check_jsonschema() -> str:
    found = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    assert Path(found).exists(), "check-jsonschema is a dev dependency: `make test` installs it"
    return found


def run_schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [check_jsonschema(), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_matches_the_compose_specification() -> None:
    result = run_schema_check(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(COMPOSE.read_text().replace("    ports:\n", "    portz:\n", 1))
    result = run_schema_check(broken)
    assert result.returncode != 0
    assert "portz" in result.stdout + result.stderr


def test_services_and_images_are_pinned(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == set(EXPECTED_PORTS)
    for name, service in compose["services"].items():
        image = service["image"]
        tag = image.rsplit(":", 1)[-1]
        assert ":" in image and tag not in {"latest", "main", "nightly"}, f"{name}: pin the image ({image})"
        assert any(ch.isdigit() for ch in tag), f"{name}: {image}"


def published(service: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """host port -> (bind address, container port)."""
    found = {}
    for entry in service.get("ports", []):
        address, host, container = interpolate(str(entry), env).split(":")
        found[host] = (address, container)
    return found


def test_published_ports_match_the_table_and_bind_to_loopback(compose: dict[str, Any]) -> None:
    for name, expected in EXPECTED_PORTS.items():
        ports = published(compose["services"][name])
        assert {host: container for host, (_, container) in ports.items()} == expected, name
        assert all(address == "127.0.0.1" for address, _ in ports.values()), (
            f"{name} publishes beyond 127.0.0.1"
        )


def test_a_variable_opens_ports_deliberately(compose: dict[str, Any]) -> None:
    opened = published(compose["services"]["grafana"], {"BIND_ADDRESS": "0.0.0.0"})
    assert opened["3001"][0] == "0.0.0.0"
    otlp = published(compose["services"]["otel-collector"], {"OTLP_BIND_ADDRESS": "0.0.0.0"})
    assert otlp["4318"][0] == "0.0.0.0"


def test_depends_on_targets_exist_and_wait_for_health_where_there_is_a_healthcheck(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, condition in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on undefined service {target}"
            if "healthcheck" in services[target]:
                assert condition["condition"] == "service_healthy", f"{name} -> {target}"


def test_every_mounted_path_exists_in_the_repository(compose: dict[str, Any]) -> None:
    checked = 0
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (MONITORING / source).exists(), f"{name} mounts missing {source}"
                checked += 1
            elif not source.startswith("/"):
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"
    assert checked >= 7


def test_grafana_mounts_the_generated_provisioning_read_only(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["grafana"]["volumes"]
    assert f"../provisioning:{GRAFANA_PROVISIONING_MOUNT}:ro" in volumes


def test_named_volumes_keep_data_across_down(compose: dict[str, Any]) -> None:
    assert set(compose["volumes"]) == {
        "alertmanager-data",
        "prometheus-data",
        "loki-data",
        "grafana-data",
        "jaeger-data",
        "otel-collector-queue",
    }


def test_datasource_urls_point_at_compose_services(compose: dict[str, Any]) -> None:
    for datasource in DATASOURCES:
        host, port = datasource.url.removeprefix("http://").split(":")
        service = compose["services"][host]
        ports = {container for _, container in published(service).values()}
        assert port in ports, f"{datasource.uid}: {datasource.url} is not a port of service {host}"
        assert "observability" in service["networks"]
    assert "observability" in compose["services"]["grafana"]["networks"]


def test_grafana_password_comes_from_the_environment(compose: dict[str, Any]) -> None:
    environment = compose["services"]["grafana"]["environment"]
    assert environment["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD")
    with pytest.raises(KeyError, match="GRAFANA_ADMIN_PASSWORD"):
        interpolate(environment["GF_SECURITY_ADMIN_PASSWORD"])
    assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert environment["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert "healthcheck" in compose["services"]["grafana"]


def _literal_secret(line: str) -> bool:
    """A line that gives a password, secret or token a value of its own. Not one: a comment, a value
    from the environment (`${...}`), or the path of a file that holds it (`/etc/...`, `./...`: the
    `*_file` fields and the mounts that provide them)."""
    stripped = line.strip()
    if stripped.startswith("#") or ":" not in line:
        return False
    key, value = (part.strip().strip("\"'") for part in line.split(":", 1))
    if not {"password", "secret", "token"} & set(re.split(r"[^a-z]+", key.lower())):
        return False  # the words of the key, not of the line: `num_tokens` (a Cortex ring's size) is no token
    return bool(value) and not value.startswith(("${", "/", "./"))


@pytest.mark.parametrize(
    ("line", "literal"),
    [
        ("    num_tokens: 512", False),
        ("  - secret: hunter2", True),
        ("GF_SECURITY_ADMIN_PASSWORD: hunter2", True),
        ("  bearer_token: abc123", True),
        ('GF_SECURITY_ADMIN_PASSWORD: "${GRAFANA_ADMIN_PASSWORD:?set it}"', False),
        ("  - url_file: /etc/alertmanager/secrets/page-webhook-url", False),
        ("  - ./alertmanager/secrets:/etc/alertmanager/secrets:ro", False),
        ("# the receivers' URLs: secrets, never committed", False),
    ],
)
def test_a_literal_secret_is_told_from_a_reference(line: str, literal: bool) -> None:
    assert _literal_secret(line) is literal


def test_no_literal_password_in_any_stack_file() -> None:
    suspicious = []
    for path in MONITORING.rglob("*"):
        if not path.is_file() or path.name == ".env.example" or "node_modules" in path.parts:
            continue  # node_modules: the demo's installed npm packages, not files of this repository
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if _literal_secret(line):
                suspicious.append(f"{path.relative_to(MONITORING)}:{number}: {line.strip()}")
    assert suspicious == []


def test_the_demo_backend_is_opt_in_and_sends_only_to_the_collector(compose: dict[str, Any]) -> None:
    demo = compose["services"]["demo"]
    assert demo["profiles"] == ["demo"]  # `docker compose up` alone never starts it
    assert demo["networks"] == ["ingest"]
    assert demo["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    mounted = {volume.split(":")[0] for volume in demo["volumes"]}
    assert mounted == {"./demo/package.json", "./demo/package-lock.json", "./demo/demo.js", *_demo_reads()}


def _demo_reads() -> set[str]:
    """The files demo.js requires by a relative path: each must be mounted, or the container's demo
    stops at its first line (the cardinality limits `build` writes beside it)."""
    source = (MONITORING / "demo" / "demo.js").read_text()
    local = {f"./demo/{name}" for name in re.findall(r"require\('\./([^']+)'\)", source)}
    assert local, "the premise: demo.js reads no file of its own (the cardinality limits)"
    return local
