"""`local_stack.started` and `programs(demo_settings=...)`: what a script that drives the stack itself
(bench/hub_at_scale.py) relies on. The programs here are Python sleepers, not the stack's; and the
Loki stand-in's retention, driven in-process through one forget cycle."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from dashboards_as_code.external_tools import NODE, PROMETHEUS
from monitoring import local_stack, stand_ins
from monitoring.loopback import Compose
from monitoring.tools import DEMO, JAEGER, OTELCOL
from tests.local_http import free_port
from tests.loki_server.server import LokiStore, loki_server
from tests.tooling import require_tool


def sleeper(
    service: str, ready: str | None = None, code: str = "import time; time.sleep(120)"
) -> local_stack.Program:
    return local_stack.Program(
        service, service, [sys.executable, "-c", code], dict(os.environ), ready, "", ""
    )


def test_every_program_runs_inside_and_is_stopped_on_leaving(tmp_path: Path) -> None:
    found = [sleeper("first"), sleeper("second")]
    with local_stack.started(found, tmp_path, io.StringIO()) as running:
        assert [p.service for p in running] == ["first", "second"]
        assert all(p.process is not None and p.process.poll() is None for p in running)
    assert all(p.process is not None and p.process.returncode is not None for p in found)


def test_a_program_that_fails_to_start_stops_those_already_running(tmp_path: Path) -> None:
    first = sleeper("first")
    failing = sleeper("failing", ready=f"http://127.0.0.1:{free_port()}/", code="raise SystemExit(3)")
    with (
        pytest.raises(local_stack.StackError, match="failing exited with 3"),
        local_stack.started([first, failing], tmp_path, io.StringIO()),
    ):
        pytest.fail("the block must not run when a program fails to start")
    assert first.process is not None and first.process.returncode is not None


def test_demo_settings_reach_the_demo_and_leave_this_environment_alone(tmp_path: Path) -> None:
    for tool in (OTELCOL, JAEGER, PROMETHEUS, NODE, DEMO):
        require_tool(tool)
    compose = Compose()
    plan = local_stack.make_plan(compose, tmp_path, free=True)
    before = dict(os.environ)
    found = local_stack.programs(compose, plan, demo_settings={"DEMO_TENANTS": "4321", "DEMO_DURATION": "7s"})
    (demo,) = [p for p in found if p.service == local_stack.DEMO_SERVICE]
    assert demo.env["DEMO_TENANTS"] == "4321" and demo.env["DEMO_DURATION"] == "7s"
    assert "DEMO_TENANTS=4321" in demo.what  # the banner shows what the demo runs with
    assert dict(os.environ) == before


def test_a_demo_setting_passed_in_wins_over_the_same_variable_exported_in_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script that asks for 10,000 tenants (bench/hub_at_scale.py) must get them even when the shell
    it runs in still exports DEMO_TENANTS=20 from an earlier `make demo`: what the caller passes is
    what it measures. A variable it does not pass still comes from the shell."""
    for tool in (OTELCOL, JAEGER, PROMETHEUS, NODE, DEMO):
        require_tool(tool)
    monkeypatch.setenv("DEMO_TENANTS", "20")
    monkeypatch.setenv("DEMO_RPS", "3")
    compose = Compose()
    plan = local_stack.make_plan(compose, tmp_path, free=True)
    found = local_stack.programs(compose, plan, demo_settings={"DEMO_TENANTS": "10000"})
    (demo,) = [p for p in found if p.service == local_stack.DEMO_SERVICE]
    assert demo.env["DEMO_TENANTS"] == "10000"
    assert "DEMO_TENANTS=10000" in demo.what and "DEMO_TENANTS=20" not in demo.what
    assert demo.env["DEMO_RPS"] == "3"


STOP_LOG = """
import signal, sys, time
def stopped(*_):
    with open(sys.argv[1], "a") as log:
        log.write(sys.argv[2] + "\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stopped)
open(sys.argv[1] + "." + sys.argv[2], "w").close()  # ready: the handler is set
time.sleep(120)
"""


def test_the_last_started_is_stopped_first(tmp_path: Path) -> None:
    """What started later sends to what started earlier (the demo to the Collector, the Collector to
    Prometheus, Jaeger and Loki): stopped first, its final flush still finds them listening. Each
    sleeper writes its name when SIGTERM reaches it; `_stop` waits for each before the next."""
    log = tmp_path / "stopped.txt"
    names = ["backends", "collector", "demo"]
    found = [
        local_stack.Program(
            name, name, [sys.executable, "-c", STOP_LOG, str(log), name], dict(os.environ), None, "", ""
        )
        for name in names
    ]
    with local_stack.started(found, tmp_path, io.StringIO()):
        deadline = time.monotonic() + 60
        while not all(Path(f"{log}.{name}").exists() for name in names) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert log.read_text().split() == list(reversed(names))


