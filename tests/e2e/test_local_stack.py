"""`make stack`, on free ports: the real Collector, Prometheus 3 and Jaeger v2 with the committed configs
rendered for loopback, the Loki and Grafana stand-ins, and the demo, as the make target starts them
(`python -m monitoring.local_stack`, the target's command, with `--ports free` and a run folder of
the test's own).

What a user does with it is what is checked: the `export` lines it prints point `doctor` at a stack
whose Prometheus panels are all ok once the demo's data has arrived (the panel list comes from the
loaded project), `diff` and `push` work against the Grafana stand-in, the printed table says which
services are stand-ins, and Ctrl-C (SIGINT) leaves no process behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from config import OVERVIEW_UID
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.external_tools import ALERTMANAGER, NODE, PROMETHEUS
from dashboards_as_code.render.documents import build_documents
from monitoring import local_stack
from monitoring.loopback import Compose
from monitoring.tools import DEMO, JAEGER, OTELCOL
from tests.conftest import REPO
from tests.doctor.stack import Doctor, run_doctor
from tests.tooling import require_tool

STARTED = "Ctrl-C stops everything"
"""The last line `make stack` prints once every program is up."""
START_SECONDS = 300.0
DATA_SECONDS = 300.0
"""From the start to every Overview panel ok: 15 s scrapes, rules every 30 s, on a shared 2-core machine."""


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    run_dir: Path
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def exports(self) -> dict[str, str]:
        """NAME=value of every `export` line printed, as a shell that ran them would have them."""
        found = {}
        for line in self.lines:
            if line.startswith("export "):
                for assignment in line.removeprefix("export ").split():
                    name, _, value = assignment.partition("=")
                    found[name] = value
        return found


def _read(stack: RunningStack) -> None:
    assert stack.process.stdout is not None
    for line in stack.process.stdout:
        stack.lines.append(line.rstrip("\n"))


def _marked_processes(run_dir: Path) -> list[str]:
    """Every process whose environment carries the stack's marker for this run folder."""
    marker = f"{local_stack.MARKER}={run_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker in environ:
            found.append(f"{entry.name}: {command}")
    return found


