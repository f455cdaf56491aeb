"""`watch`: rebuild on every save of a definition, each time in a fresh interpreter, until stopped.

Each build runs in a child process (`python -m dashboards_as_code build`), not by re-importing in this one:
a changed module must take effect and a deleted one must disappear, and a definition that loops,
exits or corrupts module state must not take the watcher down with it. `build` itself writes all
or nothing (temporary files, then renames), so a broken save never leaves half an output behind.

Each child (build or push) runs in a process group of its own, so that stopping it stops everything
it started; the watcher stops that group on every way out (Ctrl-C, SIGTERM, an exception, the time
limit, a newer save), so no build is ever left running behind it. The loop keeps reading changes
while a child runs: a new save cancels the running build and starts another, so a save that loops is
replaced by its fix at once, not after the time limit.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event
from types import FrameType
from typing import IO

from dashboards_as_code import defaults
from dashboards_as_code.definitions.loader import definition_modules

DEBOUNCE_MS = 50
"""The longest batch of changes that is one rebuild (watchfiles' `debounce`); a batch ends sooner when
no change comes for half of it (`step`): an editor's save is several writes a few ms apart."""
CHILD_TIMEOUT_SECONDS: float = defaults.WATCH_CHILD_TIMEOUT_SECONDS
"""A build (or push) that takes longer is stopped: a definition that never returns, or a Grafana that
never answers, must not stall the watcher, which reports it and goes on. `watch` passes the
WATCH_CHILD_TIMEOUT_SECONDS setting instead; this is the limit when none is given."""
STOP_GRACE_SECONDS = 1.0
"""How long a child's process group has to exit after SIGTERM before it gets SIGKILL."""
POLL_MS = 100
"""How often the loop wakes without a change, to see whether the running child has finished."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Ctrl-C and a supervisor's SIGTERM both mean "stop watching": one clean stop, exit code 0."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    headline: str
    details: list[str] = field(default_factory=list)


def watched_paths(root: Path) -> list[Path]:
    """The project's definitions: `config.py` and the definition packages that exist."""
    paths = [root / f"{name}.py" for name in definition_modules()] + [
        root / name for name in definition_modules()
    ]
    return [path for path in paths if path.exists()]


def is_definition(path: str) -> bool:
    """Python sources only: editors' swap and lock files, __pycache__ and output never trigger a build.

    Emacs' lock file `.#name.py` ends in `.py` but is a dangling symlink written when a buffer is
    modified, before any save: building then would build the old text.
    """
    parts = Path(path).parts
    return path.endswith(".py") and "__pycache__" not in parts and not parts[-1].startswith(".#")


ENGINE_HOME = str(Path(__file__).resolve().parents[1])
"""Where this engine is imported from: the child imports the same one, installed or not."""


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    """Signal a whole process group; one that is already gone is not an error."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


class Child:
    """One `python -m dashboards_as_code <command>` in a process group of its own, its output in
    temporary files.

    Files rather than pipes: nothing has to drain them while the watcher waits for changes, so the
    loop stays single-threaded. The group leader is never reaped before its group has been killed
    (`done` looks with WNOWAIT), so the group id cannot be reused by an unrelated process meanwhile.
    """

    def __init__(
        self, root: Path, command: str, env: dict[str, str] | None = None, timeout: float | None = None
    ) -> None:
        self.command = command
        self.timeout = CHILD_TIMEOUT_SECONDS if timeout is None else timeout
        self.started = time.monotonic()
        # Held for the child's life, closed by stop() or result(): no `with` block spans that.
        self._out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        path = os.pathsep.join(p for p in (ENGINE_HOME, os.environ.get("PYTHONPATH", "")) if p)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dashboards_as_code", command, "--project", str(root)],
                stdin=subprocess.DEVNULL,
                stdout=self._out,
                stderr=self._err,
                start_new_session=True,  # its own process group: killing the group kills all it started
                env={**os.environ, "PYTHONPATH": path, **(env or {})},
            )
        except BaseException:
            self._close()
            raise

    def done(self) -> bool:
        """Whether the child has exited, without reaping it (its group id stays reserved)."""
        if self.process.returncode is not None:
            return True
        try:
            found = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # reaped already
            return True
        return found is not None

    def overdue(self) -> bool:
        return time.monotonic() - self.started > self.timeout

    def stop(self) -> None:
        """SIGTERM to the whole group, SIGKILL after a short grace, then reap: nothing is left running."""
        if self.process.returncode is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while not self.done() and time.monotonic() < deadline:
                time.sleep(0.02)
            _signal_group(self.process.pid, signal.SIGKILL)  # also any member that ignored SIGTERM
            self.process.wait()
        self._close()

    def result(self) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of a child that is done; whatever it left in its group is killed."""
        if self.process.returncode is None:
            _signal_group(self.process.pid, signal.SIGKILL)
        code = self.process.wait()
        out, err = (self._read(stream) for stream in (self._out, self._err))
        self._close()
        return code, out, err

    def finish(self) -> Outcome:
        """Wait for the child (within the time limit) and read its outcome; for a single build or push."""
        while not self.done():
            if self.overdue():
                self.stop()
                return timed_out(self)
            time.sleep(0.05)
        return outcome(self.command, *self.result())

    @staticmethod
    def _read(stream: IO[bytes]) -> str:
        stream.seek(0)
        return stream.read().decode("utf-8", errors="replace")

    def _close(self) -> None:
        self._out.close()
        self._err.close()


def timed_out(child: Child) -> Outcome:
    """A child stopped at its time limit: what it may have been waiting for, and what that leaves."""
    if child.command == "build":
        why, effect = "does a definition never return?", "nothing written"
    else:  # push writes object by object, each write whole: some may be done, the rest is not
        why, effect = "is Grafana answering?", "the next good save pushes again"
    return Outcome(
        False, f"{child.command} stopped after {child.timeout:g} s ({why}); {effect}, still watching"
    )


def built(code: int, stdout: str, stderr: str) -> Outcome:
    """A build's outcome: what it wrote or removed, or its errors (each with file and line)."""
    lines = stdout.splitlines()
    if code == 0:
        changed = [line.split(None, 1)[1] for line in lines if line.startswith(("wrote ", "removed "))]
        removed = [line.split(None, 1)[1] for line in lines if line.startswith("removed ")]
        summary = lines[-1] if lines else "built."
        shown = [f"-{path}" if path in removed else path for path in changed]
        return Outcome(True, f"built: {summary}" + (f" ({', '.join(shown)})" if shown else ""))
    errors = [line for line in stderr.splitlines() if line.strip()]
    return Outcome(False, "build failed; nothing written, still watching", errors)


def pushed(code: int, stdout: str, stderr: str) -> Outcome:
    """A push's outcome: its summary, or what did not complete (conflicts, failures)."""
    lines = [line for line in stdout.splitlines() if not line.startswith("[")]  # no per-object progress
    errors = [line for line in stderr.splitlines() if line.strip()]
    if code == 0:
        return Outcome(True, f"pushed: {lines[-1] if lines else 'done.'}")
    # The summary (stdout's last line) goes last, after the errors that explain it; a push that died
    # before printing one has only its errors, never a blank line in their place.
    return Outcome(False, "push did not complete; still watching", [*lines[:-1], *errors, *lines[-1:]])


def outcome(command: str, code: int, stdout: str, stderr: str) -> Outcome:
    return (built if command == "build" else pushed)(code, stdout, stderr)


def run_once(root: Path, command: str, env: dict[str, str] | None = None) -> Outcome:
    """One build or push in a child, waited for: stopped (its whole group) at the time limit."""
    child = Child(root, command, env)
    try:
        return child.finish()
    finally:
        child.stop()


def build(root: Path, env: dict[str, str] | None = None) -> Outcome:
    return run_once(root, "build", env)


def push(root: Path, env: dict[str, str] | None = None) -> Outcome:
    return run_once(root, "push", env)


def _changes(root: Path, stop: Event) -> Iterator[set[str]]:
    """Batches of changed definitions, relative to `root`; an empty batch every POLL_MS without any."""
    import watchfiles  # noqa: PLC0415  (only this command needs it)

    for batch in watchfiles.watch(
        *watched_paths(root),
        watch_filter=lambda _change, path: is_definition(path),
        debounce=DEBOUNCE_MS,
        step=DEBOUNCE_MS // 2,
        stop_event=stop,
        rust_timeout=POLL_MS,  # wake often: a finished child is reported at once, `stop` seen at once
        yield_on_timeout=True,  # the first (empty) batch says the watcher is up
    ):
        yield {str(Path(path).relative_to(root)) for _, path in batch}


Report = Callable[[Outcome, str], None]


class Runner:
    """The one child running now (a build, then maybe a push) and what to do when it ends."""

    def __init__(
        self,
        root: Path,
        *,
        then_push: bool,
        env: dict[str, str],
        report: Report,
        timeout: float | None = None,
    ) -> None:
        self.root, self.then_push, self.env, self.report = root, then_push, env, report
        self.timeout = timeout
        self.child: Child | None = None
        self.cause = ""

    def rebuild(self, cause: str = "") -> None:
        """Start a build; one still running is cancelled first (its whole group stopped)."""
        if self.child is not None:
            cancelled = Outcome(False, f"{self.child.command} cancelled by a newer save")
            self.report(cancelled, self._cause_of(self.child))
            self.cancel()
        self.cause = cause
        self.child = Child(self.root, "build", self.env, self.timeout)

    def poll(self) -> None:
        """If the child has ended or overrun, report it; after a good build, start the push."""
        child = self.child
        if child is None or not (child.done() or child.overdue()):
            return
        self.child = None
        if not child.done():
            child.stop()
            self.report(timed_out(child), self._cause_of(child))
            return
        result = outcome(child.command, *child.result())
        self.report(result, self._cause_of(child))
        if result.ok and child.command == "build" and self.then_push:
            self.child = Child(self.root, "push", self.env, self.timeout)

    def _cause_of(self, child: Child) -> str:
        """The save a child's report is put under: a build is its save's; a push is nobody's (it stands
        for every file built since the last push, and the save that started it may be long gone)."""
        return self.cause if child.command == "build" else ""

    def cancel(self) -> None:
        """Stop the running child, if any, with everything it started."""
        child, self.child = self.child, None
        if child is not None:
            child.stop()


def watch(
    root: Path,
    *,
    then_push: bool,
    echo: Callable[[str], None],
    stop: Event | None = None,
    child_timeout: float | None = None,
) -> None:
    """Build now and after every change; returns when `stop` is set, or on Ctrl-C or SIGTERM.

    `child_timeout` limits each build and push (CHILD_TIMEOUT_SECONDS when not given)."""

    def report(outcome: Outcome, cause: str = "") -> None:
        echo(f"{time.strftime('%H:%M:%S')} {cause}{outcome.headline}")
        for line in outcome.details:
            echo(f"         {line}")

    stop = stop if stop is not None else Event()
    # The schema check's TypeScript stays warm between builds: most of a rebuild's time otherwise.
    from dashboards_as_code.lint.grafana_schema import WARM_CHECKER, start_warm_checker  # noqa: PLC0415

    restore = _stop_on_signals(stop)
    warm = start_warm_checker(root)
    env = {WARM_CHECKER: warm[1]} if warm else {}
    runner = Runner(root, then_push=then_push, env=env, report=report, timeout=child_timeout)
    try:
        _watch(root, then_push=then_push, echo=echo, stop=stop, runner=runner)
    finally:
        runner.cancel()
        if warm:
            warm[0].kill()
            warm[0].wait()
        restore()


def _stop_on_signals(stop: Event) -> Callable[[], None]:
    """Ctrl-C and SIGTERM set `stop`, so both take the loop's one clean way out; returns the undo.

    A handler that raised would land anywhere (between starting a child and recording it, say);
    setting an event lets the loop finish its step and stop the running child itself. Only the main
    thread may install handlers; elsewhere (a test driving `watch` in a thread) `stop` is the way.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, handle) for signum in STOP_SIGNALS}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def _watch(root: Path, *, then_push: bool, echo: Callable[[str], None], stop: Event, runner: Runner) -> None:
    """The loop itself: a first build once the watcher is up, then one per batch of changes."""
    names = ", ".join(str(path.relative_to(root)) for path in watched_paths(root))
    echo(f"watching {names} in {root}" + (" (and pushing)" if then_push else "") + "; Ctrl-C stops")
    started = False
    for changed in _changes(root, stop):
        if not started:  # the watcher runs now: a save during this first build is not lost
            started = True
            runner.rebuild()
        if changed:
            runner.rebuild(f"{', '.join(sorted(changed))}: ")
        runner.poll()
        if stop.is_set():
            return
