"""monitoring/loopback.py: the committed configs rendered for 127.0.0.1, as `make stack` and tests/e2e run.

Every expectation is read from the committed files by this test's own parsing (the compose file's
ports and mounts, the configs' `${env:NAME:-default}`, prometheus.yml's targets and rule paths), not
from the renderer; `promtool check config` then reads the rendered Prometheus config for real.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from dashboards_as_code.external_tools import PROMTOOL
from monitoring import loopback
from monitoring.local_stack import SERVICES
from monitoring.loopback import Compose, RenderError
from tests.stack.conftest import COMPOSE, ENV_REFERENCE, MONITORING, interpolate, load
from tests.tooling import require_tool

CONFIGS = {
    "otel-collector": MONITORING / "otel-collector" / "config.yaml",
    "jaeger": MONITORING / "jaeger" / "config.yaml",
}
ADDRESS = re.compile(r"^(?:[a-z]+://)?([\w.-]+):(\d+)(/.*)?$")


def _plan(run_dir: Path, *, published: bool = False) -> loopback.Plan:
    ports = itertools.count(41000)
    return loopback.plan(Compose(), SERVICES, run_dir, pick=lambda _: next(ports), published=published)


def _defaults(service: str) -> dict[str, str]:
    return dict(ENV_REFERENCE.findall(CONFIGS[service].read_text()))


def _listener_value(service: str, port: int, environment: dict[str, str]) -> str:
    """What `service` listens on for container `port`, read from its config's defaults: the variable
    whose default is `0.0.0.0:port`, or the X_HOST/X_PORT pair whose X_PORT defaults to `port`."""
    defaults = _defaults(service)
    for name, default in defaults.items():
        if default == f"0.0.0.0:{port}":
            return environment[name]
        if name.endswith("_PORT") and default == str(port) and f"{name[:-5]}_HOST" in defaults:
            return f"{environment[name[:-5] + '_HOST']}:{environment[name]}"
    raise AssertionError(f"{service} listens on no {port} in its config")


@pytest.mark.parametrize("service", sorted(CONFIGS))
def test_every_address_and_path_of_the_config_is_rendered_for_loopback(service: str, tmp_path: Path) -> None:
    environment = loopback.config_environment(Compose(), service, _plan(tmp_path))
    services = set(load(COMPOSE)["services"])
    for name, default in _defaults(service).items():
        if ADDRESS.match(default) or default.startswith("/") or "0.0.0.0" in default:
            assert name in environment, f"${{env:{name}:-{default}}} is left at its default"
    for name, value in environment.items():
        match = ADDRESS.match(value)
        if match:
            assert match.group(1) == "127.0.0.1" and match.group(1) not in services, (name, value)
        elif value.startswith("/"):
            assert Path(value).is_relative_to(tmp_path), (name, value)  # a volume: the run folder
        elif value.isdigit():
            assert name.endswith("_PORT") and f"{name[:-5]}_HOST" in environment, (name, value)
        else:
            assert value == "127.0.0.1", (name, value)  # a *_HOST
        assert "0.0.0.0" not in value


def test_a_peer_gets_the_address_its_service_listens_on(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    compose = Compose()
    rendered = {service: loopback.config_environment(compose, service, plan) for service in CONFIGS}
    peers = 0
    for service in CONFIGS:
        for name, default in _defaults(service).items():
            match = ADDRESS.match(default)
            if not match or match.group(1) == "0.0.0.0":
                continue
            peer, port = match.group(1), int(match.group(2))
            value = ADDRESS.match(rendered[service][name])
            assert value is not None and match.group(3) == value.group(3), (name, rendered[service][name])
            if peer in CONFIGS:  # the peer's own config says where it listens
                assert f"{value.group(1)}:{value.group(2)}" == _listener_value(peer, port, rendered[peer]), (
                    name
                )
            else:  # a stand-in: the port the plan gave it
                assert int(value.group(2)) == plan.ports[loopback.Endpoint(peer, port)], name
            peers += 1
    assert peers >= 2  # the Collector sends to Jaeger and to Loki


def test_prometheus_scrapes_the_collector_itself_and_alertmanager_where_they_listen(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    collector = loopback.config_environment(Compose(), "otel-collector", plan)
    committed = load(MONITORING / "prometheus" / "prometheus.yml")
    rendered = loopback.prometheus_config(Compose(), plan)
    for before, after in zip(committed["scrape_configs"], rendered["scrape_configs"], strict=True):
        assert {k: v for k, v in before.items() if k != "static_configs"} == {
            k: v for k, v in after.items() if k != "static_configs"
        }
        for target, new in zip(
            before["static_configs"][0]["targets"], after["static_configs"][0]["targets"], strict=True
        ):
            service, port = target.split(":")
            if service in ("prometheus", "alertmanager"):  # their own metrics, on their web port
                assert new == plan.address(service, int(port)), target
                continue
            assert service == "otel-collector"
            assert new == _listener_value(service, int(port), collector), target


def test_prometheus_sends_alerts_to_the_alertmanager_the_stack_runs(tmp_path: Path) -> None:
    """Each committed Alertmanager target (`alertmanager:9093`) becomes that service's port on 127.0.0.1."""
    plan = _plan(tmp_path)
    committed = load(MONITORING / "prometheus" / "prometheus.yml")["alerting"]["alertmanagers"]
    rendered = loopback.prometheus_config(Compose(), plan)["alerting"]["alertmanagers"]
    assert committed and len(rendered) == len(committed)
    for before, after in zip(committed, rendered, strict=True):
        targets = before["static_configs"][0]["targets"]
        assert targets, "an alertmanagers entry without a target"
        expected = [plan.address(t.split(":")[0], int(t.split(":")[1])) for t in targets]
        assert after["static_configs"][0]["targets"] == expected


