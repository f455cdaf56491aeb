"""What the README and local_stack.py's docstrings promise about `make stack`'s programs: their start
order, how long the Loki stand-in keeps logs, how long a program has to stop before SIGKILL."""

from __future__ import annotations

import io
import os
import re
import signal
import sys
import threading
from pathlib import Path

import pytest

from dashboards_as_code.external_tools import NODE, PROMETHEUS
from monitoring import local_stack
from monitoring.loopback import Compose, Endpoint, Plan, RenderError
from monitoring.tools import DEMO, JAEGER, OTELCOL
from tests.conftest import REPO
from tests.local_http import free_port
from tests.tooling import require_tool

README = (REPO / "README.md").read_text(encoding="utf-8")


def _programs(tmp_path: Path) -> list[local_stack.Program]:
    for tool in (OTELCOL, JAEGER, PROMETHEUS, NODE, DEMO):
        require_tool(tool)
    compose = Compose()
    return local_stack.programs(compose, local_stack.make_plan(compose, tmp_path, free=True))


def test_what_a_program_sends_to_starts_before_it_and_the_demo_last(tmp_path: Path) -> None:
    """ "in start order: what a program sends to is up before it": the backends, then the Collector that
    sends to them, then the demo that sends to the Collector; started last, the demo is stopped first,
    "so its last telemetry is flushed" while the Collector still runs. Every program but the demo is
    waited for on its health endpoint before the next starts."""
    found = _programs(tmp_path)
    assert [p.service for p in found] == [*local_stack.SERVICES, local_stack.DEMO_SERVICE]
    assert local_stack.SERVICES[-1] == local_stack.COLLECTOR
    assert [p.service for p in found if p.ready is None] == [local_stack.DEMO_SERVICE]


def test_the_loki_stand_in_keeps_the_hours_the_readme_and_the_table_say(tmp_path: Path) -> None:
    """README: the Loki stand-in keeps logs "in memory, for 3 hours"; the table `make stack` prints says
    "last 3 h"; the stand-in is started with that many seconds."""
    said = re.search(r"in\s+memory, for (\d+) hours", README)
    assert said is not None
    hours = int(said[1])
    (loki,) = [p for p in _programs(tmp_path) if p.service == local_stack.LOKI]
    assert loki.argv[loki.argv.index("--retention") + 1] == str(hours * 3600)
    assert f"last {hours} h;" in loki.what


def test_a_program_gets_the_seconds_the_readme_says_before_sigkill() -> None:
    """README: "each with SIGTERM to its own process group and SIGKILL after 15 s"."""
    said = re.search(r"SIGTERM to its own process group and SIGKILL after (\d+) s", README)
    assert said is not None
    assert float(said[1]) == local_stack.STOP_SECONDS


