"""`make stack`: the monitoring stack on 127.0.0.1 without containers, with the demo, until Ctrl-C.

It starts the programs this project builds (tools/bin: the OpenTelemetry Collector, Prometheus 3,
Jaeger v2) with the committed configs of monitoring/, rendered for loopback by monitoring/loopback.py
(the rendered files, logs and data go to the run folder, .cache/stack/ by default), the Loki and
Grafana stand-ins (monitoring/stand_ins.py: this repository's test servers, not Loki and not Grafana,
which are AGPL and not built here), then the demo backend on the OpenTelemetry Node.js SDK sending to
the Collector. It prints what runs where and the `export` lines for `doctor`, `push` and `diff`.

Each program runs in its own process group, with its output in `<run folder>/<service>.log`; every
one carries TIKTICKETS_LOCAL_STACK=<run folder> in its environment, so a leftover can be found. Ctrl-C
(SIGINT), SIGTERM or SIGHUP stops them all, the demo first so its last telemetry is flushed; a program
that exits on its own stops the rest. Each one is also asked by the kernel to stop if this process
dies without cleaning up (PR_SET_PDEATHSIG). By default the ports are the compose file's published
ones on 127.0.0.1 (a port in use is named, with the way out); `--ports free` picks free ones.
Exit codes: 0 stopped on request, 1 a program failed, 2 it could not start (missing tool, busy port).
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from dashboards_as_code.external_tools import ALERTMANAGER, NODE, PROMETHEUS, Tool, ToolMissingError, require
from monitoring import loopback
from monitoring.loopback import Compose, Endpoint, Plan, RenderError
from monitoring.tools import DEMO, JAEGER, OTELCOL
from tests.local_http import free_port

REPO = loopback.MONITORING.parent
RUN_DIR = REPO / ".cache" / "stack"
MARKER = "TIKTICKETS_LOCAL_STACK"
"""Set, to the run folder, in the environment of every process the stack starts (and so of theirs)."""

COLLECTOR, JAEGER_SERVICE, PROMETHEUS_SERVICE = "otel-collector", "jaeger", loopback.PROMETHEUS
LOKI, GRAFANA, DEMO_SERVICE = "loki", "grafana", "demo"
ALERTMANAGER_SERVICE = loopback.ALERTMANAGER
SERVICES = (LOKI, JAEGER_SERVICE, ALERTMANAGER_SERVICE, PROMETHEUS_SERVICE, GRAFANA, COLLECTOR)
"""The compose services that listen, in start order: what a program sends to is up before it."""

COLLECTOR_HEALTH = Endpoint(COLLECTOR, 13133)
COLLECTOR_OTLP_GRPC, COLLECTOR_OTLP_HTTP = Endpoint(COLLECTOR, 4317), Endpoint(COLLECTOR, 4318)
COLLECTOR_EXPORTER = Endpoint(COLLECTOR, 8889)
JAEGER_HEALTH, JAEGER_QUERY = Endpoint(JAEGER_SERVICE, 13133), Endpoint(JAEGER_SERVICE, 16686)
LOKI_HTTP, GRAFANA_HTTP = Endpoint(LOKI, 3100), Endpoint(GRAFANA, 3000)
PROMETHEUS_HTTP = Endpoint(PROMETHEUS_SERVICE, loopback.PROMETHEUS_PORT)
ALERTMANAGER_HTTP = Endpoint(ALERTMANAGER_SERVICE, loopback.ALERTMANAGER_PORT)

GRAFANA_STAND_IN_USER, GRAFANA_STAND_IN_PASSWORD = "admin", "admin-password"
"""tests/grafana_server's admin login: a stand-in on 127.0.0.1, no real credential."""

LOKI_RETENTION = 3 * 3600
"""Seconds of logs the Loki stand-in keeps in memory: the dashboards' ranges and `doctor`'s look-back
(6 h at most for a log panel's lines) mostly fit, and memory stays bounded on a long run."""
READY_SECONDS = 120.0
"""How long one program may take to answer its health endpoint (a loaded 2-core machine included)."""
STOP_SECONDS = 15.0
"""How long one program may take to exit after SIGTERM before its group gets SIGKILL."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    """The stack cannot start or a program failed; the message says which and what to do."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class _StopRequestedError(Exception):
    pass


