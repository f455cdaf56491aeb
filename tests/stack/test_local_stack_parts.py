"""monitoring/local_stack.py's parts in-process, without its programs: the busy-port message, the lock
that keeps a second `make stack` out, the shell lines and the table it prints, stack.json, a program
that dies while starting, the version shown, what the programs' environment leaves out."""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest
import yaml

from monitoring import local_stack
from monitoring.local_stack import Program, StackError
from monitoring.loopback import Compose, Endpoint, Plan
from tests.local_http import free_port


def plan_at(run_dir: Path) -> Plan:
    ports = {
        Endpoint("prometheus", 9090): 19090,
        Endpoint("loki", 3100): 13100,
        Endpoint("grafana", 3000): 13001,
        Endpoint("otel-collector", 4318): 14318,
    }
    return Plan(ports, run_dir)


def test_the_exports_point_doctor_push_and_diff_at_this_stack(tmp_path: Path) -> None:
    assert local_stack.exports(plan_at(tmp_path)) == [
        "export PROMETHEUS_URL=http://127.0.0.1:19090 LOKI_URL=http://127.0.0.1:13100",
        "export GRAFANA_URL=http://127.0.0.1:13001 GRAFANA_USER=admin GRAFANA_PASSWORD=admin-password",
    ]


def program(service: str, title: str, address: str, what: str, argv: list[str] | None = None) -> Program:
    return Program(service, title, argv or ["true"], {}, None, address, what)


def test_the_table_aligns_titles_and_addresses_under_a_header() -> None:
    table = local_stack._table(
        [
            program("loki", "Loki", "http://127.0.0.1:3100", "stand-in"),
            program("otel-collector", "OpenTelemetry Collector", "OTLP x", "Collector 0.1"),
        ]
    )
    assert table.splitlines() == [
        "service                  address                what runs",
        "Loki                     http://127.0.0.1:3100  stand-in",
        "OpenTelemetry Collector  OTLP x                 Collector 0.1",
    ]
    narrow = local_stack._table([program("demo", "demo", "-> x", "node")])
    assert narrow.splitlines() == ["service  address  what runs", "demo     -> x     node"]


def test_the_announcement_names_the_folder_the_exports_and_the_collector(tmp_path: Path) -> None:
    plan = plan_at(tmp_path)
    text = local_stack._announcement(tmp_path, plan, [program("loki", "Loki", "a", "b")])
    lines = text.splitlines()
    assert lines[0] == (
        f"TikTickets local stack on 127.0.0.1, no containers; logs, rendered configs and data in {tmp_path}/"
    )
    assert local_stack.exports(plan)[0] in lines and local_stack.exports(plan)[1] in lines
    assert lines.index(local_stack.exports(plan)[0]) < lines.index(".venv/bin/python build.py doctor")
    assert "# your own backend: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:14318" in lines
    assert lines[-1] == f"Ctrl-C stops everything (the demo's status lines: tail -f {tmp_path}/demo.log)."


def test_a_folder_inside_the_repository_is_shown_relative_to_it(tmp_path: Path) -> None:
    assert local_stack._relative(local_stack.REPO / ".cache" / "stack") == ".cache/stack"
    assert local_stack._relative(tmp_path) == str(tmp_path)


def test_stack_json_holds_this_process_the_ports_and_each_programs_pid(tmp_path: Path) -> None:
    first = program("loki", "Loki", "a", "b", [sys.executable, "-c", "pass"])
    second = program("jaeger", "Jaeger", "a", "b", [sys.executable, "-c", "pass"])
    for started in (first, second):
        local_stack._start(started, tmp_path)
        assert started.process is not None
        started.process.wait(timeout=30)
    assert first.process is not None and second.process is not None
    not_started = program("demo", "demo", "a", "b")
    local_stack._write_state(tmp_path, plan_at(tmp_path), [first, second, not_started])
    state = json.loads((tmp_path / "stack.json").read_text())
    assert state["pid"] == os.getpid()
    assert state["programs"] == {"loki": first.process.pid, "jaeger": second.process.pid}
    assert state["ports"] == {
        "grafana:3000": 13001,
        "loki:3100": 13100,
        "otel-collector:4318": 14318,
        "prometheus:9090": 19090,
    }
    assert list(state["ports"]) == sorted(state["ports"])


