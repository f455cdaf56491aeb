"""`watch` through the real entry point, on a copy of the project: every save rebuilds, a broken save
is reported and survived, a deleted dashboard's output goes, `--push` pushes, SIGINT exits 0."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboards_as_code import watch
from tests.conftest import REPO
from tests.grafana_server.server import FakeGrafana

OVERVIEW_JSON = "provisioning/dashboards/tiktickets/tiktickets-overview.json"
STAT_TITLE = '"Active WhatsApp sessions",'
"""The stat panel's title in dashboards/overview.py (no alert links to it, so a rename stays valid)."""
EXTRA_MODULE = """from dashboards import overview


def dashboard():
    definition = overview.dashboard()
    definition.dashboard.uid = "watch-extra"
    definition.dashboard.title = "Watch extra"
    return definition
"""


BUILT = re.compile(
    r"built: (?P<written>\d+) written, \d+ unchanged, (?P<removed>\d+) removed\. \((?P<files>[^)]*)\)$"
)
"""A good build's line: `build`'s own summary (written / unchanged / removed), then what changed."""


class Watcher:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process, self.lines, self.seen = process, queue.Queue[str](), list[str]()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, wanted: Callable[[str], bool], timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:  # exited, and every line it printed has been read: nothing more will come
                assert self.process.poll() is None or self.reader.is_alive(), f"watch exited: {self.seen}"
                continue
            self.seen.append(line)
            if wanted(line):
                return line
        raise AssertionError(f"no such line within {timeout} s: {self.seen}")

    def next_build(self) -> str:
        return self.wait_for(lambda line: "built:" in line or "build failed" in line)


@contextmanager
def watching(
    project: Path | str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Iterator[Watcher]:
    """`build.py watch --project project` run from `cwd` (a relative `project` is read from there); a
    str is passed as typed (`dir/`, `./dir`), which a Path would normalise away."""
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "watch", "--project", str(project), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})},
        cwd=cwd,
    )  # fmt: skip
    watcher = Watcher(process)
    try:
        watcher.next_build()  # the build at start
        yield watcher
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def _titles(project: Path) -> list[str]:
    return [panel["title"] for panel in json.loads((project / OVERVIEW_JSON).read_text())["panels"]]


def test_every_save_rebuilds_a_broken_one_is_survived_and_sigint_exits_0(project_copy: Path) -> None:
    overview = project_copy / "dashboards" / "overview.py"
    with watching(project_copy) as watcher:
        # The first line says what is watched, and that nothing is pushed without --push.
        assert watcher.seen[0].startswith("watching ") and "(and pushing)" not in watcher.seen[0]
        _edit(overview, STAT_TITLE, '"WhatsApp sessions now",')
        retitled = watcher.next_build()
        assert "WhatsApp sessions now" in _titles(project_copy)
        # The save is named as the user knows it: relative to the project, not by its absolute path.
        assert re.fullmatch(r"\d\d:\d\d:\d\d dashboards/overview\.py: built: .+", retitled), retitled
        # The line carries the build's summary (its last line), then the files it wrote.
        summary = BUILT.search(retitled)
        assert summary, retitled
        assert int(summary["written"]) == len(summary["files"].split(", ")) and summary["removed"] == "0"
        assert OVERVIEW_JSON in summary["files"].split(", ")

        before = (project_copy / OVERVIEW_JSON).read_bytes()
        good = overview.read_text()
        overview.write_text(good + "\nbroken = (\n")
        failed = watcher.next_build()
        assert "build failed" in failed and "dashboards/overview.py" in failed
        detail = watcher.wait_for(lambda line: "SyntaxError" in line)
        assert f"dashboards/overview.py:{len(good.splitlines()) + 2}" in detail
        assert watcher.process.poll() is None
        assert (project_copy / OVERVIEW_JSON).read_bytes() == before

        overview.write_text(good.replace('"WhatsApp sessions now",', '"Sessions right now",'))
        assert "built:" in watcher.next_build()
        assert "Sessions right now" in _titles(project_copy)

        extra = project_copy / "dashboards" / "extra.py"
        extra.write_text(EXTRA_MODULE)
        assert "built:" in watcher.next_build()
        [written] = list((project_copy / "provisioning").rglob("watch-extra.json"))
        extra.unlink()
        removed = watcher.next_build()
        summary = BUILT.search(removed)
        assert summary, removed
        assert (summary["written"], summary["removed"]) == ("0", "1")
        assert summary["files"] == f"-{written.relative_to(project_copy)}"
        assert not written.exists()

        watcher.process.send_signal(signal.SIGINT)
        assert watcher.process.wait(timeout=10) == 0
        watcher.wait_for(lambda line: line == "stopped.", timeout=5)


