"""`watch`'s outcomes as a table, from what the user reads: for each child (build, push) and each way it
can end, the headline and the lines under it; and the `watch` command's own start and stop (the
settings it reads, what it refuses, the line it ends with). In-process, with small fakes or a tiny
child script, so each row is seen in milliseconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from threading import Event
from typing import Any

import pytest
import watchfiles
from typer.testing import CliRunner

from dashboards_as_code import cli, watch

REAL_POPEN = subprocess.Popen
"""The real Popen, kept before a test puts its own in its place."""

BUILD_FAILED = "build failed; nothing written, still watching"
PUSH_FAILED = "push did not complete; still watching"
BUILD_SUMMARY = "1 written, 3 unchanged, 0 removed."
PUSH_SUMMARY = "1 updated, 4 unchanged (5 reads, 1 write, 0 retries)."

# (child, exit code, stdout, stderr) -> (ok, headline, details). A build is good only when it exits 0:
# a usage error (2), a crash the interpreter reports (any other code) or a kill by a signal (negative,
# as Popen reports it: the OOM killer, a SIGKILL) wrote nothing a user may rely on and never leads to
# a push. The headline is the child's summary, its last stdout line; stderr is never mixed into it.
OUTCOMES: dict[str, tuple[str, int, str, str, tuple[bool, str, list[str]]]] = {
    "build ok with output": (
        "build",
        0,
        f"wrote dashboards/a.json\n{BUILD_SUMMARY}\n",
        "warning: lint is slow today\n",
        (True, f"built: {BUILD_SUMMARY} (dashboards/a.json)", []),
    ),
    "build ok silent": ("build", 0, "", "", (True, "built: built.", [])),
    "build failed, errors on stderr": (
        "build",
        1,
        "loading definitions\n",
        "dashboards/a.py:3: NameError: name 'x' is not defined\nerror: nothing written\n",
        (
            False,
            BUILD_FAILED,
            ["dashboards/a.py:3: NameError: name 'x' is not defined", "error: nothing written"],
        ),
    ),
    "build usage error (exit 2)": (
        "build",
        2,
        "",
        "Error: No such option: --project\n",
        (False, BUILD_FAILED, ["Error: No such option: --project"]),
    ),
    "build crashed (exit 3)": (
        "build",
        3,
        f"{BUILD_SUMMARY}\n",
        "Fatal Python error: Segmentation fault\n",
        (False, BUILD_FAILED, ["Fatal Python error: Segmentation fault"]),
    ),
    "build killed by SIGKILL": (
        "build",
        -signal.SIGKILL,
        "wrote dashboards/a.json\n",
        "",
        (False, BUILD_FAILED, []),
    ),
    "push ok with output": (
        "push",
        0,
        f"[1/2] dashboard tiktickets-overview\nupdated    dashboard tiktickets-overview\n{PUSH_SUMMARY}\n",
        "warning: Grafana answered slowly\n",
        (True, f"pushed: {PUSH_SUMMARY}", []),
    ),
    "push ok silent": ("push", 0, "", "", (True, "pushed: done.", [])),
    "push failed, errors on stderr": (
        "push",
        1,
        f"[1/1] dashboard tiktickets-overview\n{PUSH_SUMMARY}\n",
        "error: 1 object(s) not pushed\n",
        (False, PUSH_FAILED, ["error: 1 object(s) not pushed", PUSH_SUMMARY]),
    ),
    "push usage error (exit 2)": (
        "push",
        2,
        "",
        "Error: Invalid value for GRAFANA_URL\n",
        (False, PUSH_FAILED, ["Error: Invalid value for GRAFANA_URL"]),
    ),
    "push killed by SIGTERM": (
        "push",
        -signal.SIGTERM,
        "[1/2] dashboard tiktickets-overview\n",
        "",
        (False, PUSH_FAILED, []),
    ),
}


@pytest.mark.parametrize(
    ("command", "code", "stdout", "stderr", "expected"), OUTCOMES.values(), ids=list(OUTCOMES)
)
def test_each_way_a_child_ends_is_read_as_the_user_expects(
    command: str, code: int, stdout: str, stderr: str, expected: tuple[bool, str, list[str]]
) -> None:
    ok, headline, details = expected
    assert watch.outcome(command, code, stdout, stderr) == watch.Outcome(ok, headline, details)


@pytest.mark.parametrize("row", list(OUTCOMES))
@pytest.mark.parametrize("then_push", [False, True], ids=["watch", "watch --push"])
def test_a_push_follows_only_a_good_build_and_only_with_push(
    monkeypatch: pytest.MonkeyPatch, row: str, then_push: bool
) -> None:
    """Whatever ends, watching goes on (the runner is free for the next save); the one thing that
    starts another child is a good build under `--push`. A push never starts a push."""
    command, code, stdout, stderr, expected = OUTCOMES[row]
    started: list[str] = []

    class Ended:
        def __init__(self, _root: Path, command: str, _env: Any = None, _timeout: Any = None) -> None:
            self.command = command
            started.append(command)

        def done(self) -> bool:
            return True

        def overdue(self) -> bool:
            return False

        def result(self) -> tuple[int, str, str]:
            return code, stdout, stderr

        def stop(self) -> None:
            raise AssertionError("a child that ended is not stopped")

    monkeypatch.setattr(watch, "Child", Ended)
    reported: list[watch.Outcome] = []
    runner = watch.Runner(Path("/p"), then_push=then_push, env={}, report=lambda o, _c: reported.append(o))
    runner.child = Ended(Path("/p"), command)  # type: ignore[assignment]
    runner.poll()
    assert reported == [watch.Outcome(*expected)]
    follows = then_push and command == "build" and expected[0]
    assert started == [command, "push"] if follows else [command]
    assert (runner.child is not None) is follows


# -- a single build or push, waited for (run_once): its limit ------------------------------------------


def test_a_single_build_that_finished_just_after_its_limit_is_reported_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The limit stops a build that is still running; one that has ended (and written its files) by the
    time it is looked at is reported with its outcome, not as "stopped", even if the limit has passed."""
    script = f"print({BUILD_SUMMARY!r})"

    def popen(_args: list[str], **options: Any) -> subprocess.Popen[bytes]:
        return REAL_POPEN([sys.executable, "-c", script], **options)

    monkeypatch.setattr(subprocess, "Popen", popen)
    child = watch.Child(tmp_path, "build", timeout=0.0)
    deadline = time.monotonic() + 30
    while not child.done():
        assert time.monotonic() < deadline, "the child never ended"
        time.sleep(0.01)
    assert child.overdue()
    assert child.finish() == watch.Outcome(True, f"built: {BUILD_SUMMARY}")