def test_alertmanager_reads_its_receivers_files_where_compose_mounts_them(tmp_path: Path) -> None:
    """A receiver's `url_file` names a container path (/etc/alertmanager/secrets/...): on this machine
    it is the same file under the folder compose mounts there, monitoring/alertmanager/secrets/."""
    compose, plan = Compose(), _plan(tmp_path)
    path = loopback.render_alertmanager(compose, plan)
    assert path.parent == tmp_path
    rendered = load(path)
    generated = load(MONITORING / "alertmanager" / "alertmanager.yml")
    files = [w["url_file"] for r in rendered["receivers"] for w in r.get("webhook_configs", [])]
    committed = [w["url_file"] for r in generated["receivers"] for w in r.get("webhook_configs", [])]
    assert files and len(files) == len(committed)
    secrets = (MONITORING / "alertmanager" / "secrets").resolve()
    for before, after in zip(committed, files, strict=True):
        assert Path(after) == secrets / PurePosixPath(before).name, (before, after)
    # Everything else is the generated file's, untouched.
    assert rendered["route"] == generated["route"] and rendered["inhibit_rules"] == generated["inhibit_rules"]
    command = loopback.alertmanager_command(compose, plan, path)
    assert f"--config.file={path}" in command and "--cluster.listen-address=" in command
    assert f"--web.listen-address={plan.address('alertmanager', 9093)}" == command[-1]
    assert f"--storage.path={tmp_path / 'alertmanager-data'}" in command