def test_every_program_is_started_with_the_marker_and_its_output_in_its_log(tmp_path: Path) -> None:
    code = "import os; print('marker', os.environ['TIKTICKETS_LOCAL_STACK'])"
    running = program("jaeger", "Jaeger", "a", "b", [sys.executable, "-c", code])
    local_stack._start(running, tmp_path)
    assert running.process is not None and running.process.wait(timeout=30) == 0
    assert (tmp_path / "jaeger.log").read_text() == f"marker {tmp_path}\n"


def test_a_program_that_exits_while_starting_names_its_code_and_shows_its_last_lines(tmp_path: Path) -> None:
    code = "import sys; [print('line', n) for n in range(30)]; sys.exit(3)"
    failing = Program(
        "loki", "Loki", [sys.executable, "-c", code], {}, f"http://127.0.0.1:{free_port()}/ready", "a", "b"
    )
    local_stack._start(failing, tmp_path)
    with pytest.raises(StackError) as raised:
        local_stack._wait_ready(failing, tmp_path)
    message = str(raised.value)
    assert raised.value.code == 1
    assert message.startswith(f"error: Loki exited with 3 while starting; the end of {tmp_path}/loki.log:\n")
    shown = message.split(":\n", 1)[1].splitlines()
    assert shown == [f"  | line {n}" for n in range(5, 30)]  # the last 25 lines


def test_a_second_stack_in_the_same_folder_is_refused_naming_the_first(tmp_path: Path) -> None:
    (tmp_path / "stack.lock").write_text("99999")  # left by a stack that was killed: no lock held
    with local_stack._run_lock(tmp_path):
        with pytest.raises(StackError) as raised, local_stack._run_lock(tmp_path):
            pass
        assert (tmp_path / "stack.lock").read_text() == str(os.getpid())
    assert str(raised.value) == (
        f"error: a local stack already runs from {tmp_path} (pid {os.getpid()}); stop it with "
        "Ctrl-C, or give this one another --run-dir"
    )
    assert raised.value.code == 2
    with local_stack._run_lock(tmp_path):  # the first one gone, the folder is free again
        pass


def compose_with_ports(tmp_path: Path, ports: dict[str, list[str]]) -> Compose:
    services = {name: {"ports": ports.get(name, [])} for name in local_stack.SERVICES}
    (tmp_path / "compose.yml").write_text(yaml.safe_dump({"services": services}))
    return Compose(tmp_path / "compose.yml")


def test_every_busy_compose_port_is_named_with_the_way_out(tmp_path: Path) -> None:
    held = [socket.socket(), socket.socket()]
    try:
        numbers = []
        for probe in held:
            probe.bind(("127.0.0.1", 0))
            probe.listen(1)
            numbers.append(probe.getsockname()[1])
        free = free_port()
        compose = compose_with_ports(
            tmp_path,
            {
                "grafana": [f"127.0.0.1:{numbers[0]}:3000"],
                "loki": [f"{numbers[1]}:3100"],
                "jaeger": [f"{free}:16686"],
            },
        )
        with pytest.raises(StackError) as raised:
            local_stack.make_plan(compose, tmp_path, free=False)
        # With free ports nothing is refused: none of them is a compose port.
        free_plan = local_stack.make_plan(compose, tmp_path, free=True)
    finally:
        for probe in held:
            probe.close()
    lines = str(raised.value).splitlines()
    assert lines[0] == "error: these ports are in use on 127.0.0.1:"
    assert sorted(lines[1:3]) == sorted(
        [
            f"  127.0.0.1:{numbers[0]} (grafana's port 3000, as compose publishes it)",
            f"  127.0.0.1:{numbers[1]} (loki's port 3100, as compose publishes it)",
        ]
    )
    assert f"{free}" not in str(raised.value)
    assert "`ss -ltnp`" in lines[3] and "`make stack STACK_PORTS=free`" in lines[3]
    assert raised.value.code == 2
    assert set(free_plan.ports.values()).isdisjoint(numbers)