def test_a_child_reaped_elsewhere_counts_as_done(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """If something else reaped the child (the pid is no longer ours to wait for), it has ended: the
    loop must not wait on it forever, and stopping it (watch does on every way out) must not raise."""

    def popen(_args: list[str], **options: Any) -> subprocess.Popen[bytes]:
        return REAL_POPEN([sys.executable, "-c", "pass"], **options)

    monkeypatch.setattr(subprocess, "Popen", popen)
    child = watch.Child(tmp_path, "build", timeout=600)
    os.waitpid(child.process.pid, 0)  # reaped behind Popen's back: its group is gone too
    assert child.done()
    child.stop()  # a group already gone is no error: the watcher goes on


# -- which saved paths count --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "counts"),
    [
        (watchfiles.Change.modified, "/p/dashboards/overview.py", True),
        (watchfiles.Change.added, "/p/dashboards/new.py", True),  # a new dashboard, or a rename's new name
        (watchfiles.Change.deleted, "/p/dashboards/old.py", True),  # its JSON must go: a rename's old name
        (watchfiles.Change.added, "/p/dashboards/drafts", False),  # a directory is no definition
        (watchfiles.Change.modified, "/p/dashboards/overview.py.swp", False),
        (watchfiles.Change.added, "/p/provisioning/dashboards/a.json", False),
    ],
)
def test_the_watcher_counts_each_kind_of_change_to_a_definition(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, change: watchfiles.Change, path: str, counts: bool
) -> None:
    """Added, modified and deleted sources all rebuild (a deleted dashboard's JSON is removed, README);
    the filter the watcher is given decides on the path alone."""
    (tmp_path / "dashboards").mkdir()
    filters: list[Any] = []

    def fake_watch(*_paths: Path, **options: Any) -> Any:
        filters.append(options["watch_filter"])
        yield set()

    monkeypatch.setattr(watchfiles, "watch", fake_watch)
    list(watch._changes(tmp_path, Event()))
    [accept] = filters
    assert bool(accept(change, path)) is counts


