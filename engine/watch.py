"""`watch`: rebuild on every save of a definition, each time in a fresh interpreter, until Ctrl-C.

Each build runs in a child process (`python -m engine build`), not by re-importing in this one:
a changed module must take effect and a deleted one must disappear, and a definition that loops,
exits or corrupts module state must not take the watcher down with it. `build` itself writes all
or nothing (temporary files, then renames), so a broken save never leaves half an output behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event

from engine.definitions.loader import DEFINITION_MODULES

DEBOUNCE_MS = 50
"""Changes closer together than this are one rebuild: an editor's save is often several writes."""
CHILD_TIMEOUT_SECONDS = 120
"""A build (or push) that takes longer is stopped: a definition that never returns must not stall the
watcher, which reports it and goes on."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    headline: str
    details: list[str] = field(default_factory=list)


def watched_paths(root: Path) -> list[Path]:
    """The project's definitions: `config.py` and the definition packages that exist."""
    paths = [root / f"{name}.py" for name in DEFINITION_MODULES] + [
        root / name for name in DEFINITION_MODULES
    ]
    return [path for path in paths if path.exists()]


def is_definition(path: str) -> bool:
    """Python sources only: editors' swap files, __pycache__ and generated output never trigger a build."""
    return path.endswith(".py") and "__pycache__" not in Path(path).parts


ENGINE_HOME = str(Path(__file__).resolve().parents[1])
"""Where this engine is imported from: the child imports the same one, installed or not."""


def _run(root: Path, command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (ENGINE_HOME, os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "engine", command, "--project", str(root)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
    )


def _timed_out(command: str) -> Outcome:
    return Outcome(
        False,
        f"{command} stopped after {CHILD_TIMEOUT_SECONDS} s (does a definition never return?); "
        "nothing written, still watching",
    )


def build(root: Path, env: dict[str, str] | None = None) -> Outcome:
    try:
        done = _run(root, "build", env)
    except subprocess.TimeoutExpired:
        return _timed_out("build")
    lines = done.stdout.splitlines()
    if done.returncode == 0:
        changed = [line.split(None, 1)[1] for line in lines if line.startswith(("wrote ", "removed "))]
        removed = [line.split(None, 1)[1] for line in lines if line.startswith("removed ")]
        summary = lines[-1] if lines else "built."
        shown = [f"-{path}" if path in removed else path for path in changed]
        return Outcome(True, f"built: {summary}" + (f" ({', '.join(shown)})" if shown else ""))
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    return Outcome(False, "build failed; nothing written, still watching", errors)


def push(root: Path, env: dict[str, str] | None = None) -> Outcome:
    try:
        done = _run(root, "push", env)
    except subprocess.TimeoutExpired:
        return _timed_out("push")
    lines = [line for line in done.stdout.splitlines() if not line.startswith("[")]  # no per-object progress
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    summary = lines[-1] if lines else ""
    if done.returncode == 0:
        return Outcome(True, f"pushed: {summary}")
    return Outcome(False, "push did not complete; still watching", [*lines[:-1], *errors, summary])


def _changes(root: Path, stop: Event | None) -> Iterator[set[str]]:
    import watchfiles  # noqa: PLC0415  (only this command needs it)

    for batch in watchfiles.watch(
        *watched_paths(root),
        watch_filter=lambda _change, path: is_definition(path),
        debounce=DEBOUNCE_MS,
        step=DEBOUNCE_MS // 2,
        stop_event=stop,
        rust_timeout=500,  # wake twice a second, so Ctrl-C and `stop` are seen at once
        yield_on_timeout=True,  # the first (empty) batch says the watcher is up
    ):
        yield {str(Path(path).relative_to(root)) for _, path in batch}


def watch(root: Path, *, then_push: bool, echo: Callable[[str], None], stop: Event | None = None) -> None:
    """Build now and after every change; returns when `stop` is set. Ctrl-C raises KeyboardInterrupt."""

    def report(outcome: Outcome, cause: str = "") -> None:
        echo(f"{time.strftime('%H:%M:%S')} {cause}{outcome.headline}")
        for line in outcome.details:
            echo(f"         {line}")

    def cycle(cause: str = "") -> None:
        built = build(root, env)
        report(built, cause)
        if built.ok and then_push:
            report(push(root, env))

    # The schema check's TypeScript stays warm between builds: most of a rebuild's time otherwise.
    from engine.lint.grafana_schema import WARM_CHECKER, start_warm_checker  # noqa: PLC0415

    warm = start_warm_checker(root)
    env = {WARM_CHECKER: warm[1]} if warm else {}
    try:
        _watch(root, then_push=then_push, echo=echo, stop=stop, cycle=cycle)
    finally:
        if warm:
            warm[0].kill()
            warm[0].wait()


def _watch(
    root: Path,
    *,
    then_push: bool,
    echo: Callable[[str], None],
    stop: Event | None,
    cycle: Callable[..., None],
) -> None:
    """The loop itself: a first build once the watcher is up, then one per batch of changes."""
    names = ", ".join(str(path.relative_to(root)) for path in watched_paths(root))
    echo(f"watching {names} in {root}" + (" (and pushing)" if then_push else "") + "; Ctrl-C stops")
    started = False
    for changed in _changes(root, stop):
        if not started:  # the watcher runs now: a save during this first build is not lost
            started = True
            cycle()
        if changed:
            cycle(f"{', '.join(sorted(changed))}: ")
