"""`watch` against hostile saves and signals, through the real entry point on a project copy.

A definition that loops (and starts a helper that ignores SIGTERM) must never outlive the watcher:
not after SIGTERM, not after Ctrl-C, not after an exception in the loop, not after the time limit.
A fix saved while a looping build runs replaces it at once; a burst of saves is one build.
Leftover processes are found by scanning /proc for the project copy's path in their command line:
every child and grandchild here names it, nothing else on the machine does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboards_as_code import watch
from tests.test_watch import EXTRA_MODULE, STAT_TITLE, _edit, watching

STUBBORN = "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
"""A helper the looping definition starts: it ignores SIGTERM, so only SIGKILL to the group ends it."""


def looping_module(project: Path) -> str:
    """A definition that starts a stubborn helper (named by the project's path), then never returns."""
    return (
        "import subprocess\nimport sys\n\n"
        f"subprocess.Popen([sys.executable, '-c', {STUBBORN!r}, {str(project)!r}])\n"
        "while True:\n    pass\n"
    )


def processes_of(project: Path) -> list[str]:
    """The command lines of live processes that name `project` (zombies have none, and are dead)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # exited meanwhile
            continue
        if str(project).encode() in cmdline:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)


def helper_running(project: Path) -> bool:
    """The looping build has reached its loop: its stubborn helper runs."""
    return any("SIG_IGN" in line for line in processes_of(project))


def no_process_left(project: Path) -> None:
    """Nothing naming the project runs; a short wait only for the kernel to finish a SIGKILL."""
    wait_until(lambda: not processes_of(project), f"processes left behind: {processes_of(project)}", 5)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_a_build_hangs_stops_watch_and_its_whole_build(
    project_copy: Path, signum: signal.Signals
) -> None:
    with watching(project_copy) as watcher:
        (project_copy / "dashboards" / "loops.py").write_text(looping_module(project_copy))
        wait_until(lambda: helper_running(project_copy), "the looping build started its helper")
        watcher.process.send_signal(signum)
        assert watcher.process.wait(timeout=15) == 0  # a requested stop that completed cleanly
        watcher.wait_for(lambda line: line == "stopped.", timeout=5)
        assert not any("Traceback" in line for line in watcher.seen)
    no_process_left(project_copy)


def test_a_fix_saved_while_a_looping_build_runs_is_built_at_once(project_copy: Path) -> None:
    extra = project_copy / "dashboards" / "extra.py"
    with watching(project_copy) as watcher:
        extra.write_text(looping_module(project_copy))
        wait_until(lambda: helper_running(project_copy), "the looping build started its helper")
        extra.write_text(EXTRA_MODULE)
        cancelled = watcher.wait_for(lambda line: "cancelled" in line, timeout=15)
        assert "build cancelled by a newer save" in cancelled and "dashboards/extra.py" in cancelled
        # Far below the 120 s limit: the loop was cancelled, not waited out.
        assert "built:" in watcher.wait_for(lambda line: "built:" in line or "failed" in line, timeout=40)
        assert list((project_copy / "provisioning").rglob("watch-extra.json"))
        wait_until(lambda: not helper_running(project_copy), "the cancelled build's helper is gone", 5)
        assert watcher.process.poll() is None


def test_a_cancelled_build_is_reported_under_its_own_save_not_the_newer_one(project_copy: Path) -> None:
    """The loop is saved in one file and fixed in another: the "cancelled" line must name the file
    whose save started the cancelled build, and the next "built:" line the file that fixed it."""
    dashboards = project_copy / "dashboards"
    knob, extra = dashboards / "_knob.py", dashboards / "extra.py"  # `_`: not a dashboard module
    knob.write_text("SPIN = True\n")
    looping_until_knob = (
        "import subprocess\nimport sys\n\nfrom dashboards import _knob\n\n"
        f"if _knob.SPIN:\n    subprocess.Popen([sys.executable, '-c', {STUBBORN!r}, {str(project_copy)!r}])\n"
        "while _knob.SPIN:\n    pass\n" + EXTRA_MODULE.replace("from dashboards import overview\n", "")
    )
    with watching(project_copy) as watcher:
        extra.write_text("from dashboards import overview\n" + looping_until_knob)
        wait_until(lambda: helper_running(project_copy), "the looping build started its helper")
        knob.write_text("SPIN = False\n")
        cancelled = watcher.wait_for(lambda line: "cancelled" in line, timeout=15)
        assert "dashboards/extra.py: build cancelled by a newer save" in cancelled, cancelled
        assert "_knob.py" not in cancelled, cancelled
        done = watcher.wait_for(lambda line: "built:" in line or "failed" in line, timeout=40)
        assert "dashboards/_knob.py: built:" in done and "extra.py:" not in done, done
        assert list((project_copy / "provisioning").rglob("watch-extra.json"))
        wait_until(lambda: not helper_running(project_copy), "the cancelled build's helper is gone", 5)


def test_a_burst_of_saves_is_one_build(project_copy: Path) -> None:
    extra = [project_copy / "dashboards" / "__init__.py", project_copy / "config.py"]
    sources = [*sorted((project_copy / "datasources").glob("*.py")), *extra]
    assert len(sources) >= 5
    texts = {path: path.read_text() for path in sources}
    with watching(project_copy) as watcher:
        for path, text in texts.items():  # all within a few milliseconds: one debounce window
            path.write_text(text + "\n")
        burst = watcher.next_build()
        # A sentinel save afterwards: every build line before its own belongs to the burst.
        _edit(project_copy / "dashboards" / "overview.py", STAT_TITLE, '"WhatsApp sessions now",')
        watcher.wait_for(lambda line: "dashboards/overview.py: built:" in line)
    builds = [line for line in watcher.seen if "built:" in line or "build failed" in line]
    assert len(builds) == 3, builds  # the first build, the burst's one, the sentinel's
    assert "built:" in burst and all(str(p.relative_to(project_copy)) in burst for p in sources), burst
    assert not any("cancelled" in line for line in watcher.seen)


def test_the_time_limit_stops_the_whole_group(project_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "CHILD_TIMEOUT_SECONDS", 3)
    (project_copy / "dashboards" / "loops.py").write_text(looping_module(project_copy))
    outcome = watch.build(project_copy)
    assert not outcome.ok and "stopped after 3 s" in outcome.headline
    no_process_left(project_copy)


def test_an_exception_in_the_loop_stops_the_running_build_and_restores_the_signals(
    project_copy: Path,
) -> None:
    """The echo fails on the report of the cancelled build: the build running then must still be stopped."""
    (project_copy / "dashboards" / "loops.py").write_text(looping_module(project_copy))
    before = {signum: signal.getsignal(signum) for signum in watch.STOP_SIGNALS}

    def echo(line: str) -> None:
        if "cancelled" in line:
            raise RuntimeError("the terminal went away")

    def save_while_it_loops() -> None:
        wait_until(lambda: helper_running(project_copy), "the looping build started its helper")
        (project_copy / "dashboards" / "loops.py").write_text(looping_module(project_copy) + "\n")

    saver = threading.Thread(target=save_while_it_loops, daemon=True)
    saver.start()
    with pytest.raises(RuntimeError, match="terminal went away"):
        watch.watch(project_copy, then_push=False, echo=echo)
    saver.join(timeout=5)
    no_process_left(project_copy)
    assert {signum: signal.getsignal(signum) for signum in watch.STOP_SIGNALS} == before


def pids_of_helpers(project: Path) -> list[int]:
    """The ids of live stubborn helpers started for `project` (by the STUBBORN marker in their command)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"SIG_IGN" in cmdline and str(project).encode() in cmdline:
            found.append(int(entry.name))
    return found


RETURNS = {
    "built": EXTRA_MODULE,
    "build failed": "raise RuntimeError('a definition that breaks after starting its helper')\n",
}
"""After the helper starts, the definition either returns a good dashboard or raises."""


@pytest.mark.parametrize("headline", list(RETURNS), ids=["good-build", "failed-build"])
def test_a_build_that_returns_leaves_no_helper_behind(project_copy: Path, headline: str) -> None:
    """A definition may start a process (a port-forward, a local server) and return. The build then
    ends by itself, not through a stop: whatever it left in its process group must still be ended, or
    every save leaves one more process running for as long as the machine is up."""
    starts_helper = (
        "import subprocess\nimport sys\n\n"
        f"subprocess.Popen([sys.executable, '-c', {STUBBORN!r}, {str(project_copy)!r}])\n\n"
    )
    try:
        with watching(project_copy) as watcher:
            (project_copy / "dashboards" / "extra.py").write_text(starts_helper + RETURNS[headline])
            line = watcher.wait_for(lambda line: "dashboards/extra.py: " in line, timeout=60)
            assert f"dashboards/extra.py: {headline}" in line, watcher.seen
            wait_until(lambda: not pids_of_helpers(project_copy), "the finished build's helper is gone", 5)
            assert watcher.process.poll() is None  # still watching
    finally:
        for pid in pids_of_helpers(project_copy):  # a failed run must not leave its helper running
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


BUILD_LIMIT_SECONDS = 20
"""WATCH_CHILD_TIMEOUT_SECONDS for the next test: far below the 120 s default, so a build that is held to
the default instead is seen still running long after this limit; and far above what the project's good
build at start takes, which the same limit bounds (4 s was too little for it in CI, on two loaded
workers: the build at start was stopped instead)."""


def test_a_build_that_never_returns_is_stopped_at_the_set_time_limit(project_copy: Path) -> None:
    """WATCH_CHILD_TIMEOUT_SECONDS bounds builds too, not only pushes: a definition that never returns
    is stopped after that many seconds, reported as such, and watching goes on."""
    env = {"WATCH_CHILD_TIMEOUT_SECONDS": str(BUILD_LIMIT_SECONDS)}
    with watching(project_copy, env=env) as watcher:
        (project_copy / "dashboards" / "loops.py").write_text(looping_module(project_copy))
        stopped = watcher.wait_for(lambda line: "stopped after" in line, timeout=BUILD_LIMIT_SECONDS + 40)
        assert f"build stopped after {BUILD_LIMIT_SECONDS} s" in stopped, stopped
        assert "dashboards/loops.py" in stopped and "still watching" in stopped, stopped
        assert watcher.process.poll() is None
    no_process_left(project_copy)
