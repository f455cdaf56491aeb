"""Bad input, files: symlinks out of the project, special files, hostile uids, obstacles, killed builds,
a damaged cache; through the real entry point on a copy of the project (tests/cli/bad_input.py).

Containment is exit 2 for build and check alike, as for a provisioning_dir of "../outside": the
project's setup asks for something the build refuses, not a failed write. A target that exists and
is not a regular file is exit 1 (a failed write, like round one's "unwritable"). pull refuses
special files and bad uids with exit 2 (bad usage), before any request and before anything is written.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import pytest

from tests.cli.bad_input import (
    BUILD,
    CHECK,
    CONTRACT,
    OVERVIEW,
    Case,
    Mutation,
    both,
    replace,
    run_case,
    write,
)
from tests.conftest import REPO
from tests.grafana_server.server import FakeGrafana

OUTSIDE = "outside"
"""Beside project/ in each case's tmp_path: where symlinks lead, and where nothing may change."""
PLANTED = "# written by hand in the target folder; no build made it\n"
BOARD = "provisioning/dashboards/tiktickets/tiktickets-overview.json"
DOC = "docs/telemetry-contract.md"
CHANGE_CONTRACT = both(
    replace(CONTRACT, "WhatsApp messages sent (monotonic).", "Sent (monotonic)."),
    replace(OVERVIEW, '"Recent error logs",', '"Sent (monotonic).",'),
)
"""A definition change that makes the board and the contract page differ: something to write."""
CACHE = ".cache/dashboards-as-code"


def linked_outside(relative: str, *, plant: str = "alerting.yaml") -> Mutation:
    """`relative` becomes a symlink to a copy of it outside the project, as `ln -s
    /etc/grafana/provisioning provisioning` would; the copy also holds a file no build generated."""

    def apply(root: Path) -> None:
        target = root.parent / OUTSIDE / relative
        shutil.copytree(root / relative, target)
        (target / plant).write_text(PLANTED)
        shutil.rmtree(root / relative)
        (root / relative).symlink_to(target)

    return apply


def stale_link_outside(relative: str) -> Mutation:
    """A symlinked folder no output passes through, whose target holds a "stale" generated-looking file."""

    def apply(root: Path) -> None:
        target = root.parent / OUTSIDE / "old-folder"
        target.mkdir(parents=True)
        (target / "old-board.json").write_text("{}\n")
        (root / relative).symlink_to(target)

    return apply


def file_link_outside(relative: str) -> Mutation:
    """A file under provisioning/ that is a symlink to a file outside: never removed nor followed."""

    def apply(root: Path) -> None:
        target = root.parent / OUTSIDE / "precious.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("{}\n")
        (root / relative).symlink_to(target)

    return apply


def becomes(relative: str, kind: str) -> Mutation:
    """The generated file at `relative` replaced by a directory, a FIFO, or a symlink."""

    def apply(root: Path) -> None:
        path = root / relative
        path.unlink()
        if kind == "directory":
            path.mkdir()
            (path / "keep.txt").write_text("mine\n")
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "symlink-inside":
            path.symlink_to(root / "config.py")
        elif kind == "symlink-outside":
            target = root.parent / OUTSIDE / "elsewhere.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("{}\n")
            path.symlink_to(target)

    return apply


TEMPS = (
    "docs/.telemetry-contract.md.k1ll3d.build-tmp",
    "provisioning/dashboards/tiktickets/.tiktickets-overview.json.9x8y7z.build-tmp",
    "provisioning/.README.md.abc.build-tmp",
    "monitoring/prometheus/rules/.tiktickets.yml.0000.build-tmp",
)
NOT_OURS = ("docs/notes.tmp", "docs/.draft.md.build-tmp.bak")


def plant_temporaries(root: Path) -> None:
    """What a build killed between staging and renaming leaves, and files that only look alike."""
    for relative in (*TEMPS, *NOT_OURS):
        (root / relative).write_text("half of a file\n")


