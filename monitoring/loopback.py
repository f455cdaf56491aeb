"""The committed stack configs, rendered for programs on 127.0.0.1 instead of containers on a network.

In the compose stack every program listens on 0.0.0.0 inside its own container, reaches its peers by
service name (`loki:3100`, `otel-collector:8889`) and reads its files where compose mounts them
(`/etc/prometheus/rules/*.yml`, the `/badger` volume). On one machine without containers each of
those is rewritten by rule, from the compose file and the configs themselves, never by hand:

- an address a config listens on (`${env:NAME:-0.0.0.0:4317}`, or `${env:X_HOST:-0.0.0.0}` with its
  `${env:X_PORT:-8888}`) becomes 127.0.0.1 and the port the plan gives that service's container port;
- a peer (`${env:NAME:-http://loki:3100/otlp}`, the Prometheus target `otel-collector:8889`, the demo's
  `OTEL_EXPORTER_OTLP_ENDPOINT`) becomes 127.0.0.1 and the port of the program behind that name;
- a container path (a command-line flag, a `rule_files` glob, `${env:NAME:-/badger}`) becomes the path
  compose mounts there: the committed file or folder for a bind mount, a folder of the run directory
  for a named volume.

The Collector and Jaeger configs are used as committed (only their `${env:...}` are set); Prometheus
cannot read the environment, so its config is written, rendered, to the run directory. Anything
shaped like an address or a container path that no rule covers is refused (RenderError), so nothing
is left pointing at a container or listening on every interface. `make stack`
(monitoring/local_stack.py) and the end-to-end tests (tests/e2e/) both render through here, so the
tests prove what the local stack runs.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

MONITORING = Path(__file__).resolve().parent
COMPOSE_FILE = MONITORING / "docker-compose.observability.yml"
LOOPBACK = "127.0.0.1"
ANY_ADDRESS = "0.0.0.0"
"""What the committed configs listen on inside a container; never what a loopback run binds."""

ENV_REFERENCE = re.compile(r"\$\{env:(?P<name>\w+):-(?P<default>[^}]*)\}")
"""The Collector's (and Jaeger's) `${env:NAME:-default}`."""
COMPOSE_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")
"""Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}`."""
ADDRESS = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*://)?(?P<host>[A-Za-z0-9_.-]+):(?P<port>\d+)(?P<path>/.*)?$"
)
"""`host:port`, optionally with a scheme and a path: a listen address or a peer."""


class RenderError(ValueError):
    """Something in a committed config that no rule maps to 127.0.0.1; the message says what and where."""


@dataclass(frozen=True, order=True)
class Endpoint:
    """A port a compose service listens on inside its container."""

    service: str
    port: int

    def __str__(self) -> str:
        return f"{self.service}:{self.port}"


@dataclass(frozen=True)
class Mount:
    source: str
    """`./otel-collector/config.yaml` (a bind mount, relative to the compose file) or `jaeger-data`."""
    target: PurePosixPath

    @property
    def is_volume(self) -> bool:
        return not self.source.startswith((".", "/"))


def interpolate(value: str, environ: Mapping[str, str]) -> str:
    """Compose's variable syntax with `environ`: `:-` takes the default when the variable is unset or
    empty, `:?` refuses then (with compose's message), a bare `${NAME}` is empty when unset."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        if environ.get(name):
            return environ[name]
        if op == ":?":
            raise RenderError(f"{name}: {arg}")
        return arg if op == ":-" else environ.get(name, "")

    return COMPOSE_VARIABLE.sub(one, value)


class Compose:
    """The compose file, read for what a loopback run needs: mounts, published ports, commands, env."""

    def __init__(self, path: Path = COMPOSE_FILE) -> None:
        self.path = path
        self.document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.services: dict[str, dict[str, Any]] = self.document["services"]

    def service(self, name: str) -> dict[str, Any]:
        if name not in self.services:
            raise RenderError(f"{self.path.name}: no service {name!r}")
        return self.services[name]

    def mounts(self, service: str) -> list[Mount]:
        found = []
        for volume in self.service(service).get("volumes", []):
            source, target = str(volume).split(":")[:2]
            found.append(Mount(source, PurePosixPath(target)))
        return found

    def published(self, service: str) -> dict[int, int]:
        """Container port -> the host port compose publishes it on (`"${BIND:-127.0.0.1}:3001:3000"`)."""
        found = {}
        for entry in self.service(service).get("ports", []):
            host, container = str(entry).rsplit(":", 2)[-2:]
            found[int(container)] = int(host)
        return found

    def command(self, service: str) -> list[str]:
        command = self.service(service).get("command", [])
        return [str(arg) for arg in (command if isinstance(command, list) else command.split())]

    def environment(self, service: str, environ: Mapping[str, str]) -> dict[str, str]:
        """The service's `environment:`, its variables filled from `environ` as compose would."""
        raw = self.service(service).get("environment") or {}
        pairs = raw.items() if isinstance(raw, dict) else (str(e).split("=", 1) for e in raw)
        return {str(name): interpolate(str(value), environ) for name, value in pairs}

    def host_path(self, service: str, container_path: str, run_dir: Path) -> Path:
        """Where the path a container reads is on this machine: under the bind mount's source, or a
        folder of `run_dir` named after the volume. The deepest mount wins, as in a container."""
        path = PurePosixPath(container_path)
        mounts = [m for m in self.mounts(service) if path == m.target or m.target in path.parents]
        if not mounts:
            raise RenderError(
                f"{service}: {container_path} is not under any of its mounts in {self.path.name}"
            )
        mount = max(mounts, key=lambda m: len(m.target.parts))
        rest = path.relative_to(mount.target)
        base = run_dir / mount.source if mount.is_volume else (self.path.parent / mount.source).resolve()
        return base / rest if rest.parts else base

    def config_files(self, service: str) -> list[Path]:
        """The committed files a service reads (bind mounts of single files)."""
        found = []
        for mount in self.mounts(service):
            if not mount.is_volume:
                path = (self.path.parent / mount.source).resolve()
                if path.is_file():
                    found.append(path)
        return found


def env_references(text: str) -> dict[str, str]:
    """Every `${env:NAME:-default}` in a config: NAME -> default (a NAME used twice has one default)."""
    found: dict[str, str] = {}
    for match in ENV_REFERENCE.finditer(text):
        found.setdefault(match["name"], match["default"])
    return found


def listen_ports(compose: Compose, service: str) -> set[int]:
    """The container ports a service listens on: those its configs' `${env:...}` open on 0.0.0.0 and
    those compose publishes."""
    ports = set(compose.published(service))
    for path in compose.config_files(service):
        references = env_references(path.read_text(encoding="utf-8"))
        for name, default in references.items():
            match = ADDRESS.match(default)
            paired = _port_of_host(name, default, references)
            if paired is not None:
                ports.add(paired)
            elif match and match["host"] == ANY_ADDRESS:
                ports.add(int(match["port"]))
    return ports


def _port_of_host(name: str, default: str, references: Mapping[str, str]) -> int | None:
    """For `X_HOST` defaulting to 0.0.0.0, the default of its `X_PORT` (the pair is one listen address)."""
    if name.endswith("_HOST") and default == ANY_ADDRESS:
        port = references.get(f"{name.removesuffix('_HOST')}_PORT", "")
        if not port.isdigit():
            raise RenderError(
                f"${{env:{name}}} listens on {ANY_ADDRESS} but no {name[:-5]}_PORT says on which port"
            )
        return int(port)
    return None


@dataclass(frozen=True)
class Plan:
    """Where each service's container port is on 127.0.0.1, and the folder volumes and rendered files go."""

    ports: Mapping[Endpoint, int]
    run_dir: Path

    def port(self, service: str, port: int) -> int:
        endpoint = Endpoint(service, port)
        if endpoint not in self.ports:
            raise RenderError(f"{endpoint} is not part of the local stack (nothing listens there)")
        return self.ports[endpoint]

    def address(self, service: str, port: int) -> str:
        return f"{LOOPBACK}:{self.port(service, port)}"

    def url(self, service: str, port: int) -> str:
        return f"http://{self.address(service, port)}"


def plan(
    compose: Compose,
    services: Iterable[str],
    run_dir: Path,
    *,
    pick: Callable[[Endpoint], int],
    published: bool = True,
) -> Plan:
    """Every listener of `services` on a 127.0.0.1 port: the port compose publishes it on where it has
    one and `published` is true, otherwise `pick(endpoint)` (a free port)."""
    ports: dict[Endpoint, int] = {}
    for service in services:
        host_ports = compose.published(service) if published else {}
        for port in sorted(listen_ports(compose, service)):
            endpoint = Endpoint(service, port)
            ports[endpoint] = host_ports.get(port) or pick(endpoint)
    taken: dict[int, Endpoint] = {}
    for endpoint, port in ports.items():
        if port in taken:
            raise RenderError(f"{endpoint} and {taken[port]} were both given port {port}")
        taken[port] = endpoint
    return Plan(ports, run_dir)


def _peer(compose: Compose, plan: Plan, value: str, where: str) -> str | None:
    """`value` with a compose service's `host:port` replaced by its loopback address; None if no address."""
    match = ADDRESS.match(value)
    if match is None:
        return None
    if match["host"] not in compose.services:
        raise RenderError(f"{where}: {value!r} names host {match['host']!r}, which is no compose service")
    return f"{match['scheme'] or ''}{plan.address(match['host'], int(match['port']))}{match['path'] or ''}"


def config_environment(compose: Compose, service: str, plan: Plan) -> dict[str, str]:
    """The values of every `${env:...}` of the service's committed configs that holds an address or a
    container path, for a run on 127.0.0.1. Other defaults (durations) are left to the config."""
    environment: dict[str, str] = {}
    for path in compose.config_files(service):
        references = env_references(path.read_text(encoding="utf-8"))
        for name, default in references.items():
            where = f"{path.relative_to(compose.path.parent)}: ${{env:{name}}}"
            listen = ADDRESS.match(default)
            host_port = _port_of_host(name, default, references)
            if host_port is not None:
                environment[name] = LOOPBACK
                environment[f"{name.removesuffix('_HOST')}_PORT"] = str(plan.port(service, host_port))
            elif listen is not None and listen["host"] == ANY_ADDRESS:
                environment[name] = plan.address(service, int(listen["port"]))
            elif default.startswith("/"):
                environment[name] = str(compose.host_path(service, default, plan.run_dir))
            elif listen is not None:
                environment[name] = _peer(compose, plan, default, where) or default
            elif ANY_ADDRESS in default:
                raise RenderError(f"{where} defaults to {default!r}: no rule maps it to {LOOPBACK}")
    return environment


def host_command(
    compose: Compose, service: str, plan: Plan, rendered: Mapping[str, Path] | None = None
) -> list[str]:
    """The service's compose `command:` with each container path (`--flag=/path` or `/path`) replaced
    by its host path, or by a rendered file for the container paths in `rendered`."""

    def host(value: str) -> str:
        if not value.startswith("/"):
            return value
        return str((rendered or {}).get(value) or compose.host_path(service, value, plan.run_dir))

    arguments = []
    for argument in compose.command(service):
        flag, equals, value = argument.partition("=")
        arguments.append(f"{flag}={host(value)}" if argument.startswith("-") and equals else host(argument))
    return arguments


def _flag(arguments: list[str], name: str) -> str:
    values = [a.split("=", 1)[1] for a in arguments if a.startswith(f"{name}=")]
    if len(values) != 1:
        raise RenderError(f"expected one {name}= in {arguments}")
    return values[0]


PROMETHEUS = "prometheus"
PROMETHEUS_PORT = 9090
"""The port Prometheus listens on in its container (its default), as compose publishes it."""


def prometheus_config(compose: Compose, plan: Plan) -> dict[str, Any]:
    """The committed prometheus.yml with its rule paths on this machine and its targets on 127.0.0.1."""
    committed_path = compose.host_path(
        PROMETHEUS, _flag(compose.command(PROMETHEUS), "--config.file"), plan.run_dir
    )
    committed: dict[str, Any] = yaml.safe_load(committed_path.read_text(encoding="utf-8"))
    document = copy.deepcopy(committed)
    document["rule_files"] = [
        str(compose.host_path(PROMETHEUS, str(pattern), plan.run_dir))
        for pattern in committed.get("rule_files", [])
    ]
    for job in document.get("scrape_configs", []):
        where = f"{committed_path.name}: job {job.get('job_name')}"
        for static in job.get("static_configs", []):
            static["targets"] = [_peer(compose, plan, str(t), where) or str(t) for t in static["targets"]]
    for number, alertmanagers in enumerate((document.get("alerting") or {}).get("alertmanagers", []), 1):
        where = f"{committed_path.name}: alerting, alertmanagers entry {number}"
        for static in alertmanagers.get("static_configs", []):
            static["targets"] = [_peer(compose, plan, str(t), where) or str(t) for t in static["targets"]]
    _refuse_container_values(compose, document, committed_path.name, PROMETHEUS)
    return document


def _refuse_container_values(compose: Compose, node: Any, where: str, service: str) -> None:
    """No string left that names a compose service's address or a path under one of `service`'s mounts."""
    if isinstance(node, dict):
        for value in node.values():
            _refuse_container_values(compose, value, where, service)
    elif isinstance(node, list):
        for value in node:
            _refuse_container_values(compose, value, where, service)
    elif isinstance(node, str):
        match = ADDRESS.match(node)
        targets = {m.target for m in compose.mounts(service)}
        if (match and match["host"] in compose.services) or any(
            PurePosixPath(node) == t or t in PurePosixPath(node).parents for t in targets
        ):
            raise RenderError(f"{where}: {node!r} still points into the container network")


def prometheus_command(compose: Compose, plan: Plan, rendered_config: Path) -> list[str]:
    """Compose's Prometheus flags (storage, retention, exemplar storage, lifecycle API) with host paths,
    the rendered config, and a listen address on 127.0.0.1 (in a container it is 0.0.0.0:9090)."""
    config_flag = _flag(compose.command(PROMETHEUS), "--config.file")
    arguments = host_command(compose, PROMETHEUS, plan, {config_flag: rendered_config})
    return [*arguments, f"--web.listen-address={plan.address(PROMETHEUS, PROMETHEUS_PORT)}"]


def service_environment(
    compose: Compose, service: str, plan: Plan, environ: Mapping[str, str]
) -> dict[str, str]:
    """A service's compose `environment:` (the demo's), filled from `environ`, its peers on 127.0.0.1."""
    rendered = {}
    for name, value in compose.environment(service, environ).items():
        rendered[name] = _peer(compose, plan, value, f"{service}: {name}") or value
    return rendered


def render_prometheus(compose: Compose, plan: Plan) -> Path:
    """Write the rendered prometheus.yml into the run directory; its path."""
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    path = plan.run_dir / "prometheus.yml"
    header = (
        f"# Rendered by monitoring/loopback.py from the committed prometheus.yml for a run on {LOOPBACK};\n"
        "# do not edit: it is written again at every start.\n"
    )
    path.write_text(
        header + yaml.safe_dump(prometheus_config(compose, plan), sort_keys=False), encoding="utf-8"
    )
    return path


ALERTMANAGER = "alertmanager"
ALERTMANAGER_PORT = 9093
"""The port Alertmanager listens on in its container (its default), as compose publishes it."""


def alertmanager_config(compose: Compose, plan: Plan) -> dict[str, Any]:
    """The generated alertmanager.yml with every file it names (a receiver's `url_file`, `*_file`
    credentials) at the path compose mounts there: Alertmanager cannot read the environment either."""
    committed_path = compose.host_path(
        ALERTMANAGER, _flag(compose.command(ALERTMANAGER), "--config.file"), plan.run_dir
    )
    document: dict[str, Any] = yaml.safe_load(committed_path.read_text(encoding="utf-8"))

    def files_on_this_machine(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: (
                    str(compose.host_path(ALERTMANAGER, value, plan.run_dir))
                    if str(key).endswith("_file") and isinstance(value, str) and value.startswith("/")
                    else files_on_this_machine(value)
                )
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [files_on_this_machine(value) for value in node]
        return node

    rendered: dict[str, Any] = files_on_this_machine(document)
    _refuse_container_values(compose, rendered, committed_path.name, ALERTMANAGER)
    return rendered


def alertmanager_command(compose: Compose, plan: Plan, rendered_config: Path) -> list[str]:
    """Compose's Alertmanager flags with host paths, the rendered config, and a listen address on
    127.0.0.1 (in a container it is 0.0.0.0:9093)."""
    config_flag = _flag(compose.command(ALERTMANAGER), "--config.file")
    arguments = host_command(compose, ALERTMANAGER, plan, {config_flag: rendered_config})
    return [*arguments, f"--web.listen-address={plan.address(ALERTMANAGER, ALERTMANAGER_PORT)}"]


def render_alertmanager(compose: Compose, plan: Plan) -> Path:
    """Write the rendered alertmanager.yml into the run directory; its path."""
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    path = plan.run_dir / "alertmanager.yml"
    header = (
        "# Rendered by monitoring/loopback.py from the generated alertmanager.yml for a run on "
        f"{LOOPBACK};\n# do not edit: it is written again at every start.\n"
    )
    path.write_text(
        header + yaml.safe_dump(alertmanager_config(compose, plan), sort_keys=False), encoding="utf-8"
    )
    return path
