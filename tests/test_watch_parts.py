"""`watch`'s parts without a real build: what it watches, the lines it prints, when it pushes, what it
cancels, the limits it keeps and what a child is started with. Fakes stand in for the child process
and for the file watcher, so each behaviour is seen in milliseconds."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from threading import Event
from typing import Any, ClassVar

import pytest

from dashboards_as_code import watch

REAL_CHILD = watch.Child
"""The child itself, kept before a test puts the fake in its place."""
REAL_POPEN = subprocess.Popen
"""The real Popen, kept before a test puts `_Popen` in its place."""


class FakeChild:
    """A build or push that ends when the test says so, with the output the test gives it."""

    started: ClassVar[list[FakeChild]] = []

    def __init__(
        self, root: Path, command: str, env: dict[str, str] | None = None, timeout: float | None = None
    ) -> None:
        self.root, self.command, self.env = root, command, env
        self.timeout = watch.CHILD_TIMEOUT_SECONDS if timeout is None else timeout
        self.finished, self.late, self.stopped = False, False, False
        self.output: tuple[int, str, str] = (0, "1 written, 0 unchanged, 0 removed.\n", "")
        FakeChild.started.append(self)

    def done(self) -> bool:
        return self.finished

    def overdue(self) -> bool:
        return self.late

    def stop(self) -> None:
        self.stopped = True

    def result(self) -> tuple[int, str, str]:
        return self.output


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[FakeChild]:
    FakeChild.started = []
    monkeypatch.setattr(watch, "Child", FakeChild)
    return FakeChild.started


Reported = list[tuple[watch.Outcome, str]]


def _running(runner: watch.Runner) -> object:
    """The runner's child, as whatever the fake stands for."""
    return runner.child


def _runner(then_push: bool, timeout: float | None = 7.0) -> tuple[watch.Runner, Reported]:
    reported: Reported = []
    runner = watch.Runner(
        Path("/p"),
        then_push=then_push,
        env={"K": "v"},
        report=lambda outcome, cause: reported.append((outcome, cause)),
        timeout=timeout,
    )
    return runner, reported


# -- what is watched ------------------------------------------------------------------------------------


def test_only_the_definitions_that_exist_are_watched_modules_first(tmp_path: Path) -> None:
    """A project without a `telemetry/` or `datasources.py` is still watched, for what it has: watching a
    path that does not exist would fail at start."""
    (tmp_path / "config.py").write_text("")
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "prometheus_rules").mkdir()
    (tmp_path / "README.py").write_text("")  # not a definition module
    assert watch.watched_paths(tmp_path) == [
        tmp_path / "config.py",
        tmp_path / "dashboards",
        tmp_path / "prometheus_rules",
    ]


def test_a_definition_module_written_as_one_file_is_watched(tmp_path: Path) -> None:
    """`datasources.py` instead of a `datasources/` package is a definition as well."""
    (tmp_path / "datasources.py").write_text("")
    (tmp_path / "telemetry").mkdir()
    assert watch.watched_paths(tmp_path) == [tmp_path / "datasources.py", tmp_path / "telemetry"]


def test_an_emacs_lock_only_as_the_file_name_is_ignored() -> None:
    """`.#` marks Emacs' lock file, not a directory: a source in a directory so named is still built."""
    assert watch.is_definition("/p/dashboards/.#drafts/overview.py")
    assert not watch.is_definition("/p/dashboards/.#overview.py")