CASES = [
    # Symlinks out of the project: refused (exit 2) by build and by check, naming the link and its target.
    Case("provisioning-link-build", BUILD, 2, ("provisioning is a symlink to", f"{OUTSIDE}/provisioning", "outside the project", "--allow-outside"), linked_outside("provisioning"), outside_bytes=True),
    Case("provisioning-link-check", CHECK, 2, ("provisioning is a symlink to", "outside the project", "--allow-outside"), linked_outside("provisioning"), outside_bytes=True),
    Case("provisioning-link-changed", BUILD, 2, ("provisioning/README.md: resolves to", "provisioning is a symlink to"), both(CHANGE_CONTRACT, linked_outside("provisioning")), outside_bytes=True),
    Case("folder-link-build", BUILD, 2, ("provisioning/dashboards/tiktickets is a symlink to", "outside the project"), both(CHANGE_CONTRACT, linked_outside("provisioning/dashboards/tiktickets", plant="hand-made.json")), outside_bytes=True),
    Case("folder-link-check", CHECK, 2, ("provisioning/dashboards/tiktickets is a symlink to", "--allow-outside"), linked_outside("provisioning/dashboards/tiktickets", plant="hand-made.json"), outside_bytes=True),
    Case("docs-link-build", BUILD, 2, (f"{DOC}: resolves to", "docs is a symlink to"), both(CHANGE_CONTRACT, linked_outside("docs", plant="other.md")), outside_bytes=True),
    Case("docs-link-check", CHECK, 2, ("docs is a symlink to",), linked_outside("docs", plant="other.md"), outside_bytes=True),
    Case("rules-link-build", BUILD, 2, ("monitoring/prometheus is a symlink to",), linked_outside("monitoring/prometheus", plant="prometheus.yml"), outside_bytes=True),
    # Nothing outside is ever removed: not through a symlinked folder, not a symlink's target.
    Case("stale-folder-link", BUILD, 0, ("0 removed",), stale_link_outside("provisioning/dashboards/old"), outside_bytes=True),
    Case("stale-file-link", BUILD, 0, ("0 removed",), file_link_outside("provisioning/dashboards/tiktickets/old.json"), outside_bytes=True),
    Case("allow-outside-keeps-files", (*BUILD, "--allow-outside"), 0, ("wrote    " + BOARD, "0 removed"), both(CHANGE_CONTRACT, linked_outside("provisioning")), changes_project=True),
    # A target that is not a regular file: nothing renamed, no temporary left (exit 1, a failed write).
    Case("target-directory", BUILD, 1, (f"cannot write {BOARD}: it is a directory", "nothing was changed"), both(CHANGE_CONTRACT, becomes(BOARD, "directory"))),
    Case("target-directory-check", CHECK, 1, (f"missing: {BOARD} (it is a directory",), becomes(BOARD, "directory")),
    Case("doc-directory", BUILD, 1, (f"cannot write {DOC}: it is a directory", "nothing was changed"), both(CHANGE_CONTRACT, becomes(DOC, "directory"))),
    Case("target-fifo", BUILD, 1, (f"cannot write {BOARD}: it is a FIFO",), both(CHANGE_CONTRACT, becomes(BOARD, "fifo")), timeout=60),
    Case("target-symlink-inside", BUILD, 1, (f"cannot write {BOARD}: it is a symlink",), becomes(BOARD, "symlink-inside")),
    Case("target-symlink-outside", BUILD, 2, (f"{BOARD}: resolves to", "elsewhere.json", "is a symlink to"), becomes(BOARD, "symlink-outside"), outside_bytes=True),
    # Temporary files of a killed build: swept (and named) by the next build; look-alikes stay.
    Case("stale-temporaries", BUILD, 0, tuple(f"swept    {t}" for t in TEMPS), plant_temporaries, changes_project=True),
    Case("a-file-named-like-a-temp", BUILD, 0, ("0 written",), write("docs/.x.build-tmp/keep.md", "a folder, not a temporary\n")),
]  # fmt: skip


