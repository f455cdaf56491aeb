"""Every command given its path the ways users really type it, through the real entry point.

A survivor of the mutation samples: `watch --project <relative path>` died on the first save, because
every test gave an absolute path. This module holds the whole class, not that instance: each command
that takes a path (derived from the CLI itself, so a new command or a new path option fails
`test_every_path_option_is_in_the_table` until it is added here) runs with that path given as an
absolute path, a relative path from another directory, `.` from inside, with a trailing slash,
through `..`, through a symlink and with a space in it. Every form must give what the absolute form
gives: the exit code, the bytes of every file written (and of what reached the Grafana test server),
and the printed lines once the path shown is replaced. Then each command given a path that does not
exist, a file where a directory belongs, or (when not root) an unreadable directory exits 2 naming the
path, without a traceback.

The absolute form is itself held to what each scenario describes (`Scenario.code`, `Scenario.says`),
so "all forms agree" cannot hold by every form failing the same way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from config import OVERVIEW_UID
from dashboards_as_code import cli
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.kinds.dashboard import dashboard_document
from tests.cli.bad_input import OVERVIEW, Mutation, make_template, replace
from tests.conftest import REPO, project_dashboard
from tests.grafana_server.server import FakeGrafana
from tests.test_metrics_engine import with_setting
from tests.test_watch import OVERVIEW_JSON, _edit, watching

RETITLED = '"WhatsApp sessions now",'
"""The stat panel's new title: a definition change, so build writes, check is stale, diff differs."""
ANOTHER_TITLE = next(
    panel["title"]
    for panel in dashboard_document(project_dashboard(load_project(REPO), OVERVIEW_UID))["panels"]
    if panel["type"] != "row"
)
"""A panel title the Overview already has: given to the stat panel, build refuses the dashboard."""
PULLED = "board.json"
"""The file `pull -o` writes, inside the form's directory."""
DEAD = "http://127.0.0.1:9"
"""A port nothing listens on (discard): doctor's datasources, named in what it prints."""


@dataclass(frozen=True)
class Form:
    """One way to type the path: `given(tmp_path, place)` is the argument and the directory it runs in.

    The project copy lives at `tmp_path / place`; every form but `space` runs from `tmp_path /
    "elsewhere"` or `tmp_path`, never from the checkout, so a command reading the cwd reads nothing.
    """

    id: str
    place: str
    given: Callable[[Path, Path], tuple[str, Path]]


def _symlinked(tmp_path: Path, place: Path) -> tuple[str, Path]:
    link = tmp_path / "link"
    link.symlink_to(place, target_is_directory=True)
    return str(link), tmp_path / "elsewhere"


FORMS = (
    Form("absolute", "project", lambda tmp, place: (str(place), tmp / "elsewhere")),
    Form("relative", "project", lambda tmp, place: (place.name, tmp)),
    Form("dot", "project", lambda tmp, place: (".", place)),
    Form("trailing-slash", "project", lambda tmp, place: (f"{place}/", tmp / "elsewhere")),
    Form("dotdot", "project", lambda tmp, place: (f"../{place.name}", tmp / "elsewhere")),
    Form("dotdot-inside", "project", lambda tmp, place: (f"{place.name}/dashboards/..", tmp)),
    Form("symlink", "project", _symlinked),
    Form("space", "my project", lambda tmp, place: (str(place), tmp / "elsewhere")),
)
ABSOLUTE = FORMS[0]


@dataclass(frozen=True)
class Scenario:
    """A command run on a copy of the project whose stat panel was retitled (something to write).

    `args` gets `{path}` replaced by the form's path; `dotenv` is written to the project's `.env` with
    `{grafana}` filled, so a command that reads `.env` from anywhere but the project root goes wrong;
    `code` and `says` are what the absolute form must give (from what the scenario describes)."""

    id: str
    args: tuple[str, ...]
    code: int
    says: tuple[str, ...]
    parameter: str = "project"
    dotenv: str = ""
    grafana: bool = False
    pulled: bool = False
    mutate: Mutation = lambda _: None
    """A change of the copy before the run: a definition `build` refuses, to hold its report too."""


def _with_metrics_engine(root: Path) -> None:
    """push-rules needs config.py's metrics_engine; its ruler's address then comes from `.env`."""
    with_setting(root)