def _port_left_in_time_wait() -> int:
    """A 127.0.0.1 port nothing listens on whose last connection is in TIME_WAIT: the server side
    closed first, as a program that stops does (Grafana's port after `make stack` ends, a browser tab
    still open on it)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port: int = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()
    server.close()
    client.recv(1)
    client.close()
    return port


def test_a_port_left_in_time_wait_with_nothing_listening_is_not_refused_as_in_use(
    tmp_path: Path,
) -> None:
    """A compose port whose last connection is in TIME_WAIT is free: the programs bind with
    SO_REUSEADDR (as every server does), so the probe must too. Without it, `make stack` refuses
    "these ports are in use" for a minute after every stop although nothing listens there."""
    port = _port_left_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # the TIME_WAIT is there: a bind without the option fails
    compose = compose_with_ports(tmp_path, {"grafana": [f"127.0.0.1:{port}:3000"]})
    plan = local_stack.make_plan(compose, tmp_path, free=False)
    assert plan.ports[Endpoint("grafana", 3000)] == port


def test_the_programs_get_no_otel_setting_of_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://elsewhere:4318")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "mine")
    monkeypatch.setenv("NOT_OTEL_X", "kept")
    base = local_stack._base_environment()
    assert not [k for k in base if k.startswith("OTEL_")] and base["NOT_OTEL_X"] == "kept"


def test_the_version_shown_is_the_first_x_y_z_the_program_prints(tmp_path: Path) -> None:
    banner = "print('prometheus, version 3.5.0 (branch: HEAD, go: go1.24.1, platform: linux/amd64)')"
    assert local_stack.program_version(sys.executable, "-c", banner) == "3.5.0"
    on_stderr = "import sys; print('otelcol-contrib version 0.129.1', file=sys.stderr)"
    assert local_stack.program_version(sys.executable, "-c", on_stderr) == "0.129.1"
    assert local_stack.program_version(sys.executable, "-c", "print('dev build 2')") == ""
    assert local_stack.program_version(str(tmp_path / "missing")) == ""


def test_a_program_without_a_version_shows_the_release_compose_pins(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text(
        yaml.safe_dump(
            {"services": {"jaeger": {"image": "cr.example:5000/jaegertracing/jaeger:2.8.0"}, "x": {}}}
        )
    )
    compose = Compose(tmp_path / "compose.yml")
    assert local_stack._image_tag(compose, "jaeger") == "2.8.0"
    assert local_stack._image_tag(compose, "x") == ""


def test_a_program_that_ignores_sigterm_is_killed_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_stack, "STOP_SECONDS", 0.5)
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); "
        "time.sleep(60)"
    )
    stubborn = program("jaeger", "Jaeger", "a", "b", [sys.executable, "-c", code])
    local_stack._start(stubborn, tmp_path)
    log = tmp_path / "jaeger.log"
    for _ in range(200):
        if log.read_text():
            break
        time.sleep(0.05)
    out = io.StringIO()
    local_stack._stop([stubborn], out)
    assert out.getvalue() == "Jaeger did not stop within 0.5 s: killed\n"
    assert stubborn.process is not None and stubborn.process.returncode == -9


def test_the_rendered_environment_file_is_one_name_value_line_each(tmp_path: Path) -> None:
    local_stack._write_env(tmp_path / "x.env", {"A": "1", "B_HOST": "127.0.0.1"})
    assert (tmp_path / "x.env").read_text() == "A=1\nB_HOST=127.0.0.1\n"


@pytest.mark.parametrize("ports", ["all", "none"])
def test_ports_accepts_only_compose_or_free(ports: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        local_stack.main(["--ports", ports])
    assert raised.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