def test_there_are_many_distinct_cases() -> None:
    assert len({case.id for case in CASES}) == len(CASES) >= 19


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_file(case: Case, template: Path, tmp_path: Path) -> None:
    result = run_case(case, template, tmp_path)
    project, outside = tmp_path / "project", tmp_path / OUTSIDE
    output = result.stdout + result.stderr
    assert "removed " not in output or case.code != 0, output  # nothing was removed
    if case.code != 0:
        assert not [p for p in project.rglob("*.build-tmp") if p.is_file()], "a temporary was left"
    if case.id == "allow-outside-keeps-files":
        assert (outside / "provisioning/alerting.yaml").read_text() == PLANTED
        assert (
            b"Sent (monotonic)."
            in (outside / "provisioning" / BOARD.removeprefix("provisioning/")).read_bytes()
        )
    if case.id == "stale-temporaries":
        assert not [t for t in TEMPS if (project / t).exists()]
        assert all((project / name).is_file() for name in NOT_OURS)


def test_check_passes_over_a_killed_builds_temporaries_and_the_next_build_sweeps_them(
    template: Path, tmp_path: Path
) -> None:
    """A build killed between staging and renaming leaves `.<name>.<random>.build-tmp` files, some of
    them under provisioning/, where every file counts as generated. They are not a stale output: a
    `check` in CI after such a build (on a clean, up-to-date tree) passes and names none of them, and
    leaves them for the next `build`, which removes each and says so."""
    check = Case("temporaries-check", CHECK, 0, ("ok:",), plant_temporaries)
    checked = run_case(check, template, tmp_path)
    output = checked.stdout + checked.stderr
    assert "stale" not in output and "not generated" not in output, output
    assert not [t for t in TEMPS if PurePosixPath(t).name in output], output
    project = tmp_path / "project"
    assert all((project / t).is_file() for t in TEMPS), "check removed a temporary: only build may"
    built = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "build", "--project", str(project)],
        cwd=project, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    swept = sorted(line.split()[1] for line in built.stdout.splitlines() if line.startswith("swept "))
    assert swept == sorted(TEMPS), built.stdout
    assert "0 written" in built.stdout and "0 removed" in built.stdout, built.stdout
    assert not [t for t in TEMPS if (project / t).exists()]
    assert all((project / name).is_file() for name in NOT_OURS)


# -- pull: special files and hostile uids, refused before any request --------------------------------

PULL_ENV = {"GRAFANA_URL": "{grafana}", "GRAFANA_TOKEN": "glsa_admin"}
UID = "tiktickets-overview"


def in_tmp(make: Callable[[Path], None]) -> Mutation:
    """Make something beside the project (in tmp_path), where `-o {tmp}/x` points."""

    def apply(root: Path) -> None:
        make(root.parent)

    return apply


def _socket(folder: Path) -> None:
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(folder / "sock"))


def _char_device(folder: Path) -> None:
    """A fresh null-like character device in tmp, so no real device is put at risk (needs root)."""
    os.mknod(folder / "device", stat.S_IFCHR | 0o666, os.makedev(1, 3))


def _fifo_and_link(folder: Path) -> None:
    os.mkfifo(folder / "pipe")
    (folder / "to-pipe").symlink_to(folder / "pipe")