def test_a_project_given_as_a_relative_path_rebuilds_on_a_save(project_copy: Path) -> None:
    """`watch --project <relative dir>` (from the directory above it) is the same watch: a save
    rebuilds, named relative to the project, and SIGINT stops it with exit 0 and no traceback."""
    with watching(Path(project_copy.name), cwd=project_copy.parent) as watcher:
        _edit(project_copy / "dashboards" / "overview.py", STAT_TITLE, '"WhatsApp sessions now",')
        rebuilt = watcher.next_build()
        assert re.fullmatch(r"\d\d:\d\d:\d\d dashboards/overview\.py: built: .+", rebuilt), rebuilt
        assert "WhatsApp sessions now" in _titles(project_copy)
        watcher.process.send_signal(signal.SIGINT)
        assert watcher.process.wait(timeout=10) == 0
        watcher.wait_for(lambda line: line == "stopped.", timeout=5)
    assert not [line for line in watcher.seen if "Traceback" in line], watcher.seen


def test_push_after_each_good_save_and_a_conflict_does_not_stop_it(project_copy: Path) -> None:
    overview = project_copy / "dashboards" / "overview.py"
    with FakeGrafana() as grafana:
        env = {"GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": "glsa_admin"}
        with watching(project_copy, "--push", env=env) as watcher:
            assert watcher.seen[0].endswith(" (and pushing); Ctrl-C stops"), watcher.seen
            assert "pushed:" in watcher.wait_for(lambda line: "push" in line)

            def dashboard_writes() -> int:
                return sum(1 for method, path, _ in grafana.state.writes if path == "/api/dashboards/db")

            first = dashboard_writes()
            _edit(overview, STAT_TITLE, '"WhatsApp sessions now",')
            assert "dashboards/overview.py: built:" in watcher.next_build()
            # The save is named once, on its build's line: the push line stands for every file built.
            assert re.fullmatch(r"\d\d:\d\d:\d\d pushed: .+", watcher.wait_for(lambda line: "push" in line))
            assert dashboard_writes() == first + 1  # once per good save

            grafana.edit_in_ui("tiktickets-overview", lambda d: d.update(title="Edited in Grafana"))
            _edit(overview, '"WhatsApp sessions now",', '"Sessions right now",')
            assert "built:" in watcher.next_build()
            assert "push did not complete" in watcher.wait_for(lambda line: "push" in line)
            watcher.wait_for(lambda line: "conflict" in line)
            assert watcher.process.poll() is None
            assert (
                grafana.state.dashboards["tiktickets-overview"]["dashboard"]["title"] == "Edited in Grafana"
            )

            _edit(overview, '"Sessions right now",', '"Sessions",')
            assert "built:" in watcher.next_build()  # still watching after the conflict


def test_push_without_credentials_fails_at_once(project_copy: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "watch", "--push", "--project", str(project_copy)],
        env={**os.environ, "GRAFANA_TOKEN": "", "GRAFANA_USER": "", "GRAFANA_PASSWORD": ""},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "no Grafana credentials" in result.stderr


def test_a_definition_that_never_returns_is_stopped_and_reported(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "CHILD_TIMEOUT_SECONDS", 3)
    before = (project_copy / OVERVIEW_JSON).read_bytes()
    (project_copy / "dashboards" / "loops.py").write_text("while True:\n    pass\n")
    outcome = watch.build(project_copy)
    assert (
        not outcome.ok and "stopped after 3 s" in outcome.headline and "nothing written" in outcome.headline
    )
    assert (project_copy / OVERVIEW_JSON).read_bytes() == before


PUSH_LIMIT_SECONDS = 10
"""WATCH_CHILD_TIMEOUT_SECONDS for the hanging-Grafana test: well above a build here (a few seconds),
far below the hang; GRAFANA_TIMEOUT is set above it so that only watch's limit can end the push."""


def _push_lines(watcher: Watcher) -> str:
    return watcher.wait_for(lambda line: "push" in line, timeout=PUSH_LIMIT_SECONDS + 45)