TOKEN = "GRAFANA_URL={grafana}\nGRAFANA_TOKEN=glsa_admin\n"
SCENARIOS = (
    Scenario("build", ("build", "--project", "{path}"), 0, (f"wrote    {OVERVIEW_JSON}",)),
    Scenario(
        "build-invalid",
        ("build", "--project", "{path}"),
        2,
        (f"({OVERVIEW})", "[panel-titles]", "nothing was written"),
        mutate=replace(OVERVIEW, RETITLED, f"{json.dumps(ANOTHER_TITLE)},"),
    ),
    Scenario("check", ("check", "--project", "{path}"), 1, ("provisioning is stale", OVERVIEW_JSON)),
    Scenario("push", ("push", "--project", "{path}"), 0, ("created",), dotenv=TOKEN, grafana=True),
    Scenario(
        "push-dry-run",
        ("push", "--dry-run", "--project", "{path}"),
        0,
        ("dry run:",),
        dotenv=TOKEN,
        grafana=True,
    ),
    Scenario(
        "diff",
        ("diff", "--project", "{path}"),
        1,
        (f"{OVERVIEW_UID}: create",),
        dotenv=TOKEN,
        grafana=True,
    ),
    Scenario(
        "doctor",
        ("doctor", "--project", "{path}"),
        2,
        (f"{DEAD}/prometheus-from-dotenv", "No datasource could be reached"),
        dotenv=f"PROMETHEUS_URL={DEAD}/prometheus-from-dotenv\nLOKI_URL={DEAD}/loki-from-dotenv\n"
        "DOCTOR_TIMEOUT=2\n",
    ),
    Scenario(
        "push-rules",
        ("push-rules", "--project", "{path}"),
        2,
        (f"{DEAD}/ruler-from-dotenv does not answer",),
        dotenv=f"RULER_URL={DEAD}/ruler-from-dotenv\n",
        mutate=_with_metrics_engine,
    ),
    Scenario(
        "pull",
        ("pull", OVERVIEW_UID, "-o", "{path}/" + PULLED),
        0,
        ("wrote <project>",),
        parameter="output",
        grafana=True,
        pulled=True,
    ),
)
WATCHED = "watch"
"""watch runs until stopped: it has its own test below, on the same forms."""
NOT_APPLICABLE = {
    "checks": "takes no path and reads no project: it lists the engine's lint checks",
}


def _commands() -> dict[str, Callable[..., object]]:
    """The CLI's registered commands, by the name a user types."""
    return {
        (command.name or command.callback.__name__): command.callback
        for command in cli.app.registered_commands
        if command.callback is not None
    }


def _path_parameters() -> set[tuple[str, str]]:
    """(command, parameter) of every parameter the CLI types as a path (`Path` or `Path | None`)."""
    found = set()
    for name, callback in _commands().items():
        for parameter, hint in typing.get_type_hints(callback).items():
            if parameter != "return" and Path in (hint, *typing.get_args(hint)):
                found.add((name, parameter))
    return found


def test_every_path_option_is_in_the_table() -> None:
    """A new command, or a new parameter taking a path, fails here until it is run in every form (or
    listed as not applicable, with the reason)."""
    tabled = {(s.args[0], s.parameter) for s in SCENARIOS} | {(WATCHED, "project")}
    assert _path_parameters() == tabled
    assert set(_commands()) == {command for command, _ in tabled} | set(NOT_APPLICABLE)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed project with its stat panel retitled: build has a file to write. One `check` fills
    its `.cache/` (the external checkers' answers), which every copy inherits: each run then costs a
    build, not a Node and a promtool start."""
    root = make_template(tmp_path_factory.mktemp("template") / "project")
    _edit(root / OVERVIEW, '"Active WhatsApp sessions",', RETITLED)
    subprocess.run(
        [sys.executable, str(REPO / "build.py"), "check", "--project", str(root)],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    return root


@dataclass
class Outcome:
    code: int
    stdout: list[str]
    stderr: list[str]
    files: dict[str, bytes]
    grafana: dict[str, str] = field(default_factory=dict)


def _files(root: Path) -> dict[str, bytes]:
    """Every regular file of the project and its bytes (not the cache, which holds tool answers)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if stat.S_ISREG(p.lstat().st_mode)
        and not {".cache", "__pycache__", ".git"} & set(p.relative_to(root).parts)
    }


def _grafana_state(grafana: FakeGrafana) -> dict[str, str]:
    """What reached the Grafana test server: each dashboard, folder and datasource, without its id."""

    def plain(entry: dict[str, object]) -> str:
        return json.dumps({k: v for k, v in entry.items() if k not in ("id", "version")}, sort_keys=True)

    state = grafana.state
    return {
        **{f"dashboard {uid}": plain(d["dashboard"]) for uid, d in state.dashboards.items()},
        **{f"folder {uid}": plain(f) for uid, f in state.folders.items()},
        **{f"datasource {uid}": plain(d) for uid, d in state.datasources.items()},
    }