PULL_CASES = [
    Case("out-fifo", ("pull", UID, "-o", "{tmp}/pipe"), 2, ("/pipe is a FIFO", "regular files only", "nothing was written"), in_tmp(lambda t: os.mkfifo(t / "pipe")), env=PULL_ENV, timeout=60),
    Case("out-link-to-fifo", ("pull", UID, "-o", "{tmp}/to-pipe"), 2, ("/to-pipe is a symlink to a FIFO",), in_tmp(_fifo_and_link), env=PULL_ENV, timeout=60),
    Case("out-char-device", ("pull", UID, "-o", "{tmp}/device"), 2, ("/device is a character device",), in_tmp(_char_device), env=PULL_ENV),
    Case("out-link-dev-full", ("pull", UID, "-o", "{tmp}/full"), 2, ("/full is a symlink to a character device (/dev/full)",), in_tmp(lambda t: (t / "full").symlink_to("/dev/full")), env=PULL_ENV),
    Case("out-proc-stdout", ("pull", UID, "-o", "/proc/self/fd/1"), 2, ("/proc/self/fd/1 is a symlink to a FIFO",), env=PULL_ENV, timeout=60),
    Case("out-link-proc-stdout", ("pull", UID, "-o", "{tmp}/stdout"), 2, ("/stdout is a symlink to a FIFO",), in_tmp(lambda t: (t / "stdout").symlink_to("/proc/self/fd/1")), env=PULL_ENV, timeout=60),
    Case("out-directory", ("pull", UID, "-o", "{tmp}/folder"), 2, ("/folder is a directory",), in_tmp(lambda t: (t / "folder").mkdir()), env=PULL_ENV),
    Case("out-socket", ("pull", UID, "-o", "{tmp}/sock"), 2, ("/sock is a socket",), in_tmp(_socket), env=PULL_ENV),
    Case("out-dangling-link", ("pull", UID, "-o", "{tmp}/dangling"), 2, ("/dangling is a symlink to", "does not exist"), in_tmp(lambda t: (t / "dangling").symlink_to(t / "nowhere")), env=PULL_ENV),
    # config.py is the project's regular file: the refusal names it, the one to move, not "." or board.json.
    Case("out-through-a-file", ("pull", UID, "-o", "config.py/board.json"), 2, ("config.py/board.json is a path through config.py, a file, not a folder", "nothing was written"), env=PULL_ENV),
]  # fmt: skip
BAD_UIDS = [
    "../../admin/settings",
    "x?orgId=2",
    "%2e%2e",
    "",
    "x" * 41,
    "tik tickets",
    "tiktickets\n",
    "a/b",
    "board#top",
    "tïktickets",
    "..",
]
UID_CASES = [
    Case(f"uid-{index}", ("pull", uid), 2, ("1 to 40 letters, digits, '-' or '_'", "nothing was asked of Grafana"), env=PULL_ENV)
    for index, uid in enumerate(BAD_UIDS)
]  # fmt: skip


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    """The Grafana test server holding the overview dashboard, so a pull that is let through works."""
    with FakeGrafana() as server:
        server.provision_dashboard(json.loads((REPO / BOARD).read_text()))
        server.state.requests.clear()
        yield server


@pytest.mark.parametrize("case", PULL_CASES + UID_CASES, ids=[c.id for c in PULL_CASES + UID_CASES])
def test_bad_pull(case: Case, template: Path, tmp_path: Path, grafana: FakeGrafana) -> None:
    run_case(case, template, tmp_path, {"grafana": grafana.url})
    assert grafana.state.requests == [], "the refused pull still sent requests"


def test_pull_to_dash_is_standard_output(template: Path, tmp_path: Path, grafana: FakeGrafana) -> None:
    case = Case("out-dash", ("pull", UID, "-o", "-"), 0, (f'"uid": "{UID}"',), env=PULL_ENV)
    run_case(case, template, tmp_path, {"grafana": grafana.url})  # project unchanged: no file "-"


def test_pull_through_a_symlink_writes_the_file_it_points_to(
    template: Path, tmp_path: Path, grafana: FakeGrafana
) -> None:
    def plant(root: Path) -> None:
        (root / "boards").mkdir()
        (root / "boards/overview.json").write_text("{}\n")
        (root / "link.json").symlink_to("boards/overview.json")

    case = Case("out-link-regular", ("pull", UID, "-o", "link.json"), 0, ("wrote",), plant, env=PULL_ENV, changes_project=True)  # fmt: skip
    run_case(case, template, tmp_path, {"grafana": grafana.url})
    project = tmp_path / "project"
    assert (project / "link.json").is_symlink()
    assert json.loads((project / "boards/overview.json").read_text())["uid"] == UID


# -- a damaged cache entry is a miss ------------------------------------------------------------------


def _entries(root: Path) -> list[Path]:
    return sorted((root / CACHE).rglob("*.txt"))


def damaged_cache(damage: Callable[[Path], object]) -> Mutation:
    """Fill the cache with a first check, then damage every entry."""

    def apply(root: Path) -> None:
        subprocess.run(
            [sys.executable, str(REPO / "build.py"), "check", "--project", str(root)],
            cwd=root, capture_output=True, check=True, timeout=300,
        )  # fmt: skip
        entries = _entries(root)
        assert entries, "the first check cached nothing: the case no longer plants its fault"
        for entry in entries:
            damage(entry)

    return apply


def _as_directory(entry: Path) -> None:
    entry.unlink()
    entry.mkdir()
    (entry / "inside").write_text("x")