def _stop(stack: RunningStack) -> int:
    """Ctrl-C, as a terminal sends it to the foreground process; the exit code."""
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
    return stack.process.wait(timeout=180)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    for tool in (OTELCOL, JAEGER, PROMETHEUS, ALERTMANAGER, NODE, DEMO):
        require_tool(tool)
    run_dir = tmp_path_factory.mktemp("local-stack") / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "monitoring.local_stack", "--ports", "free", "--run-dir", str(run_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # as a terminal's job: Ctrl-C reaches it, not the test runner
    )
    running = RunningStack(process, run_dir)
    reader = threading.Thread(target=_read, args=(running,), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not any(line.startswith(STARTED) for line in running.lines):
            assert process.poll() is None, f"make stack exited with {process.returncode}:\n{running.output}"
            assert time.monotonic() < deadline, (
                f"make stack did not start in {START_SECONDS:g} s:\n{running.output}"
            )
            time.sleep(0.5)
        yield running
    finally:
        if process.poll() is None:
            _stop(running)
        reader.join(timeout=10)


def _query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    url = f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return list(json.loads(response.read())["data"]["result"])


def _prometheus_panels() -> set[str]:
    """The Overview's panels with a Prometheus query, from the loaded project (nested ones included)."""
    documents = build_documents(load_project(REPO))
    (overview,) = [board for board in documents.dashboards if board.uid == OVERVIEW_UID]
    panels = []
    for panel in overview.document["panels"]:
        panels += [panel, *(panel.get("panels") or [])]
    return {
        str(panel["title"])
        for panel in panels
        if any(t["datasource"]["type"] == "prometheus" for t in panel.get("targets", []))
    }


def _not_ok(doctor: Doctor, titles: set[str]) -> dict[str, Any]:
    reports = {r["panel"]: r for r in doctor.reports if r["dashboard"] == OVERVIEW_UID}
    return {
        title: reports.get(title, "no report")
        for title in titles
        if reports.get(title, {}).get("status") != "ok"
    }


def test_the_printed_table_names_each_stand_in_and_each_real_program(stack: RunningStack) -> None:
    rows = {line.split("  ")[0]: line for line in stack.lines}
    assert "stand-in (not Loki)" in rows["Loki"] and "stand-in (not Grafana)" in rows["Grafana"]
    for real in ("Prometheus", "Jaeger", "OpenTelemetry Collector", "demo"):
        assert "stand-in" not in rows[real], rows[real]
    ports = json.loads((stack.run_dir / "stack.json").read_text())["ports"]
    assert f"http://127.0.0.1:{ports['prometheus:9090']}" in rows["Prometheus"]
    assert f"http://127.0.0.1:{ports['otel-collector:4318']}" in rows["OpenTelemetry Collector"]


def test_prometheus_sends_its_alerts_to_the_alertmanager_of_the_stack(stack: RunningStack) -> None:
    """The committed `alerting:` section, rendered for loopback, names the Alertmanager this stack runs,
    and Prometheus has discovered it (its /api/v1/alertmanagers lists it as active), so a firing alert
    reaches it; that Alertmanager is up with the generated routing."""
    ports = json.loads((stack.run_dir / "stack.json").read_text())["ports"]
    alertmanager = f"http://127.0.0.1:{ports['alertmanager:9093']}"
    prometheus = f"http://127.0.0.1:{ports['prometheus:9090']}"
    deadline = time.monotonic() + 60
    active: list[str] = []
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{prometheus}/api/v1/alertmanagers", timeout=10) as response:
            active = [a["url"] for a in json.loads(response.read())["data"]["activeAlertmanagers"]]
        if active:
            break
        time.sleep(1)
    assert active == [f"{alertmanager}/api/v2/alerts"]
    with urllib.request.urlopen(f"{alertmanager}/api/v2/status", timeout=10) as response:
        status = json.loads(response.read())
    assert "receiver: page" in status["config"]["original"], "not the generated routing"


def test_doctor_finds_every_prometheus_panel_of_the_overview_ok(stack: RunningStack) -> None:
    exports = stack.exports()
    environment = {"PROMETHEUS_URL": exports["PROMETHEUS_URL"], "LOKI_URL": exports["LOKI_URL"]}
    titles = _prometheus_panels()
    assert titles
    deadline = time.monotonic() + DATA_SECONDS
    while not _query(exports["PROMETHEUS_URL"], "sum(traces_span_metrics_calls_total)"):
        assert time.monotonic() < deadline, "the demo's span metrics never reached Prometheus"
        time.sleep(2)
    while True:  # the rules run every 30 s: the recorded series follow the raw ones
        doctor = run_doctor(environment)
        not_ok = _not_ok(doctor, titles)
        if not not_ok:
            break
        assert time.monotonic() < deadline, f"not ok after {DATA_SECONDS:g} s: {json.dumps(not_ok, indent=1)}"
        time.sleep(5)


def test_diff_and_push_against_the_grafana_stand_in(stack: RunningStack) -> None:
    exports = stack.exports()
    grafana = {name: exports[name] for name in ("GRAFANA_URL", "GRAFANA_USER", "GRAFANA_PASSWORD")}

    def command(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(REPO / "build.py"), *arguments],
            env={**os.environ, **grafana},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    before = command("diff")
    assert before.returncode == 1, before.stdout + before.stderr  # the stand-in starts empty
    pushed = command("push")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    after = command("diff")
    assert after.returncode == 0, after.stdout + after.stderr


def test_ctrl_c_stops_every_process_it_started(stack: RunningStack) -> None:
    programs = json.loads((stack.run_dir / "stack.json").read_text())["programs"]
    assert set(programs) == {
        "loki",
        "jaeger",
        "alertmanager",
        "prometheus",
        "grafana",
        "otel-collector",
        "demo",
    }
    assert len(_marked_processes(stack.run_dir)) >= len(programs)  # the marker finds them while they run
    assert _stop(stack) == 0, stack.output
    assert _marked_processes(stack.run_dir) == []
    for service, pid in programs.items():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # signal 0: only asks whether the process exists
            pytest.fail(f"{service} (pid {pid}) is still running")


def test_a_busy_compose_port_is_named_with_the_way_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compose = Compose()
    published = sorted(
        {port for service in local_stack.SERVICES for port in compose.published(service).values()}
    )
    with socket.socket() as holder:
        for port in published:
            try:
                holder.bind(("127.0.0.1", port))
                break
            except OSError:
                continue
        else:
            pytest.fail(f"every published port is busy here: {published}")
        holder.listen()
        code = local_stack.run(tmp_path / "run", free=False, demo=False, out=sys.stdout)
    error = capsys.readouterr().err
    assert code == 2
    assert f"127.0.0.1:{port} " in error and "make stack STACK_PORTS=free" in error, error
    assert not list((tmp_path / "run").glob("*.log")), "a program was started"


def test_make_stack_runs_the_command_these_tests_start() -> None:
    """The target's recipe is `python -m monitoring.local_stack`, which the fixture above starts."""
    commands = subprocess.run(
        ["make", "--no-print-directory", "-n", "stack", "STACK_PORTS=free"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert commands[-1] == ".venv/bin/python -m monitoring.local_stack --ports free", commands