def _environment(**extra: str) -> dict[str, str]:
    """The environment without the caller's Grafana and datasource settings (they would mask .env)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRAFANA_", "PROMETHEUS_", "LOKI_", "DOCTOR_"))
    }
    return env | extra


def _shown(text: str, names: list[str], grafana: str) -> list[str]:
    """The lines, sorted, with each way the path was shown replaced by `<project>`, the Grafana test
    server's URL by `<grafana>`, and push's progress counter (in order of completion, which parallel
    pushes vary) by `[*/total]`."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "<project>")
    text = text.replace(grafana, "<grafana>")
    text = re.sub(r"^\[\d+/(\d+)\]", r"[*/\1]", text, flags=re.MULTILINE)
    return sorted(text.splitlines())


def run_form(
    scenario: Scenario, form: Form, tmp_path: Path, template: Path, *, mode: int | None = None
) -> Outcome:
    """Copy the template to the form's place, run the scenario's command with the path in that form
    (the project's folder given `mode` meanwhile, when set)."""
    place = tmp_path / form.place
    shutil.copytree(template, place, symlinks=True)
    scenario.mutate(place)
    (tmp_path / "elsewhere").mkdir()
    path, cwd = form.given(tmp_path, place)
    with FakeGrafana() as grafana:
        if scenario.pulled:
            grafana.provision_dashboard(json.loads((template / OVERVIEW_JSON).read_text()))
        if scenario.dotenv:
            (place / ".env").write_text(scenario.dotenv.format(grafana=grafana.url))
        pulling = {"GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": "glsa_admin"} if scenario.pulled else {}
        env = _environment(**pulling)
        if mode is not None:
            place.chmod(mode)
        try:
            result = subprocess.run(
                [sys.executable, str(REPO / "build.py"), *(a.format(path=path) for a in scenario.args)],
                cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
        finally:
            place.chmod(0o755)
        state = _grafana_state(grafana) if scenario.grafana else {}
    names = [str(place), str(place.resolve()), str(tmp_path / "link"), str(tmp_path)]
    given = [a.format(path=path) for a in scenario.args if "{path}" in a]
    given += [str(Path(name)) for name in given]  # as a Path shows it: `./board.json` is `board.json`
    names += [name for name in given if name not in (".", place.name)]  # they would match words
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return Outcome(
        result.returncode,
        _shown(result.stdout, names, grafana.url),
        _shown(result.stderr, names, grafana.url),
        {name: content for name, content in _files(place).items() if name != ".env"},
        state,
    )


_baselines: dict[str, Outcome] = {}


@pytest.fixture
def baseline(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, template: Path
) -> Callable[[Scenario], Outcome]:
    """The absolute form's outcome of a scenario, run once per module and held to the scenario."""

    def get(scenario: Scenario) -> Outcome:
        if scenario.id not in _baselines:
            outcome = run_form(scenario, ABSOLUTE, tmp_path_factory.mktemp(scenario.id), template)
            shown = "\n".join(outcome.stdout + outcome.stderr)
            assert outcome.code == scenario.code, shown
            for fragment in scenario.says:
                assert fragment in shown, f"{fragment!r} not in:\n{shown}"
            if scenario.pulled:  # the dashboard asked for, in the file named
                assert json.loads(outcome.files[PULLED])["uid"] == scenario.args[1]
            _baselines[scenario.id] = outcome
        return _baselines[scenario.id]

    return get


@pytest.mark.parametrize("form", FORMS[1:], ids=[f.id for f in FORMS[1:]])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_every_form_of_the_path_gives_the_same_outcome(
    scenario: Scenario, form: Form, tmp_path: Path, template: Path, baseline: Callable[[Scenario], Outcome]
) -> None:
    """The path as the user typed it (relative, `.`, `dir/`, `..`, a symlink, a space) is the same
    project, or file, as its absolute path: same exit code, same files, same Grafana, same lines."""
    expected = baseline(scenario)
    got = run_form(scenario, form, tmp_path, template)
    assert got.code == expected.code, "\n".join(got.stdout + got.stderr)
    assert got.stdout == expected.stdout
    assert got.stderr == expected.stderr
    assert got.files.keys() == expected.files.keys()
    assert [k for k in got.files if got.files[k] != expected.files[k]] == []
    assert got.grafana == expected.grafana


@pytest.mark.parametrize("form", FORMS, ids=[f.id for f in FORMS])
def test_watch_rebuilds_on_a_save_whatever_form_the_project_path_has(
    form: Form, tmp_path: Path, template: Path
) -> None:
    """`watch --project` in each form: the build at start, a save that rebuilds the retitled board
    (named relative to the project), and SIGINT stopping it with exit 0 and no traceback."""
    place = tmp_path / form.place
    shutil.copytree(template, place, symlinks=True)
    (tmp_path / "elsewhere").mkdir()
    path, cwd = form.given(tmp_path, place)
    with watching(path, cwd=cwd) as watcher:
        started = watcher.seen[-1]
        assert f"{OVERVIEW_JSON}" in started and "built:" in started, watcher.seen
        _edit(place / OVERVIEW, RETITLED, '"Sessions right now",')
        rebuilt = watcher.next_build()
        assert re.fullmatch(rf"\d\d:\d\d:\d\d {re.escape(OVERVIEW)}: built: .+", rebuilt), rebuilt
        assert "Sessions right now" in (place / OVERVIEW_JSON).read_text()
        watcher.process.send_signal(signal.SIGINT)
        assert watcher.process.wait(timeout=10) == 0
        watcher.wait_for(lambda line: line == "stopped.", timeout=5)
    assert not [line for line in watcher.seen if "Traceback" in line], watcher.seen


BAD_COMMANDS = (
    *(s for s in SCENARIOS if not s.pulled),
    Scenario(WATCHED, (WATCHED, "--project", "{path}"), 0, ()),
)


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "no such project"


def _a_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.py"
    path.write_text("# a file, where the project's folder belongs\n")
    return path


BAD_PATHS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "missing": (_missing, "does not exist"),
    "a-file": (_a_file, "is a file"),
}