CACHE_DAMAGE: dict[str, Callable[[Path], object]] = {
    "utf8-not-json": lambda e: e.write_text("this is not JSON at all\n"),
    "json-wrong-shape": lambda e: e.write_text('{"unexpected": [1, 2, 3]}'),
    "json-list-of-numbers": lambda e: e.write_text("[1, 2, 3]"),
    "binary": lambda e: e.write_bytes(b"\xff\xfe\x00\x81garbage"),
    "empty": lambda e: e.write_bytes(b""),
    "directory": _as_directory,
}


@pytest.mark.parametrize("shape", list(CACHE_DAMAGE))
def test_a_damaged_cache_entry_is_asked_again(shape: str, template: Path, tmp_path: Path) -> None:
    case = Case(f"cache-{shape}", CHECK, 0, ("ok:",), damaged_cache(CACHE_DAMAGE[shape]), timeout=300)
    run_case(case, template, tmp_path)
    entries = _entries(tmp_path / "project")
    assert entries
    for entry in entries:  # rewritten: each entry is a regular file holding JSON again
        assert stat.S_ISREG(entry.lstat().st_mode)
        json.loads(entry.read_text())


SCHEMA_ANSWERS = f"{CACHE}/grafana-schema"
"""Where the Grafana-schema checker's answers are kept (a JSON list of deviations, each with an `id`)."""
NO_ID = '[{"path": "panels[0].title", "message": "an object of the right kind, without its id"}]'


def test_a_schema_answer_damaged_into_objects_without_an_id_is_asked_again(
    template: Path, tmp_path: Path
) -> None:
    """A schema answer that is a JSON list of objects without `id` (a half-written or hand-edited entry,
    the one damaged shape whose reading raises KeyError) is a cache miss like any other: `check` asks
    the checker again, rewrites the entry and says ok, never a traceback."""

    def damage_schema_answers(root: Path) -> None:
        damaged_cache(lambda _: None)(root)  # the first check fills the cache
        entries = sorted((root / SCHEMA_ANSWERS).glob("*.txt"))
        assert entries, "the first check cached no schema answer: the case no longer plants its fault"
        for entry in entries:
            entry.write_text(NO_ID)

    case = Case("cache-schema-without-id", CHECK, 0, ("ok:",), damage_schema_answers, timeout=300)
    run_case(case, template, tmp_path)
    entries = sorted((tmp_path / "project" / SCHEMA_ANSWERS).glob("*.txt"))
    assert entries
    for entry in entries:  # rewritten with the checker's own answer: every deviation has its id
        answer = json.loads(entry.read_text())
        assert entry.read_text() != NO_ID and all("id" in item for item in answer), answer


# -- one build at a time -------------------------------------------------------------------------------


def _copy(template: Path, tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(template, project, symlinks=True)
    CHANGE_CONTRACT(project)
    return project


def _build(project: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "build", "--project", str(project)],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_concurrent_builds_leave_one_consistent_result(template: Path, tmp_path: Path) -> None:
    project = _copy(template, tmp_path)
    first, second = _build(project), _build(project)
    results = [process.communicate(timeout=300) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], results
    assert not list(project.rglob("*.build-tmp"))
    written = sorted(out.count("wrote ") for out, _ in results)
    assert written[0] == 0 < written[1], results  # one build wrote the changes; the other, after it, nothing
    check = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "check", "--project", str(project)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_build_waits_for_the_lock_and_says_so(template: Path, tmp_path: Path) -> None:
    import fcntl  # noqa: PLC0415

    project = _copy(template, tmp_path)
    (project / ".cache").mkdir()
    with (project / ".cache/build.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        build = _build(project)
        assert build.stderr is not None
        lines = [build.stderr.readline()]
        while lines[-1] and "waiting for another build" not in lines[-1]:
            lines.append(build.stderr.readline())  # lint warnings may come first
        assert ".cache/build.lock" in lines[-1], lines
        assert b"Sent (monotonic)." not in (project / BOARD).read_bytes()  # nothing written while waiting
    out, err = build.communicate(timeout=300)
    assert build.returncode == 0, out + err
    assert b"Sent (monotonic)." in (project / BOARD).read_bytes()