def test_a_push_past_its_time_limit_is_stopped_and_watching_goes_on(project_copy: Path) -> None:
    overview = project_copy / "dashboards" / "overview.py"
    with FakeGrafana() as grafana:
        env = {
            "GRAFANA_URL": grafana.url,
            "GRAFANA_TOKEN": "glsa_admin",
            "GRAFANA_TIMEOUT": "300",
            "WATCH_CHILD_TIMEOUT_SECONDS": str(PUSH_LIMIT_SECONDS),
        }
        with watching(project_copy, "--push", env=env) as watcher:
            assert "pushed:" in _push_lines(watcher)
            grafana.state.latency = 600  # every request hangs: Grafana accepts connections, never answers
            _edit(overview, STAT_TITLE, '"WhatsApp sessions now",')
            assert "built:" in watcher.next_build()
            stopped = _push_lines(watcher)
            assert f"push stopped after {PUSH_LIMIT_SECONDS} s" in stopped and "still watching" in stopped
            # The push is nobody's save: not reported under the file whose save started the build.
            assert "overview.py" not in stopped, stopped
            # What a person should look at, and that nothing is lost: not a build's words.
            assert "is Grafana answering?" in stopped and "the next good save pushes again" in stopped
            assert watcher.process.poll() is None
            assert not any("Traceback" in line for line in watcher.seen), watcher.seen

            grafana.state.latency = 0  # Grafana answers again: the next good save is built and pushed
            _edit(overview, '"WhatsApp sessions now",', '"Sessions right now",')
            assert "built:" in watcher.next_build()
            assert "pushed:" in _push_lines(watcher)
            panels = grafana.state.dashboards["tiktickets-overview"]["dashboard"]["panels"]
            assert "Sessions right now" in [panel["title"] for panel in panels]
        assert not any("Traceback" in line for line in watcher.seen), watcher.seen


QUIET_AFTER_PUSH_MIN_SECONDS = 10
"""The shortest quiet watched for after a push: a second push (a new `build.py push` process) would
send its first request within the time the first push took, far less than this on any machine."""


def _lines_during(watcher: Watcher, seconds: float) -> list[str]:
    """Every line watch prints in the next `seconds` (it must keep running all that time)."""
    deadline, lines = time.monotonic() + seconds, []
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = watcher.lines.get(timeout=min(left, 0.2))
        except queue.Empty:
            assert watcher.process.poll() is None, f"watch exited: {watcher.seen}"
            continue
        watcher.seen.append(line)
        lines.append(line)
    return lines