def test_the_stand_ins_come_from_this_repository_whatever_pythonpath_the_shell_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Loki and Grafana stand-ins run as `python -m monitoring.stand_ins`: a `monitoring` package on
    the user's own PYTHONPATH (another project's) must not be the one started, yet their path is kept."""
    for tool in (OTELCOL, JAEGER, PROMETHEUS):
        require_tool(tool)
    other = tmp_path / "other"
    (other / "monitoring").mkdir(parents=True)
    (other / "monitoring" / "__init__.py").write_text("")
    (other / "monitoring" / "stand_ins.py").write_text("raise SystemExit('the wrong stand-ins')\n")
    monkeypatch.setenv("PYTHONPATH", str(other))
    compose = Compose()
    plan = local_stack.make_plan(compose, tmp_path / "run", free=True)
    found = local_stack.programs(compose, plan, demo=False)
    stand_ins = [p for p in found if "monitoring.stand_ins" in p.argv]
    assert {p.service for p in stand_ins} == {"loki", "grafana"}
    for program in stand_ins:
        assert program.env["PYTHONPATH"].split(os.pathsep) == [str(local_stack.REPO), str(other)]
        imported = subprocess.run(
            [sys.executable, "-c", "import monitoring.stand_ins as s; print(s.__file__)"],
            env=program.env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert imported.stdout.strip() == str(local_stack.REPO / "monitoring" / "stand_ins.py"), imported


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (a container's init may be slow to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def test_a_program_ends_when_the_stack_itself_is_killed(tmp_path: Path) -> None:
    """`kill -9` of `make stack` (or an out-of-memory kill) leaves it no chance to stop its programs:
    each one still gets SIGTERM from the kernel when the stack's process dies, so no Prometheus or
    Collector is left holding the ports for the next `make stack`."""
    parent_code = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from monitoring import local_stack\n"
        "program = local_stack.Program('sleeper', 'sleeper', [sys.executable, '-c', 'import time; "
        "time.sleep(120)'], dict(os.environ), None, '', '')\n"
        "local_stack._start(program, Path(sys.argv[1]))\n"
        "print(program.process.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code, str(tmp_path)],
        cwd=local_stack.REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert not _gone(child), "the program did not start"
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(child), "the program outlived the stack that started it"
    finally:
        parent.kill()
        if child and not _gone(child):
            os.kill(child, 9)


def test_the_loki_stand_in_keeps_the_lines_of_its_retention_and_forgets_older_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`make stack`'s Loki stand-in keeps `--retention` seconds of logs (3 h by default) so that the
    log panels and `doctor`'s look-back find them, and forgets older ones so a long run's memory stays
    bounded. Its forget cycle runs once a minute: here the minute's wait returns at once, once, then
    the stand-in is asked over HTTP (as Grafana asks it) for what it still holds, and stopped. With
    `--retention 600` a line 5 minutes old is kept and one 15 minutes old is gone."""
    now = time.time_ns()
    store = LokiStore()
    store.push({"service_name": "retained"}, "five minutes old", ns=now - 300 * 10**9)
    store.push({"service_name": "retained"}, "fifteen minutes old", ns=now - 900 * 10**9)
    port = free_port()
    held: list[str] = []

    @contextmanager
    def this_store(port: int = 0) -> Iterator[tuple[str, LokiStore]]:
        with loki_server(store, port=port) as served:
            yield served

    class OneCycle:
        """The stand-in's stop event: its first minute's wait is over at once (a forget cycle runs),
        at the second the stand-in is asked what it holds, then it stops."""

        def __init__(self) -> None:
            self.waits = 0

        def set(self) -> None:
            pass

        def wait(self, timeout: float | None = None) -> bool:
            self.waits += 1
            if self.waits == 1:
                return False
            query = urllib.parse.urlencode(
                {
                    "query": '{service_name="retained"}',
                    "start": str(now - 3600 * 10**9),
                    "end": str(time.time_ns()),
                }
            )
            url = f"http://127.0.0.1:{port}/loki/api/v1/query_range?{query}"
            with urllib.request.urlopen(url, timeout=10) as answer:
                streams = json.load(answer)["data"]["result"]
            held.extend(line for stream in streams for _, line in stream["values"])
            return True

    monkeypatch.setattr(stand_ins, "loki_server", this_store)
    monkeypatch.setattr(stand_ins, "threading", SimpleNamespace(Event=OneCycle))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        assert stand_ins.main(["loki", "--port", str(port), "--retention", "600"]) == 0
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert held == ["five minutes old"], (
        f"after a forget cycle with --retention 600 the stand-in holds {held}: the line 5 minutes "
        "old must be kept and the one 15 minutes old forgotten"
    )