# -- the command: the settings it reads, what it refuses, how it ends ----------------------------------


@pytest.fixture
def watch_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`watch` with the loop replaced by a recorder; no Grafana or limit setting from the environment."""
    for name in ("GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD", "WATCH_CHILD_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    calls: list[dict[str, Any]] = []

    def recorded(root: Path, **options: Any) -> None:
        calls.append({"root": root, **options})

    monkeypatch.setattr(watch, "watch", recorded)
    return calls


Start = tuple[list[str], dict[str, str], int, str, float | None]
"""(arguments, environment) -> (exit code, a part of the output, the limit the loop gets or None if it
never starts)."""


@pytest.mark.parametrize(
    "start",
    [
        ([], {}, 0, "stopped.", 120.0),
        ([], {"WATCH_CHILD_TIMEOUT_SECONDS": "2.5"}, 0, "stopped.", 2.5),
        ([], {"WATCH_CHILD_TIMEOUT_SECONDS": "3600"}, 0, "stopped.", 3600.0),
        ([], {"WATCH_CHILD_TIMEOUT_SECONDS": "3601"}, 2, "WATCH_CHILD_TIMEOUT_SECONDS", None),
        ([], {"WATCH_CHILD_TIMEOUT_SECONDS": "0"}, 2, "WATCH_CHILD_TIMEOUT_SECONDS", None),
        (["--push"], {}, 2, "no Grafana credentials", None),
        (["--push"], {"GRAFANA_TOKEN": "t0ken"}, 0, "stopped.", 120.0),
    ],
    ids=["default", "limit-set", "limit-max", "limit-over-max", "limit-zero", "push-no-credential", "push"],
)
def test_the_watch_command_starts_with_its_settings_or_refuses_before_watching(
    watch_calls: list[dict[str, Any]], tmp_path: Path, start: Start
) -> None:
    """A setting that is wrong (or `--push` with no credential) stops `watch` at start, exit 2, naming
    what to set, before anything is watched; otherwise the loop gets the limit as set, whether to
    push, and when it returns (Ctrl-C, SIGTERM) the command says `stopped.` and exits 0."""
    args, env, code, said, limit = start
    result = CliRunner().invoke(cli.app, ["watch", *args, "--project", str(tmp_path)], env=env)
    assert result.exit_code == code, result.output
    assert said in result.output
    if limit is None:
        assert watch_calls == []
        return
    [call] = watch_calls
    assert call["root"] == tmp_path.resolve()
    assert call["child_timeout"] == limit
    assert call["then_push"] is ("--push" in args)
    assert result.output.splitlines()[-1] == "stopped."


def test_ctrl_c_before_the_handlers_are_installed_is_still_a_clean_stop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Ctrl-C while `watch` is still starting (its handlers not yet in place) is the same request:
    `stopped.`, exit 0, no traceback."""
    monkeypatch.delenv("WATCH_CHILD_TIMEOUT_SECONDS", raising=False)

    def interrupted(_root: Path, **_options: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(watch, "watch", interrupted)
    result = CliRunner().invoke(cli.app, ["watch", "--project", str(tmp_path)])
    assert (result.exit_code, result.output) == (0, "stopped.\n")


def test_what_watch_hands_a_child_wins_over_the_same_variable_in_its_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The warm schema checker `watch` started is the one its children use: a variable of that name left
    in the shell (an earlier session's socket, gone now) must not take its place."""
    from dashboards_as_code.lint.grafana_schema import WARM_CHECKER  # noqa: PLC0415

    monkeypatch.setenv(WARM_CHECKER, "/tmp/stale.sock")
    given: list[dict[str, str]] = []

    def popen(_args: list[str], **options: Any) -> subprocess.Popen[bytes]:
        given.append(options["env"])
        return REAL_POPEN([sys.executable, "-c", "pass"], **options)

    monkeypatch.setattr(subprocess, "Popen", popen)
    child = watch.Child(tmp_path, "build", {WARM_CHECKER: "/tmp/warm.sock"})
    child.finish()
    assert given[0][WARM_CHECKER] == "/tmp/warm.sock"