def test_changes_are_named_relative_to_the_project_and_filtered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The watcher is set up as documented: the debounce, the poll, a first empty batch; and its batches
    come back relative to the project, with only Python sources passing its filter."""
    (tmp_path / "dashboards").mkdir()
    seen: dict[str, Any] = {}

    def fake_watch(*paths: Path, **options: Any) -> Iterator[set[tuple[int, str]]]:
        seen["paths"], seen["options"] = paths, options
        yield set()
        yield {(2, str(tmp_path / "dashboards" / "a.py")), (1, str(tmp_path / "dashboards" / "b.py"))}

    import watchfiles  # noqa: PLC0415

    monkeypatch.setattr(watchfiles, "watch", fake_watch)
    stop = Event()
    assert list(watch._changes(tmp_path, stop)) == [set(), {"dashboards/a.py", "dashboards/b.py"}]
    options = seen["options"]
    assert seen["paths"] == (tmp_path / "dashboards",)
    assert options["debounce"] == watch.DEBOUNCE_MS == 50
    assert options["rust_timeout"] == watch.POLL_MS == 100
    assert options["yield_on_timeout"] is True and options["stop_event"] is stop
    accept = options["watch_filter"]
    assert accept(1, "/p/dashboards/a.py") and not accept(1, "/p/dashboards/a.py.swp")


# -- the loop's lines -----------------------------------------------------------------------------------


def _loop(
    monkeypatch: pytest.MonkeyPatch, root: Path, batches: list[set[str]], then_push: bool = False
) -> tuple[list[str], list[str]]:
    """Run `_watch` over `batches`; returns what it echoed and the causes each build was started with."""
    causes: list[str] = []
    stop = Event()

    def changes(_root: Path, _stop: Event) -> Iterator[set[str]]:
        yield from batches
        stop.set()
        yield set()

    class Recorder(watch.Runner):
        def rebuild(self, cause: str = "") -> None:
            causes.append(cause)

        def poll(self) -> None:
            pass

    monkeypatch.setattr(watch, "_changes", changes)
    echoed: list[str] = []
    runner = Recorder(root, then_push=then_push, env={}, report=lambda _o, _c: None)
    watch._watch(root, then_push=then_push, echo=echoed.append, stop=stop, runner=runner)
    return echoed, causes


def test_the_first_line_names_what_is_watched_relative_to_the_project(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "config.py").write_text("")
    (tmp_path / "dashboards").mkdir()
    echoed, _ = _loop(monkeypatch, tmp_path, [set()])
    assert echoed == [f"watching config.py, dashboards in {tmp_path}; Ctrl-C stops"]
    pushing, _ = _loop(monkeypatch, tmp_path, [set()], then_push=True)
    assert pushing == [f"watching config.py, dashboards in {tmp_path} (and pushing); Ctrl-C stops"]


class Unordered(set[str]):
    """A batch that iterates in reverse order, as a set may: the line must not depend on it."""

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(super().__iter__(), reverse=True))


def test_the_first_build_has_no_cause_and_each_batch_names_its_files_sorted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The build at start is nobody's save; a later batch is one build named by all its files, sorted,
    so the same saves always read the same; a quiet poll starts nothing."""
    (tmp_path / "config.py").write_text("")
    batches = [set(), set(), Unordered({"dashboards/a.py", "config.py", "dashboards/b.py"}), set()]
    _, causes = _loop(monkeypatch, tmp_path, batches)
    assert causes == ["", "config.py, dashboards/a.py, dashboards/b.py: "]


def test_the_loop_returns_once_stop_is_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """After `stop`, no further batch is read (nor built)."""
    (tmp_path / "config.py").write_text("")
    stop = Event()
    read: list[set[str]] = []

    def changes(_root: Path, _stop: Event) -> Iterator[set[str]]:
        for batch in (set(), {"config.py"}, {"after.py"}):
            read.append(batch)
            if batch == {"config.py"}:
                stop.set()
            yield batch

    monkeypatch.setattr(watch, "_changes", changes)
    causes: list[str] = []
    runner = watch.Runner(tmp_path, then_push=False, env={}, report=lambda _o, _c: None)
    monkeypatch.setattr(runner, "rebuild", lambda cause="": causes.append(cause))
    monkeypatch.setattr(runner, "poll", lambda: None)
    watch._watch(tmp_path, then_push=False, echo=lambda _line: None, stop=stop, runner=runner)
    assert causes == ["", "config.py: "] and {"after.py"} not in read