def test_watch_push_reads_the_projects_env_from_any_working_directory(
    project_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Grafana's address and credentials in the project's `.env`, watch started from elsewhere (a
    folder with no `.env`): the push at start reaches that Grafana, as `push --project` would."""
    for name in ("GRAFANA_URL", "GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with FakeGrafana() as grafana:
        (project_copy / ".env").write_text(f"GRAFANA_URL={grafana.url}\nGRAFANA_TOKEN=glsa_admin\n")
        with watching(project_copy, "--push", cwd=elsewhere) as watcher:
            assert "pushed:" in watcher.wait_for(lambda line: "push" in line), watcher.seen
        assert any(method == "POST" for method, _, _ in grafana.state.requests)


def test_one_good_save_pushes_exactly_once(project_copy: Path) -> None:
    """A push is started by a good build, never by the end of another push: after one save, one push
    reaches Grafana, then nothing, for longer than that push took (counted in requests to Grafana,
    since a second push of unchanged dashboards writes nothing there)."""
    overview = project_copy / "dashboards" / "overview.py"
    with FakeGrafana() as grafana:
        env = {"GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": "glsa_admin"}
        with watching(project_copy, "--push", env=env) as watcher:
            assert "pushed:" in watcher.wait_for(lambda line: "push" in line)  # the push at start
            _edit(overview, STAT_TITLE, '"WhatsApp sessions now",')
            assert "built:" in watcher.next_build()
            started, before = time.monotonic(), len(grafana.state.requests)
            assert "pushed:" in watcher.wait_for(lambda line: "push" in line)
            took = time.monotonic() - started
            pushed = len(grafana.state.requests)
            assert any(method == "POST" for method, _, _ in grafana.state.requests[before:pushed])
            later = _lines_during(watcher, max(QUIET_AFTER_PUSH_MIN_SECONDS, 3 * took))
            assert grafana.state.requests[pushed:] == [], later
            assert not any("push" in line for line in later), later


def test_push_never_follows_a_failed_build(project_copy: Path) -> None:
    """A push started after a failed build would show in the output before the next save's build line
    (its result, or its cancellation by that save), and as requests on Grafana: neither may appear."""
    overview = project_copy / "dashboards" / "overview.py"
    good = overview.read_text()
    with FakeGrafana() as grafana:
        env = {"GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": "glsa_admin"}
        with watching(project_copy, "--push", env=env) as watcher:
            assert "pushed:" in watcher.wait_for(lambda line: "push" in line)
            requests_before = len(grafana.state.requests)
            overview.write_text(good.replace(STAT_TITLE, '"Changed, then broken",') + "\nbroken = (\n")
            assert "build failed" in watcher.next_build()
            first_failure = len(watcher.seen)
            overview.write_text(good + "\nraise RuntimeError('still broken')\n")
            assert "build failed" in watcher.next_build()
            assert grafana.state.requests[requests_before:] == []
            between = watcher.seen[first_failure:]
            assert not any("push" in line for line in between), between

            overview.write_text(good.replace(STAT_TITLE, '"Fixed",'))  # the next good save pushes again
            assert "built:" in watcher.next_build()
            assert "pushed:" in watcher.wait_for(lambda line: "push" in line)
            assert any(method == "POST" for method, _, _ in grafana.state.requests[requests_before:])


@pytest.mark.parametrize(
    ("relative", "triggers"),
    [
        ("config.py", True),
        ("dashboards/overview.py", True),
        ("dashboards/nested/panels.py", True),
        # What editors write beside a file while it is edited or saved: never a definition.
        ("config.py.swp", False),
        (".config.py.swx", False),
        ("dashboards/.overview.py.swp", False),
        ("dashboards/overview.py~", False),
        ("x.py.orig", False),
        ("dashboards/overview.py.bak", False),
        # Emacs' lock file, written when a buffer is modified (before the save): ends in ".py".
        ("dashboards/.#overview.py", False),
        (".#config.py", False),
        # Python's own cache: written by every import, including the build's.
        ("dashboards/__pycache__/overview.cpython-312.pyc", False),
        ("dashboards/__pycache__/overview.py", False),
        # Generated output.
        ("provisioning/dashboards/tiktickets/tiktickets-overview.json", False),
    ],
)
def test_only_a_saved_python_source_triggers_a_build(relative: str, triggers: bool) -> None:
    """A swap or backup file holds ".py" in its name but is no module: a build on every keystroke of
    the editor (vim rewrites its .swp while you type) would flood the output and cancel real builds."""
    assert watch.is_definition(str(REPO / relative)) is triggers


# -- what a child's output becomes in watch's lines ------------------------------------------------------

PUSH_PROGRESS = "[1/2] dashboard tiktickets-overview\n[2/2] folder tiktickets\n"


def test_a_good_push_is_one_line_its_summary() -> None:
    """`push` prints a progress line per object; watch shows only the count line after `pushed:`."""
    summary = "5 unchanged (7 reads, 0 writes, 0 retries)."
    result = watch.pushed(0, PUSH_PROGRESS + summary + "\n", "")
    assert result == watch.Outcome(True, f"pushed: {summary}")
    assert watch.pushed(0, "", "").headline == "pushed: done."  # no summary: never a bare "pushed: "


def test_a_failed_push_shows_every_problem_line_then_its_summary_and_no_progress() -> None:
    """What did not complete is the point of the message: the conflict and its hint (stdout), the
    error (stderr), and the count line last, as `push` itself ends; progress lines are noise there."""
    conflict = "conflict   dashboard tiktickets-overview: edited in Grafana"
    hint = "           not overwritten; `push --force` saves the live version to a backup, then writes"
    summary = "1 conflict, 1 unchanged (3 reads, 0 writes, 0 retries)."
    error = "error: 1 object(s) not pushed"
    result = watch.pushed(1, f"{PUSH_PROGRESS}{conflict}\n{hint}\n{summary}\n", f"{error}\n\n")
    assert result == watch.Outcome(
        False, "push did not complete; still watching", [conflict, hint, error, summary]
    )


def test_a_push_that_died_before_its_summary_shows_only_its_errors() -> None:
    """A push killed before it printed anything (a crash at import, say) has no summary: the detail
    lines are its errors alone, with no blank line standing where the summary would be."""
    error = "Traceback is not shown; error: cannot read dashboards/overview.py"
    result = watch.pushed(1, "", f"{error}\n")
    assert result == watch.Outcome(False, "push did not complete; still watching", [error])
    assert watch.pushed(1, PUSH_PROGRESS, "").details == []  # progress only: nothing to show, no blank


def test_a_good_build_names_the_files_it_changed_after_its_summary() -> None:
    summary = "1 written, 4 unchanged, 1 removed."
    result = watch.built(0, f"wrote a/one.json\nremoved b/two.json\n{summary}\n", "")
    assert result == watch.Outcome(True, f"built: {summary} (a/one.json, -b/two.json)")
    unchanged = watch.built(0, "0 written, 5 unchanged, 0 removed.\n", "")
    assert unchanged.headline == "built: 0 written, 5 unchanged, 0 removed."  # no empty "()"


def test_a_failed_build_shows_each_error_line_and_no_blank_ones() -> None:
    stderr = "dashboards/overview.py:12: SyntaxError: '(' was never closed\n\n  \nerror: nothing written\n"
    result = watch.built(1, "", stderr)
    assert result == watch.Outcome(
        False,
        "build failed; nothing written, still watching",
        ["dashboards/overview.py:12: SyntaxError: '(' was never closed", "error: nothing written"],
    )