def _refused(args: list[str], cwd: Path, named: str, reason: str) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args],
        cwd=cwd, env=_environment(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    assert named in output and reason in output, output


@pytest.mark.parametrize("bad", list(BAD_PATHS), ids=list(BAD_PATHS))
@pytest.mark.parametrize("scenario", BAD_COMMANDS, ids=[s.id for s in BAD_COMMANDS])
def test_a_bad_project_path_exits_2_naming_it(scenario: Scenario, bad: str, tmp_path: Path) -> None:
    """A project path that does not exist, or is a file, is bad usage: exit 2, the path named as it
    was given, no traceback, and nothing started (watch would otherwise watch nothing forever)."""
    make, reason = BAD_PATHS[bad]
    path = make(tmp_path)
    _refused([a.format(path=path) for a in scenario.args], tmp_path, str(path), reason)
    _refused([a.format(path=path.name) for a in scenario.args], tmp_path, path.name, reason)


UNREADABLE = tuple(s for s in SCENARIOS if s.parameter == "project")


@pytest.mark.parametrize("scenario", UNREADABLE, ids=[s.id for s in UNREADABLE])
def test_an_unreadable_project_exits_2_naming_it_unless_root_reads_it(
    scenario: Scenario, tmp_path: Path, template: Path, baseline: Callable[[Scenario], Outcome]
) -> None:
    """chmod 000 on the project: a user is refused (exit 2, the path named, "is not readable", click's
    readable check; seen by hand as uid 65534). Root reads a mode-000 folder anyway
    (CAP_DAC_OVERRIDE), so as root what is testable is that nothing refuses it for a mode it does not
    suffer from: the outcome is the readable project's."""
    if os.geteuid() != 0:
        place = tmp_path / "project"
        shutil.copytree(template, place, symlinks=True)
        place.chmod(0)
        try:
            _refused([a.format(path=place) for a in scenario.args], tmp_path, str(place), "is not readable")
        finally:
            place.chmod(0o755)
        return
    got = run_form(scenario, ABSOLUTE, tmp_path, template, mode=0)
    expected = baseline(scenario)
    assert (got.code, got.stdout, got.stderr) == (expected.code, expected.stdout, expected.stderr)
    assert got.files == expected.files


PULL = next(s for s in SCENARIOS if s.pulled)


@pytest.fixture
def served() -> Iterator[str]:
    with FakeGrafana() as grafana:
        grafana.provision_dashboard(json.loads((REPO / OVERVIEW_JSON).read_text()))
        yield grafana.url


def test_pull_through_a_file_exits_2_naming_it(tmp_path: Path, served: str) -> None:
    """`pull -o` whose folder is a file: exit 2 naming the path given, no traceback, nothing written.
    (A folder that does not exist yet is created, as build creates provisioning/'s: not an error.)"""
    env = _environment(GRAFANA_URL=served, GRAFANA_TOKEN="glsa_admin")
    a_file = _a_file(tmp_path)
    for target in (str(a_file / PULLED), f"{a_file.name}/{PULLED}"):
        result = subprocess.run(
            [sys.executable, str(REPO / "build.py"), "pull", OVERVIEW_UID, "-o", target],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        output = result.stdout + result.stderr
        assert result.returncode == 2, output
        assert "Traceback" not in output and target in output, output
    assert sorted(p.name for p in tmp_path.iterdir()) == [a_file.name]