def test_a_report_line_is_the_time_the_cause_and_the_headline_details_indented(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, children: list[FakeChild]
) -> None:
    """`HH:MM:SS <save>: <headline>`, then each detail under it, indented past the time."""
    (tmp_path / "config.py").write_text("")
    import dashboards_as_code.lint.grafana_schema as schema  # noqa: PLC0415

    monkeypatch.setattr(schema, "start_warm_checker", lambda _root: None)
    stop = Event()

    def changes(_root: Path, _stop: Event) -> Iterator[set[str]]:
        yield {"config.py"}  # the first build, then this save's (the first is cancelled by it)
        children[-1].output = (1, "", "config.py:3: NameError: x\nerror: nothing written\n")
        children[-1].finished = True
        stop.set()
        yield set()

    monkeypatch.setattr(watch, "_changes", changes)
    echoed: list[str] = []
    watch.watch(tmp_path, then_push=False, echo=echoed.append, stop=stop)
    assert echoed[1:] == [
        echoed[1][:9] + "build cancelled by a newer save",
        echoed[1][:9] + "config.py: build failed; nothing written, still watching",
        "         config.py:3: NameError: x",
        "         error: nothing written",
    ]
    assert re.fullmatch(r"\d\d:\d\d:\d\d ", echoed[1][:9])


def test_the_warm_schema_checker_is_handed_to_every_child_and_ended_with_watch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, children: list[FakeChild]
) -> None:
    (tmp_path / "config.py").write_text("")
    import dashboards_as_code.lint.grafana_schema as schema  # noqa: PLC0415

    class Warm:
        killed = waited = False

        def kill(self) -> None:
            self.killed = True

        def wait(self) -> None:
            self.waited = True

    warm = Warm()
    monkeypatch.setattr(schema, "start_warm_checker", lambda _root: (warm, "/tmp/warm.sock"))
    stop = Event()

    def changes(_root: Path, _stop: Event) -> Iterator[set[str]]:
        yield set()
        children[-1].finished = True
        yield set()  # the build ends: the push starts
        stop.set()
        yield set()

    monkeypatch.setattr(watch, "_changes", changes)
    watch.watch(tmp_path, then_push=True, echo=lambda _line: None, stop=stop, child_timeout=9)
    assert [child.command for child in children] == ["build", "push"]
    assert all(child.env == {schema.WARM_CHECKER: "/tmp/warm.sock"} for child in children)
    assert all(child.timeout == 9 for child in children)
    assert children[-1].stopped  # the push still running when watch stopped: stopped with it
    assert warm.killed and warm.waited


# -- the runner: when a push follows, what a report is named after -----------------------------------


def test_a_good_build_is_reported_under_its_save_and_the_push_under_none(children: list[FakeChild]) -> None:
    runner, reported = _runner(then_push=True)
    runner.rebuild("dashboards/a.py: ")
    children[0].finished = True
    runner.poll()
    assert reported == [(watch.built(*children[0].output), "dashboards/a.py: ")]
    [_, push] = children
    assert (push.command, push.env, push.timeout) == ("push", {"K": "v"}, 7.0)
    push.output = (0, "2 unchanged.\n", "")
    push.finished = True
    runner.poll()
    assert reported[1] == (watch.Outcome(True, "pushed: 2 unchanged."), "")
    assert runner.child is None  # a finished push starts nothing


def test_without_push_a_good_build_starts_nothing(children: list[FakeChild]) -> None:
    runner, _ = _runner(then_push=False)
    runner.rebuild()
    children[0].finished = True
    runner.poll()
    assert len(children) == 1 and runner.child is None


def test_a_failed_build_starts_no_push(children: list[FakeChild]) -> None:
    runner, reported = _runner(then_push=True)
    runner.rebuild("a.py: ")
    children[0].output = (1, "", "a.py:1: SyntaxError\n")
    children[0].finished = True
    runner.poll()
    assert len(children) == 1 and not reported[0][0].ok


def test_a_running_child_is_left_alone_until_it_ends_or_overruns(children: list[FakeChild]) -> None:
    runner, reported = _runner(then_push=False)
    runner.rebuild()
    for _ in range(3):
        runner.poll()
    assert reported == [] and _running(runner) is children[0] and not children[0].stopped