@dataclass
class Program:
    service: str
    title: str
    argv: list[str]
    env: dict[str, str]
    ready: str | None
    """A URL that answers 2xx once the program serves; None: started is enough (the demo)."""
    address: str
    what: str
    cwd: Path = REPO
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def _tool(tool: Tool) -> str:
    try:
        return require(tool, REPO)
    except ToolMissingError as missing:
        raise StackError(f"error: {missing}") from None


def program_version(binary: str, *arguments: str) -> str:
    """The first x.y.z a program prints about itself, or "": shown in the banner and in the benchmarks'
    results, never relied on."""
    try:
        result = subprocess.run([binary, *arguments], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    found = re.search(r"\d+\.\d+\.\d+", result.stdout + result.stderr)
    return found.group(0) if found else ""


def _image_tag(compose: Compose, service: str) -> str:
    """The release compose pins, for a program built without a version of its own (Jaeger from its Go
    module prints none; tests/e2e/test_collector_build.py holds the pin and the image together)."""
    return str(compose.service(service).get("image", "")).rpartition(":")[2]


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def _free_port(_: Endpoint) -> int:
    """A free port below the kernel's ephemeral range: the test servers' picker, one rule for both."""
    return free_port()


def make_plan(compose: Compose, run_dir: Path, *, free: bool) -> Plan:
    """Ports for every listener: compose's published ones (refused by name if busy) or free ones."""
    plan = loopback.plan(compose, SERVICES, run_dir, pick=_free_port, published=not free)
    if not free:
        busy = []
        for endpoint, port in sorted(plan.ports.items()):
            if port in compose.published(endpoint.service).values() and not _bindable(port):
                busy.append(
                    f"  127.0.0.1:{port} ({endpoint.service}'s port {endpoint.port}, as compose publishes it)"
                )
        if busy:
            raise StackError(
                "error: these ports are in use on 127.0.0.1:\n"
                + "\n".join(busy)
                + "\nStop what holds them (`ss -ltnp` names it; a compose stack that is up, or another "
                "`make stack`), or run `make stack STACK_PORTS=free` to take free ports (printed at start)."
            )
    return plan


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((loopback.LOOPBACK, port))
        except OSError:
            return False
    return True


def _base_environment() -> dict[str, str]:
    """This process's environment without OTEL_*: the programs get only the settings rendered here."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}


def programs(
    compose: Compose, plan: Plan, *, demo: bool = True, demo_settings: Mapping[str, str] | None = None
) -> list[Program]:
    """What `make stack` runs, in start order, rendered for `plan`; writes the rendered files.
    `demo_settings` (DEMO_TENANTS=..., DEMO_RPS=...) win over this process's environment for the demo:
    a script that runs the stack at a given size sets them without changing its own environment."""
    run_dir = plan.run_dir
    base = _base_environment()
    collector, jaeger, prometheus = _tool(OTELCOL), _tool(JAEGER), _tool(PROMETHEUS)
    alertmanager = _tool(ALERTMANAGER)
    prometheus_yml = loopback.render_prometheus(compose, plan)
    alertmanager_yml = loopback.render_alertmanager(compose, plan)
    collector_env = loopback.config_environment(compose, COLLECTOR, plan)
    jaeger_env = loopback.config_environment(compose, JAEGER_SERVICE, plan)
    _write_env(run_dir / "otel-collector.env", collector_env)
    _write_env(run_dir / "jaeger.env", jaeger_env)
    stand_in = [sys.executable, "-m", "monitoring.stand_ins"]
    python_env = {**base, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH")]))}
    found = [
        Program(
            LOKI,
            "Loki",
            [
                *stand_in,
                "loki",
                "--port",
                str(plan.port(LOKI, LOKI_HTTP.port)),
                "--retention",
                str(LOKI_RETENTION),
            ],
            python_env,
            f"{plan.url(LOKI, LOKI_HTTP.port)}/ready",
            plan.url(LOKI, LOKI_HTTP.port),
            f"stand-in (not Loki): tests/loki_server in memory, last {LOKI_RETENTION // 3600} h; "
            "OTLP logs in, the LogQL the dashboards use out",
        ),
        Program(
            JAEGER_SERVICE,
            "Jaeger",
            [jaeger, *loopback.host_command(compose, JAEGER_SERVICE, plan)],
            {**base, **jaeger_env},
            f"{plan.url(JAEGER_SERVICE, JAEGER_HEALTH.port)}/status",
            plan.url(JAEGER_SERVICE, JAEGER_QUERY.port),
            f"Jaeger {program_version(jaeger, 'version') or _image_tag(compose, JAEGER_SERVICE)} "
            f"({_relative(Path(jaeger))}), "
            "monitoring/jaeger/config.yaml; query API /api/traces (the UI is a placeholder page in a "
            "build from Go modules)",
        ),
        Program(
            ALERTMANAGER_SERVICE,
            "Alertmanager",
            [alertmanager, *loopback.alertmanager_command(compose, plan, alertmanager_yml)],
            base,
            f"{plan.url(ALERTMANAGER_SERVICE, ALERTMANAGER_HTTP.port)}/-/ready",
            plan.url(ALERTMANAGER_SERVICE, ALERTMANAGER_HTTP.port),
            f"Alertmanager {program_version(alertmanager, '--version')} ({_relative(Path(alertmanager))}), "
            f"{_relative(alertmanager_yml)} (rendered); the receivers' URLs are read from "
            "monitoring/alertmanager/secrets/ (without them a notification fails, and is counted)",
        ),
        Program(
            PROMETHEUS_SERVICE,
            "Prometheus",
            [prometheus, *loopback.prometheus_command(compose, plan, prometheus_yml)],
            base,
            f"{plan.url(PROMETHEUS_SERVICE, PROMETHEUS_HTTP.port)}/-/ready",
            plan.url(PROMETHEUS_SERVICE, PROMETHEUS_HTTP.port),
            f"Prometheus {program_version(prometheus, '--version')} ({_relative(Path(prometheus))}), "
            f"{_relative(prometheus_yml)} (rendered) and monitoring/prometheus/rules/",
        ),
        Program(
            GRAFANA,
            "Grafana",
            [*stand_in, "grafana", "--port", str(plan.port(GRAFANA, GRAFANA_HTTP.port))],
            python_env,
            f"{plan.url(GRAFANA, GRAFANA_HTTP.port)}/api/health",
            plan.url(GRAFANA, GRAFANA_HTTP.port),
            "stand-in (not Grafana): tests/grafana_server, the HTTP API push/diff/pull use; no UI, "
            "draws nothing, starts empty",
        ),
        Program(
            COLLECTOR,
            "OpenTelemetry Collector",
            [collector, *loopback.host_command(compose, COLLECTOR, plan)],
            {**base, **collector_env},
            f"{plan.url(COLLECTOR, COLLECTOR_HEALTH.port)}/",
            f"OTLP {plan.url(COLLECTOR, COLLECTOR_OTLP_HTTP.port)} (HTTP), "
            f"{plan.address(COLLECTOR, COLLECTOR_OTLP_GRPC.port)} (gRPC)",
            f"Collector {program_version(collector, '--version')} ({_relative(Path(collector))}), "
            f"monitoring/otel-collector/config.yaml; Prometheus scrapes "
            f"{plan.address(COLLECTOR, COLLECTOR_EXPORTER.port)}",
        ),
    ]
    if demo:
        node, script = _tool(NODE), _tool(DEMO)
        settings = dict(demo_settings or {})
        demo_env = loopback.service_environment(compose, DEMO_SERVICE, plan, {**os.environ, **settings})
        _write_env(run_dir / "demo.env", demo_env)
        shown = ", ".join(f"{k}={v}" for k, v in demo_env.items() if k.startswith("DEMO_"))
        found.append(
            Program(
                DEMO_SERVICE,
                "demo",
                [node, script],
                {**base, **settings, **demo_env},  # DEMO_DURATION and the other DEMO_* pass through
                None,
                f"-> {demo_env.get('OTEL_EXPORTER_OTLP_ENDPOINT', '')}",
                f"monitoring/demo/demo.js on the OpenTelemetry Node.js SDK "
                f"(node {program_version(node, '--version')}); {shown}",
            )
        )
    return found


def _write_env(path: Path, environment: Mapping[str, str]) -> None:
    """The rendered `${env:...}` values, for the curious: the programs get them from the environment."""
    path.write_text("".join(f"{k}={v}\n" for k, v in environment.items()), encoding="utf-8")


def _die_with_parent(parent: int) -> Callable[[], None]:
    """Runs in the child before exec: SIGTERM when the stack's process dies; signals unblocked."""

    def prepare() -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the stack died between fork and prctl
            os._exit(1)

    return prepare


@contextmanager
def _signals_blocked() -> Iterator[None]:
    """No stop signal between a program's start and its being recorded (it could not be stopped)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _start(program: Program, run_dir: Path) -> None:
    log = (run_dir / f"{program.service}.log").open("wb")
    with log, _signals_blocked():
        program.process = subprocess.Popen(
            program.argv,
            cwd=program.cwd,
            env={**program.env, MARKER: str(run_dir)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # The stack starts programs from its only thread, and prepare() makes two system calls.
            preexec_fn=_die_with_parent(os.getpid()),  # noqa: PLW1509
        )


def _tail(run_dir: Path, program: Program, lines: int = 25) -> str:
    try:
        text = (run_dir / f"{program.service}.log").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(f"  | {line}" for line in text.splitlines()[-lines:])


def _wait_ready(program: Program, run_dir: Path) -> None:
    assert program.process is not None and program.ready is not None
    deadline = time.monotonic() + READY_SECONDS
    while True:
        code = program.process.poll()
        if code is not None:
            raise StackError(
                f"error: {program.title} exited with {code} while starting; the end of "
                f"{_relative(run_dir / (program.service + '.log'))}:\n{_tail(run_dir, program)}",
                1,
            )
        try:
            with urllib.request.urlopen(program.ready, timeout=5):
                return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise StackError(
                f"error: {program.title} did not answer {program.ready} within {READY_SECONDS:g} s; the end "
                f"of its log:\n{_tail(run_dir, program)}",
                1,
            )
        time.sleep(0.25)


def _stop(running: list[Program], out: IO[str]) -> None:
    """SIGTERM to each program's group, last started first; SIGKILL to a group still there after
    STOP_SECONDS. Then every group is gone: a child a program left behind is ended with it."""
    for program in reversed(running):
        process = program.process
        if process is None:
            continue
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                print(f"{program.title} did not stop within {STOP_SECONDS:g} s: killed", file=out, flush=True)
        _signal_group(process.pid, signal.SIGKILL)  # anything left in its group (it led the group)
        process.wait()


@contextmanager
def started(found: list[Program], run_dir: Path, out: IO[str]) -> Iterator[list[Program]]:
    """`found` running, started in order as `make stack` starts them (each one answering its health
    endpoint before the next starts, a failure raising StackError with its log), and all stopped on
    leaving, last started first. For a script that drives the stack itself (bench/hub_at_scale.py);
    `run` keeps its own loop because it also turns Ctrl-C into an orderly stop."""
    running: list[Program] = []
    try:
        for program in found:
            _start(program, run_dir)
            running.append(program)
            if program.ready is not None:
                _wait_ready(program, run_dir)
        yield running
    finally:
        _stop(running, out)


def _signal_group(group: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(group, sig)


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise _StopRequestedError(signal.Signals(signum).name)


@contextmanager
def _run_lock(run_dir: Path) -> Iterator[None]:
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "stack.lock").open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise StackError(
                f"error: a local stack already runs from {_relative(run_dir)} (pid {holder}); "
                "stop it with Ctrl-C, or give this one another --run-dir"
            ) from None
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        yield


def _table(running: list[Program]) -> str:
    rows = [("service", "address", "what runs")] + [(p.title, p.address, p.what) for p in running]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return "\n".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows)


def exports(plan: Plan) -> list[str]:
    """The shell lines that point `doctor`, `push` and `diff` at this stack."""
    return [
        f"export PROMETHEUS_URL={plan.url(PROMETHEUS_SERVICE, PROMETHEUS_HTTP.port)} "
        f"LOKI_URL={plan.url(LOKI, LOKI_HTTP.port)}",
        f"export GRAFANA_URL={plan.url(GRAFANA, GRAFANA_HTTP.port)} GRAFANA_USER={GRAFANA_STAND_IN_USER} "
        f"GRAFANA_PASSWORD={GRAFANA_STAND_IN_PASSWORD}",
    ]


def run(run_dir: Path, *, free: bool, demo: bool, out: IO[str]) -> int:
    compose = Compose()
    running: list[Program] = []
    previous = {sig: signal.signal(sig, _raise_stop) for sig in STOP_SIGNALS}
    try:
        with _run_lock(run_dir):
            plan = make_plan(compose, run_dir, free=free)
            for program in programs(compose, plan, demo=demo):
                _start(program, run_dir)
                running.append(program)
                if program.ready is not None:
                    _wait_ready(program, run_dir)
            _write_state(run_dir, plan, running)
            print(_announcement(run_dir, plan, running), file=out, flush=True)
            while True:
                for program in running:
                    assert program.process is not None
                    code = program.process.poll()
                    if code is not None:
                        raise StackError(
                            f"error: {program.title} exited with {code}; the end of its log:\n"
                            f"{_tail(run_dir, program)}\nstopping the others.",
                            1,
                        )
                time.sleep(0.5)
    except _StopRequestedError as stop:
        print(f"\n{stop}: stopping {len(running)} program(s)...", file=out, flush=True)
        code = 0
    except (StackError, RenderError) as error:
        print(str(error), file=sys.stderr, flush=True)
        code = error.code if isinstance(error, StackError) else 2
    finally:
        for sig in STOP_SIGNALS:  # a second Ctrl-C must not cut the stop short and leave programs behind
            signal.signal(sig, signal.SIG_IGN)
        _stop(running, out)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if running:
        print(f"stopped; logs and data are in {_relative(run_dir)}/", file=out, flush=True)
    return code


def _write_state(run_dir: Path, plan: Plan, running: list[Program]) -> None:
    """stack.json: the ports and process ids of this run, for scripts (a test reads it)."""
    state = {
        "pid": os.getpid(),
        "ports": {str(endpoint): port for endpoint, port in sorted(plan.ports.items())},
        "programs": {p.service: p.process.pid for p in running if p.process is not None},
    }
    (run_dir / "stack.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def _announcement(run_dir: Path, plan: Plan, running: list[Program]) -> str:
    folder = _relative(run_dir)
    lines = [
        f"TikTickets local stack on 127.0.0.1, no containers; logs, rendered configs and data in {folder}/",
        "",
        _table(running),
        "",
        "# doctor (the Overview fills within about a minute: 15 s scrapes, rules every 30 s):",
        exports(plan)[0],
        ".venv/bin/python build.py doctor",
        "# push/diff against the Grafana stand-in (not Grafana; it starts empty, push fills it):",
        exports(plan)[1],
        ".venv/bin/python build.py diff; .venv/bin/python build.py push",
        f"# your own backend: OTEL_EXPORTER_OTLP_ENDPOINT={plan.url(COLLECTOR, COLLECTOR_OTLP_HTTP.port)}",
        f"Ctrl-C stops everything (the demo's status lines: tail -f {folder}/demo.log).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m monitoring.local_stack", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument(
        "--ports",
        choices=("compose", "free"),
        default="compose",
        help="compose: the compose file's published ports on 127.0.0.1 (the default); free: free ports",
    )
    parser.add_argument("--run-dir", type=Path, default=RUN_DIR, help="rendered configs, logs and data")
    parser.add_argument("--no-demo", action="store_true", help="start no demo (send your own telemetry)")
    options = parser.parse_args(argv)
    return run(
        options.run_dir.resolve(), free=options.ports == "free", demo=not options.no_demo, out=sys.stdout
    )


if __name__ == "__main__":
    raise SystemExit(main())