def test_closing_the_terminal_stops_the_stack_as_ctrl_c_does() -> None:
    """ "Ctrl-C (SIGINT), SIGTERM or SIGHUP stops them all" (README: "or closing the terminal"): each of
    the three is turned into an orderly stop, and blocked while a program starts so none is missed."""
    assert set(local_stack.STOP_SIGNALS) == {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def test_a_config_no_rule_can_render_is_a_start_that_could_not_happen_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "Exit codes: 0 stopped on request, 1 a program failed, 2 it could not start": a committed config
    that loopback refuses (RenderError) stops the start before any program runs, with code 2 and the
    refusal on stderr."""
    refusal = "prometheus.yml: 'loki:3100' still points into the container network"

    def refuse(*_: object, **__: object) -> None:
        raise RenderError(refusal)

    monkeypatch.setattr(local_stack, "make_plan", refuse)
    out = io.StringIO()
    assert local_stack.run(tmp_path, free=True, demo=False, out=out) == 2
    assert capsys.readouterr().err == refusal + "\n"
    assert "stopped" not in out.getvalue()  # nothing ran, nothing to stop


def test_after_the_run_the_callers_own_signal_handlers_are_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run` turns Ctrl-C, SIGTERM and SIGHUP into an orderly stop, then ignores them while it stops:
    once it returns, a script that called it (bench/hub_at_scale.py) has its own handlers again, and
    the programs it starts next do not inherit an ignored SIGTERM they could never be stopped by."""

    def refuse(*_: object, **__: object) -> None:
        raise RenderError("refused")

    def mine(_signum: int, _frame: object) -> None:
        pass

    before = {sig: signal.signal(sig, mine) for sig in local_stack.STOP_SIGNALS}
    try:
        monkeypatch.setattr(local_stack, "make_plan", refuse)
        assert local_stack.run(tmp_path, free=True, demo=False, out=io.StringIO()) == 2
        capsys.readouterr()
        assert {sig: signal.getsignal(sig) for sig in local_stack.STOP_SIGNALS} == dict.fromkeys(
            local_stack.STOP_SIGNALS, mine
        )
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def test_by_default_make_stack_takes_compose_ports_runs_the_demo_in_the_cache_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ "By default the ports are the compose file's published ones on 127.0.0.1 (...) `--ports free`
    picks free ones"; the run folder is .cache/stack/ by default; `--no-demo` starts no demo."""
    calls: list[tuple[Path, dict[str, object]]] = []

    def record(run_dir: Path, **options: object) -> int:
        calls.append((run_dir, options))
        return 0

    monkeypatch.setattr(local_stack, "run", record)
    local_stack.main([])
    local_stack.main(["--ports", "free", "--no-demo"])
    assert calls[0] == (REPO / ".cache" / "stack", {"free": False, "demo": True, "out": sys.stdout})
    assert calls[1][1]["free"] is True and calls[1][1]["demo"] is False


def test_a_stop_on_request_exits_0_and_says_where_the_logs_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C is an orderly stop: it names the signal and how many programs it stops, stops them, says
    where the logs and data stay, and exits 0."""
    sleeper = local_stack.Program(
        "loki", "Loki", [sys.executable, "-c", "import time; time.sleep(60)"], {}, None, "a", "b"
    )
    ports = {("prometheus", 9090): 1, ("loki", 3100): 2, ("grafana", 3000): 3, ("otel-collector", 4318): 4}
    plan = Plan({Endpoint(*e): p for e, p in ports.items()}, tmp_path)
    monkeypatch.setattr(local_stack, "make_plan", lambda *_, **__: plan)
    monkeypatch.setattr(local_stack, "programs", lambda *_, **__: [sleeper])
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    out = io.StringIO()
    try:
        code = local_stack.run(tmp_path, free=True, demo=False, out=out)
    finally:
        timer.cancel()
    assert code == 0, out.getvalue()
    assert sleeper.process is not None and sleeper.process.returncode is not None
    lines = out.getvalue().splitlines()
    assert "SIGINT: stopping 1 program(s)..." in lines
    assert lines[-1] == f"stopped; logs and data are in {tmp_path}/"


def _run_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, found: list[local_stack.Program], signals_at: list[float]
) -> tuple[int, str]:
    """`run` on `found` (no real program, no compose port), SIGINT sent to this process at each time."""
    ports = {("prometheus", 9090): 1, ("loki", 3100): 2, ("grafana", 3000): 3, ("otel-collector", 4318): 4}
    plan = Plan({Endpoint(*e): p for e, p in ports.items()}, tmp_path)
    monkeypatch.setattr(local_stack, "make_plan", lambda *_, **__: plan)
    monkeypatch.setattr(local_stack, "programs", lambda *_, **__: found)
    timers = [threading.Timer(at, os.kill, (os.getpid(), signal.SIGINT)) for at in signals_at]
    for timer in timers:
        timer.start()
    out = io.StringIO()
    try:
        code = local_stack.run(tmp_path, free=True, demo=False, out=out)
    finally:
        for timer in timers:
            timer.cancel()
    return code, out.getvalue()


def _python(service: str, code: str) -> local_stack.Program:
    return local_stack.Program(service, service.title(), [sys.executable, "-c", code], {}, None, "a", "b")


def test_a_program_that_exits_by_itself_even_with_0_stops_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "a program that exits on its own stops the rest": whatever its code, 0 included (a Collector
    that found nothing to do is not running either), with exit code 1 and its name."""
    sleeper = _python("loki", "import time; time.sleep(60)")
    quitter = _python("grafana", "pass")
    code, _ = _run_with(tmp_path, monkeypatch, [sleeper, quitter], [10.0])  # Ctrl-C if it goes unseen
    assert code == 1
    assert capsys.readouterr().err.startswith("error: Grafana exited with 0; the end of its log:")
    assert sleeper.process is not None and sleeper.process.returncode is not None


def test_a_second_ctrl_c_during_the_stop_does_not_leave_a_program_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "a second Ctrl-C must not cut the stop short and leave programs behind": a program slow to stop
    (it ignores SIGTERM) is still killed after STOP_SECONDS though Ctrl-C came again meanwhile."""
    monkeypatch.setattr(local_stack, "STOP_SECONDS", 1.5)
    stubborn = _python(
        "loki", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    )
    code, out = _run_with(tmp_path, monkeypatch, [stubborn], [1.0, 1.8])
    assert code == 0, out
    assert stubborn.process is not None and stubborn.process.returncode is not None
    assert "Loki did not stop within 1.5 s: killed" in out


def test_each_program_answers_its_health_endpoint_before_the_next_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make stack` waits for each program's health endpoint before starting the next (what a program
    sends to is up before it): one that dies while starting is named as such, and what comes after it
    is never started."""
    dying = _python("loki", "import time; time.sleep(0.5); raise SystemExit(3)")
    dying.ready = f"http://127.0.0.1:{free_port()}/ready"
    after = _python("grafana", "import time; time.sleep(60)")
    code, _ = _run_with(tmp_path, monkeypatch, [dying, after], [])
    assert code == 1
    assert capsys.readouterr().err.startswith("error: Loki exited with 3 while starting;")
    assert after.process is None