@pytest.mark.parametrize(("command", "cause"), [("build", "a.py: "), ("push", "")])
def test_an_overrun_child_is_stopped_and_reported_as_stopped(
    children: list[FakeChild], command: str, cause: str
) -> None:
    """A build past its limit is its save's; a push past it is nobody's (it stands for every file built)."""
    runner, reported = _runner(then_push=True)
    runner.rebuild("a.py: ")
    if command == "push":
        children[0].finished = True
        runner.poll()
        reported.clear()
    child = children[-1]
    child.late = True
    runner.poll()
    assert child.stopped and runner.child is None
    assert reported == [(watch.timed_out(child), cause)]  # type: ignore[arg-type]
    assert len(children) == (1 if command == "build" else 2)  # an overrun build is not pushed


def test_a_build_that_finished_is_reported_built_even_if_the_limit_passed_before_the_next_look(
    children: list[FakeChild],
) -> None:
    """The loop looks at the child now and then: a build that ended (and wrote its files) but whose
    limit passed before that look is built, not "stopped", and its push follows."""
    runner, reported = _runner(then_push=True)
    runner.rebuild("a.py: ")
    child = children[-1]
    child.finished, child.late = True, True
    runner.poll()
    assert not child.stopped
    assert reported == [(watch.built(*child.output), "a.py: ")]
    assert reported[0][0].headline.startswith("built: ")
    assert len(children) == 2 and children[1].command == "push"


def test_a_good_push_is_reported_with_its_summary_after_its_action_lines() -> None:
    """push prints a line per object written, then its counts: the counts are the headline."""
    output = (
        "updated    dashboard d: title changed\ncreated    folder f\n1 updated, 1 created, 2 unchanged.\n"
    )
    assert watch.pushed(0, output, "").headline == "pushed: 1 updated, 1 created, 2 unchanged."
    assert watch.pushed(0, "[1/2] dashboard d: update\n", "").headline == "pushed: done."


def test_a_newer_save_cancels_the_running_build_under_the_old_save(children: list[FakeChild]) -> None:
    runner, reported = _runner(then_push=False)
    runner.rebuild("a.py: ")
    runner.rebuild("b.py: ")
    assert reported == [(watch.Outcome(False, "build cancelled by a newer save"), "a.py: ")]
    assert children[0].stopped and _running(runner) is children[1] and runner.cause == "b.py: "
    children[1].finished = True
    runner.poll()
    assert reported[1][1] == "b.py: "


def test_a_push_cancelled_by_a_newer_save_is_put_under_no_save(children: list[FakeChild]) -> None:
    """The running push stands for every file built since the last push, not for the save that
    started its build: its cancellation is nobody's, like its other reports; the new build is b.py's."""
    runner, reported = _runner(then_push=True)
    runner.rebuild("a.py: ")
    children[0].finished = True
    runner.poll()
    assert children[-1].command == "push"
    runner.rebuild("b.py: ")
    assert reported[-1] == (watch.Outcome(False, "push cancelled by a newer save"), "")
    assert children[1].stopped and runner.cause == "b.py: "


def test_a_save_after_the_last_child_ended_cancels_nothing(children: list[FakeChild]) -> None:
    runner, reported = _runner(then_push=False)
    runner.rebuild("a.py: ")
    children[0].finished = True
    runner.poll()
    runner.rebuild("b.py: ")
    assert [outcome.headline for outcome, _ in reported] == [watch.built(*children[0].output).headline]


# -- the limits and the words of a stop -----------------------------------------------------------------


@pytest.mark.parametrize(("timeout", "said"), [(2.5, "2.5 s"), (120.0, "120 s"), (0.25, "0.25 s")])
def test_a_stop_at_the_limit_names_the_limit_as_set(
    children: list[FakeChild], timeout: float, said: str
) -> None:
    build = FakeChild(Path("/p"), "build", timeout=timeout)
    push = FakeChild(Path("/p"), "push", timeout=timeout)
    assert watch.timed_out(build) == watch.Outcome(  # type: ignore[arg-type]
        False,
        f"build stopped after {said} (does a definition never return?); nothing written, still watching",
    )
    assert watch.timed_out(push) == watch.Outcome(  # type: ignore[arg-type]
        False,
        f"push stopped after {said} (is Grafana answering?); the next good save pushes again, still watching",
    )