def test_prometheus_reads_the_committed_rules_and_writes_to_the_run_folder(tmp_path: Path) -> None:
    compose = Compose()
    plan = _plan(tmp_path)
    config = loopback.render_prometheus(compose, plan)
    rendered = yaml.safe_load(config.read_text())
    matched = sorted(
        path for pattern in rendered["rule_files"] for path in Path("/").glob(pattern.lstrip("/"))
    )
    committed = sorted((MONITORING / "prometheus" / "rules").glob("*.yml"))
    assert committed and matched == committed
    command = loopback.prometheus_command(compose, plan, config)
    flags = {flag: value for flag, _, value in (argument.partition("=") for argument in command)}
    assert flags["--config.file"] == str(config)
    assert Path(flags["--storage.tsdb.path"]).is_relative_to(tmp_path)
    assert flags["--web.listen-address"] == f"127.0.0.1:{plan.ports[loopback.Endpoint('prometheus', 9090)]}"
    compose_flags = load(COMPOSE)["services"]["prometheus"]["command"]
    assert {f.split("=")[0] for f in compose_flags} <= set(flags)  # retention, exemplars, lifecycle kept
    checked = subprocess.run(
        [require_tool(PROMTOOL), "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout + checked.stderr


def _published(service: str) -> dict[int, int]:
    """Container port -> host port, from the compose file's `"${BIND:-127.0.0.1}:host:container"` strings."""
    found = {}
    for entry in load(COMPOSE)["services"][service].get("ports", []):
        host, container = interpolate(entry).split(":")[-2:]
        found[int(container)] = int(host)
    return found


def test_compose_ports_by_default_and_free_ones_on_request(tmp_path: Path) -> None:
    compose_ports = _plan(tmp_path, published=True).ports
    free_ports = _plan(tmp_path, published=False).ports
    published = 0
    for service in SERVICES:
        for container, host in _published(service).items():
            endpoint = loopback.Endpoint(service, container)
            assert compose_ports[endpoint] == host
            assert free_ports[endpoint] >= 41000  # what the test's picker hands out
            published += 1
    assert published >= 5
    for ports in (compose_ports, free_ports):
        assert len(set(ports.values())) == len(ports)


def test_the_demo_sends_to_the_collector_with_compose_defaults_or_the_users_values(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    raw: dict[str, Any] = load(COMPOSE)["services"]["demo"]["environment"]
    defaults = loopback.service_environment(Compose(), "demo", plan, {})
    chosen = loopback.service_environment(Compose(), "demo", plan, {"DEMO_ERROR_RATIO": "0.1"})
    assert (
        defaults["DEMO_ERROR_RATIO"] == interpolate(raw["DEMO_ERROR_RATIO"])
        and chosen["DEMO_ERROR_RATIO"] == "0.1"
    )
    otlp_http = plan.ports[loopback.Endpoint("otel-collector", 4318)]
    assert defaults["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://127.0.0.1:{otlp_http}"


def _compose(tmp_path: Path, config: str, command: list[str] | None = None) -> Compose:
    (tmp_path / "c.yaml").write_text(config)
    service = {"volumes": ["./c.yaml:/etc/svc/c.yaml:ro"], "command": command or ["--config=/etc/svc/c.yaml"]}
    (tmp_path / "compose.yml").write_text(yaml.safe_dump({"services": {"svc": service, "peer": {}}}))
    return Compose(tmp_path / "compose.yml")


@pytest.mark.parametrize(
    ("config", "command", "named"),
    [
        ("a: ${env:TO:-elsewhere:99}", None, "'elsewhere'"),
        ("a: ${env:TO:-http://peer:99/x}", None, "peer:99"),
        ("a: ${env:BIND:-0.0.0.0}", None, "BIND"),
        ("a: ${env:LISTEN_HOST:-0.0.0.0}", None, "LISTEN_HOST"),
        ("a: 1", ["--data=/var/lib/svc"], "/var/lib/svc"),
    ],
    ids=["unknown-host", "peer-not-in-stack", "bare-any-address", "host-without-port", "unmounted-path"],
)
def test_what_no_rule_maps_is_refused_by_name(
    tmp_path: Path, config: str, command: list[str] | None, named: str
) -> None:
    compose = _compose(tmp_path, config, command)
    with pytest.raises(RenderError, match=re.escape(named)):
        plan = loopback.plan(compose, ["svc"], tmp_path / "run", pick=lambda _: 41000)
        loopback.config_environment(compose, "svc", plan)
        loopback.host_command(compose, "svc", plan)