def test_the_default_limit_is_the_setting_default_and_read_when_the_child_starts(
    monkeypatch: pytest.MonkeyPatch, children: list[FakeChild]
) -> None:
    assert watch.CHILD_TIMEOUT_SECONDS == 120.0
    monkeypatch.setattr(watch, "CHILD_TIMEOUT_SECONDS", 3.0)
    runner, _ = _runner(then_push=False, timeout=None)
    runner.rebuild()
    assert children[0].timeout == 3.0
    assert _real_child(monkeypatch, Path("/p")).timeout == 3.0  # the child itself, not only the fake


def test_a_child_is_overdue_only_past_its_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`takes longer` than the limit: at the limit itself it still runs."""
    child = _real_child(monkeypatch, tmp_path, timeout=5.0)
    clock = child.started
    monkeypatch.setattr(time, "monotonic", lambda: clock + 5.0)
    assert not child.overdue()
    monkeypatch.setattr(time, "monotonic", lambda: clock + 5.01)
    assert child.overdue()


# -- what a child is started with ------------------------------------------------------------------------


class _Popen:
    calls: ClassVar[list[tuple[list[str], dict[str, Any]]]] = []

    def __init__(self, args: list[str], **options: Any) -> None:
        _Popen.calls.append((args, options))
        self.pid, self.returncode = 0, 0


def _real_child(
    monkeypatch: pytest.MonkeyPatch,
    root: Path,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> watch.Child:
    _Popen.calls = []
    monkeypatch.setattr(subprocess, "Popen", _Popen)
    child = REAL_CHILD(root, "build", env, timeout)
    child._close()
    return child


def test_a_child_runs_this_engine_on_the_project_in_its_own_group(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)
    _real_child(monkeypatch, tmp_path, env={"GRAFANA_URL": "http://g"})
    [(args, options)] = _Popen.calls
    assert args == [sys.executable, "-m", "dashboards_as_code", "build", "--project", str(tmp_path)]
    assert options["start_new_session"] is True and options["stdin"] is subprocess.DEVNULL
    # Without a PYTHONPATH of its own: exactly the engine's home, no empty entry (which means the cwd).
    assert options["env"]["PYTHONPATH"] == watch.ENGINE_HOME
    assert options["env"]["GRAFANA_URL"] == "http://g"


def test_a_child_keeps_the_users_pythonpath_after_the_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYTHONPATH", "/opt/lib")
    monkeypatch.setenv("WATCH_PARTS_MARK", "kept")
    _real_child(monkeypatch, tmp_path)
    [(_, options)] = _Popen.calls
    assert options["env"]["PYTHONPATH"] == f"{watch.ENGINE_HOME}{os.pathsep}/opt/lib"
    assert options["env"]["WATCH_PARTS_MARK"] == "kept"  # the rest of the environment is passed on


# -- stopping a child ------------------------------------------------------------------------------------


def _child_running(monkeypatch: pytest.MonkeyPatch, root: Path, script: str) -> watch.Child:
    """A real child, started as a build is (its own process group, its output captured), whose process
    runs `script` instead of the engine: a build that behaves exactly as the test needs, in milliseconds."""

    def popen(_args: list[str], **options: Any) -> subprocess.Popen[bytes]:
        return REAL_POPEN([sys.executable, "-c", script], **options)

    monkeypatch.setattr(subprocess, "Popen", popen)
    return REAL_CHILD(root, "build")


def test_a_child_that_exits_on_sigterm_is_stopped_without_waiting_out_the_grace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The grace period is a limit, not a delay: a build that ends on SIGTERM (every normal one) is
    stopped at once, so a newer save is built without waiting out the whole grace."""
    monkeypatch.setattr(watch, "STOP_GRACE_SECONDS", 5.0)
    child = _child_running(monkeypatch, tmp_path, "import time; time.sleep(600)")
    started = time.monotonic()
    child.stop()
    took = time.monotonic() - started
    assert child.process.returncode == -signal.SIGTERM  # it ended on SIGTERM, not on the later SIGKILL
    assert took < watch.STOP_GRACE_SECONDS / 2, f"stop() took {took:.2f} s"


def test_a_child_that_ignores_sigterm_itself_is_killed_after_the_grace(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A build whose own process ignores SIGTERM (a definition that installs SIG_IGN and loops) gets
    its grace, then SIGKILL: stop() returns, or `watch` would hang on the next save, at its time limit
    and on Ctrl-C alike."""
    monkeypatch.setattr(watch, "STOP_GRACE_SECONDS", 0.5)
    ready = tmp_path / "ignoring-sigterm"
    script = (
        "import pathlib, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(600)"
    )
    child = _child_running(monkeypatch, tmp_path, script)
    stopping = None
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline and child.process.poll() is None, "the child never got ready"
            time.sleep(0.02)
        took: list[float] = []

        def stop() -> None:
            started = time.monotonic()
            child.stop()
            took.append(time.monotonic() - started)

        stopping = threading.Thread(target=stop, daemon=True)
        stopping.start()
        stopping.join(timeout=watch.STOP_GRACE_SECONDS + 10)
        assert not stopping.is_alive(), "stop() never returned: the child was never sent SIGKILL"
        assert child.process.returncode == -signal.SIGKILL
        assert took[0] >= watch.STOP_GRACE_SECONDS  # it had its grace to end on SIGTERM first
        # ... and no more: SIGKILL follows the grace at once (a newer save, Ctrl-C wait on it).
        assert took[0] < watch.STOP_GRACE_SECONDS + 2, f"stop() took {took[0]:.2f} s"
    finally:
        if child.process.returncode is None:  # stop() hung or never ran: end the child here
            os.killpg(child.process.pid, signal.SIGKILL)
            if stopping is None:
                child.stop()
            else:
                stopping.join(timeout=10)  # the stop() that hung now sees the child gone


# -- signals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_and_sigterm_set_stop_and_the_undo_restores_the_handlers(signum: signal.Signals) -> None:
    before = {one: signal.getsignal(one) for one in watch.STOP_SIGNALS}
    stop = Event()
    restore = watch._stop_on_signals(stop)
    try:
        handler = signal.getsignal(signum)
        assert handler not in (signal.default_int_handler, signal.SIG_DFL, signal.SIG_IGN, before[signum])
        assert callable(handler)
        handler(signum, None)
        assert stop.is_set()
    finally:
        restore()
    assert {one: signal.getsignal(one) for one in watch.STOP_SIGNALS} == before


def test_outside_the_main_thread_no_handler_is_installed() -> None:
    before = {one: signal.getsignal(one) for one in watch.STOP_SIGNALS}
    during: dict[signal.Signals, Any] = {}

    def run() -> None:
        watch._stop_on_signals(Event())
        during.update({one: signal.getsignal(one) for one in watch.STOP_SIGNALS})

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=5)
    assert during == before


# -- a build's summary line ------------------------------------------------------------------------------


def test_a_written_path_with_spaces_is_named_whole_and_only_wrote_lines_count() -> None:
    stdout = "note: rewrote nothing\nwrote a dir/my board.json\n1 written, 0 unchanged, 0 removed.\n"
    assert watch.built(0, stdout, "").headline == (
        "built: 1 written, 0 unchanged, 0 removed. (a dir/my board.json)"
    )


def test_a_good_build_that_printed_nothing_still_says_it_built() -> None:
    """A build with no output at all (nothing to summarise) is never a bare "built: " line."""
    result = watch.built(0, "", "")
    assert result.ok and result.headline == "built: built." and result.details == []


# -- what a finished child leaves behind -----------------------------------------------------------------


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie no longer runs: it only waits to be reaped by whoever adopted it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.parametrize("end", ["result", "stop"])
def test_a_build_that_exits_leaving_a_helper_in_its_group_has_the_helper_killed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, end: str
) -> None:
    """Whatever a finished build left running in its group (a server a definition started, say) is
    killed when its outcome is read, or when it is stopped before that (watch ending, a newer save,
    between its exit and the loop's next look): nothing a build started outlives it."""
    helper = tmp_path / "helper.pid"
    script = (
        "import pathlib, subprocess, sys; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
        f"pathlib.Path({str(helper)!r}).write_text(str(p.pid))"
    )
    child = _child_running(monkeypatch, tmp_path, script)
    deadline = time.monotonic() + 30
    while not child.done():
        assert time.monotonic() < deadline, "the build never exited"
        time.sleep(0.02)
    pid = int(helper.read_text())
    try:
        if end == "result":
            assert child.result()[0] == 0
        else:
            child.stop()
            assert child.process.returncode == 0  # reaped: it had exited by itself
        deadline = time.monotonic() + 5
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(pid), "the helper the build left in its group is still running"
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_single_build_interrupted_while_waited_for_is_stopped_with_its_group(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`run_once` stops its child on every way out, an exception while waiting (Ctrl-C) included."""
    started: list[subprocess.Popen[bytes]] = []

    def popen(_args: list[str], **options: Any) -> subprocess.Popen[bytes]:
        started.append(REAL_POPEN([sys.executable, "-c", "import time; time.sleep(600)"], **options))
        return started[-1]

    def interrupted(_self: watch.Child) -> watch.Outcome:
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(watch.Child, "finish", interrupted)
    try:
        with pytest.raises(KeyboardInterrupt):
            watch.run_once(tmp_path, "build")
        [process] = started
        assert process.returncode is not None, "the interrupted build is still running"
    finally:
        for process in started:
            if process.returncode is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_a_single_build_past_its_limit_is_stopped_and_reported_as_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`finish` (a single build or push, as `run_once` waits for it) stops a child at its limit and says
    so in the words of a stop, naming the limit."""
    monkeypatch.setattr(watch, "CHILD_TIMEOUT_SECONDS", 0.2)
    child = _child_running(monkeypatch, tmp_path, "import time; time.sleep(600)")
    result = child.finish()
    assert child.process.returncode is not None
    assert result == watch.timed_out(child)
    assert result.headline.startswith("build stopped after 0.2 s")


def test_a_build_whose_output_is_not_utf8_is_reported_not_fatal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A definition may print anything (a Latin-1 title, raw bytes): the build's outcome is still read
    and shown, the bad bytes replaced, and the watcher is not taken down by it."""
    script = "import sys; sys.stderr.buffer.write(b'overview.py:3: caf\\xe9\\n'); sys.exit(1)"
    child = _child_running(monkeypatch, tmp_path, script)
    result = child.finish()
    assert result == watch.Outcome(
        False, "build failed; nothing written, still watching", ["overview.py:3: caf\ufffd"]
    )


def test_a_child_that_cannot_start_leaves_no_open_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A build that cannot even be started (no such interpreter, no process left) raises, and the files
    meant for its output are closed: a watcher that goes on must not leak two files per failed start."""
    opened: list[Any] = []
    real_temporary_file = tempfile.TemporaryFile

    def temporary_file() -> Any:
        opened.append(real_temporary_file())
        return opened[-1]

    def popen(_args: list[str], **_options: Any) -> subprocess.Popen[bytes]:
        raise FileNotFoundError("python")

    monkeypatch.setattr(tempfile, "TemporaryFile", temporary_file)
    monkeypatch.setattr(subprocess, "Popen", popen)
    with pytest.raises(FileNotFoundError):
        REAL_CHILD(tmp_path, "build")
    assert len(opened) == 2 and all(file.closed for file in opened)


def test_the_grace_before_sigkill_is_one_second() -> None:
    """The README's promise: every way out stops the group with SIGTERM, then SIGKILL after 1 s."""
    assert watch.STOP_GRACE_SECONDS == 1.0
