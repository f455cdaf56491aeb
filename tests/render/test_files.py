"""Documents -> files: deterministic bytes, the expected set of files, atomic writes."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render import files as files_module
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import (
    TEMP_SUFFIX,
    BusyError,
    NotRegularFileError,
    WriteError,
    atomic_write,
    build_lock,
    regular_output,
    render_outputs,
    write_outputs,
)
from dashboards_as_code.render.formats import Output
from dashboards_as_code.render.staleness import compare_outputs
from tests.conftest import REPO


@pytest.fixture
def outputs() -> list[Output]:
    documents = build_documents(load_project(REPO))
    return render_outputs(documents)


def test_output_is_deterministic_across_processes(outputs: list[Output]) -> None:
    """Another interpreter (another hash seed, another import order) renders the same bytes."""
    script = (
        "import hashlib, sys; from pathlib import Path; "
        "from dashboards_as_code.definitions.loader import load_project; "
        "from dashboards_as_code.render.documents import build_documents; "
        "from dashboards_as_code.render.files import render_outputs; "
        "[print(o.path, hashlib.sha256(o.content).hexdigest()) "
        "for o in render_outputs(build_documents(load_project(Path(sys.argv[1]))))]"
    )
    hashes = subprocess.run(
        [sys.executable, "-c", script, str(REPO)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    ).stdout
    assert hashes == "".join(f"{o.path} {hashlib.sha256(o.content).hexdigest()}\n" for o in outputs)


def test_expected_files(outputs: list[Output]) -> None:
    """The project-wide files once, and one file per dashboard of the project, under its folder's uid."""
    project = load_project(REPO)
    boards = [f"provisioning/dashboards/{d.folder.uid}/{d.uid}.json" for d in project.dashboards]
    assert "provisioning/dashboards/tiktickets/tiktickets-overview.json" in boards
    assert project.config.cardinality_limits_file == "monitoring/demo/cardinality-limits.json"
    assert [o.path for o in outputs] == sorted(
        [
            "docs/telemetry-contract.md",
            "monitoring/alertmanager/alertmanager.yml",
            "monitoring/demo/cardinality-limits.json",
            "monitoring/prometheus/rules/tiktickets.yml",
            "provisioning/README.md",
            "provisioning/dashboards/providers.yaml",
            "provisioning/datasources/datasources.yaml",
            *boards,
        ]
    )


def test_build_into_an_empty_tree_then_check_is_clean(tmp_path: Path, outputs: list[Output]) -> None:
    report = write_outputs(tmp_path, outputs, "provisioning")
    assert len(report.written) == len(outputs)
    assert compare_outputs(tmp_path, outputs, "provisioning") == []
    assert write_outputs(tmp_path, outputs, "provisioning").written == []  # second build writes nothing


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "provisioning" / "x.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, b"new content\n")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_a_write_that_fails_changes_nothing(tmp_path: Path, outputs: list[Output]) -> None:
    """All or nothing: the docs page and the rules file are not replaced when a dashboard cannot be."""
    write_outputs(tmp_path, outputs, "provisioning")
    changed = [Output(o.path, o.content + b"\n") for o in outputs]
    folder = tmp_path / "provisioning/dashboards/tiktickets"
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    folder.write_text("a file where the folder should be\n")  # the dashboard cannot be staged
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    first = next(o.path for o in outputs if o.path.startswith("provisioning/dashboards/tiktickets/"))
    with pytest.raises(WriteError, match=re.escape(f"cannot write {first}")):
        write_outputs(tmp_path, changed, "provisioning")
    assert {
        p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
    } == before  # no temporary left either


def test_a_rename_that_fails_midway_puts_back_what_was_replaced(
    tmp_path: Path, outputs: list[Output], monkeypatch: pytest.MonkeyPatch
) -> None:
    """All or nothing even when the file system fails between two renames: the earlier ones are undone."""
    write_outputs(tmp_path, outputs, "provisioning")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and ".cache" not in p.parts}
    changed = [Output(o.path, o.content + b"\n") for o in outputs]
    real_replace, calls = Path.replace, []

    def failing_second(self: Path, target: Path) -> Path:
        calls.append(self)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", failing_second)
    with pytest.raises(WriteError, match="Input/output error; the files already replaced were restored"):
        write_outputs(tmp_path, changed, "provisioning")
    monkeypatch.undo()
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and ".cache" not in p.parts}
    assert after == before  # the first file is back, and no temporary is left


def test_a_rename_that_fails_midway_puts_back_an_empty_file_empty(
    tmp_path: Path, outputs: list[Output], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generated file that was empty (0 bytes) before the build is put back empty, not deleted.

    "the files already replaced were restored" must hold for every file: an empty file existed, so
    after the undo it exists again, with nothing in it. Removing it would leave the project with a file
    missing that no one removed. Every target is emptied here, so whichever is renamed first was empty."""
    write_outputs(tmp_path, outputs, "provisioning")
    targets = [tmp_path / o.path for o in outputs]
    for target in targets:
        target.write_bytes(b"")
    real_replace, renamed = Path.replace, []

    def failing_second(self: Path, target: Path) -> Path:
        renamed.append(Path(target))
        if len(renamed) == 2:
            raise OSError(5, "Input/output error")
        return real_replace(self, target)  # the first rename, and the undo's own write

    monkeypatch.setattr(Path, "replace", failing_second)
    with pytest.raises(WriteError, match="Input/output error; the files already replaced were restored"):
        write_outputs(tmp_path, outputs, "provisioning")
    monkeypatch.undo()
    assert renamed and renamed[0] in targets, "one file was replaced before the failure"
    first = renamed[0]
    assert first.is_file(), f"{first.relative_to(tmp_path)} was empty before the build and is gone"
    assert first.stat().st_size == 0, "put back as it was: empty"
    assert {t: t.read_bytes() if t.is_file() else None for t in targets} == dict.fromkeys(targets, b"")
    assert not list(tmp_path.rglob(f"*{TEMP_SUFFIX}"))


def test_a_failed_undo_names_exactly_the_files_it_could_not_put_back(
    tmp_path: Path, outputs: list[Output], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a rename fails midway and the undo itself fails for one of the files already replaced,
    the error names that file, and only it: the user must know which generated file now holds the
    new content, and the restored ones must not be named as changed. (Planted-bug sample 14, m2 M7:
    every replaced file named.)"""
    assert len(outputs) >= 4, "the project renders at least four files"
    write_outputs(tmp_path, outputs, "provisioning")
    before = {tmp_path / o.path: (tmp_path / o.path).read_bytes() for o in outputs}
    changed = [Output(o.path, o.content + b"\n") for o in outputs]
    real_replace, renamed = Path.replace, []

    def failing_fourth(self: Path, target: Path) -> Path:
        renamed.append(Path(target))
        if len(renamed) == 4:
            raise OSError(5, "Input/output error")
        return real_replace(self, target)

    real_write = files_module.atomic_write

    def undo_failing_for_the_second(path: Path, content: bytes) -> None:
        if path == renamed[1]:
            raise OSError(28, "No space left on device")
        real_write(path, content)

    monkeypatch.setattr(Path, "replace", failing_fourth)
    monkeypatch.setattr(files_module, "atomic_write", undo_failing_for_the_second)
    with pytest.raises(WriteError) as raised:
        write_outputs(tmp_path, changed, "provisioning")
    monkeypatch.undo()
    first, second, third = renamed[:3]
    message = str(raised.value)
    stuck = second.relative_to(tmp_path).as_posix()
    assert f"already replaced and not restored: {stuck}" in message, message
    for restored in (first, third):
        assert restored.relative_to(tmp_path).as_posix() not in message, message
        assert restored.read_bytes() == before[restored]
    assert second.read_bytes() == before[second] + b"\n"  # the new content: what the message says


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink"])
def test_a_target_that_is_no_regular_file_stops_the_build_before_any_rename(
    tmp_path: Path, outputs: list[Output], kind: str
) -> None:
    write_outputs(tmp_path, outputs, "provisioning")
    doc = next(o for o in outputs if o.path.startswith("docs/"))
    board = tmp_path / next(o.path for o in outputs if o.path.endswith("tiktickets-overview.json"))
    board.unlink()
    if kind == "directory":
        board.mkdir()
    elif kind == "fifo":
        os.mkfifo(board)
    else:
        board.symlink_to(tmp_path / doc.path)
    changed = [Output(o.path, o.content + b"\n") for o in outputs]
    with pytest.raises(WriteError, match=r"it is a (directory|FIFO|symlink); only regular files"):
        write_outputs(tmp_path, changed, "provisioning")
    assert (tmp_path / doc.path).read_bytes() == doc.content  # nothing renamed
    assert not list(tmp_path.rglob(f"*{TEMP_SUFFIX}"))


def test_a_symlink_to_the_very_bytes_is_still_no_generated_file(
    tmp_path: Path, outputs: list[Output]
) -> None:
    """A symlink where a generated file belongs is refused even when it points at exactly the bytes
    `build` would write: Grafana and git see a link, and the file it points at is not ours to keep."""
    write_outputs(tmp_path, outputs, "provisioning")
    board = tmp_path / next(o.path for o in outputs if o.path.endswith("tiktickets-overview.json"))
    twin = tmp_path / "twin.json"
    twin.write_bytes(board.read_bytes())
    board.unlink()
    board.symlink_to(twin)
    assert compare_outputs(tmp_path, outputs, "provisioning") != []
    with pytest.raises(WriteError, match="it is a symlink; only regular files"):
        write_outputs(tmp_path, outputs, "provisioning")


def test_removal_never_follows_a_symlink_out_of_the_project(tmp_path: Path, outputs: list[Output]) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    write_outputs(project, outputs, "provisioning")
    outside.mkdir()
    (outside / "stale.json").write_text("{}\n")
    (project / "provisioning/dashboards/gone").symlink_to(outside)
    (project / "provisioning/dashboards/gone.json").symlink_to(outside / "stale.json")
    (project / "provisioning/dashboards/really-stale.json").write_text("{}\n")
    report = write_outputs(project, outputs, "provisioning")
    assert report.removed == ["provisioning/dashboards/really-stale.json"]
    assert (outside / "stale.json").read_text() == "{}\n"
    assert (project / "provisioning/dashboards/gone").is_symlink()


def test_removing_every_generated_file_keeps_the_provisioning_folder(
    tmp_path: Path, outputs: list[Output]
) -> None:
    """compose mounts provisioning/ into Grafana's container: a build that leaves it without files
    removes the emptied folders below it, never the folder itself, or the mount source is gone."""
    write_outputs(tmp_path, outputs, "provisioning")
    generated = sorted(o.path for o in outputs if o.path.startswith("provisioning/"))
    folders = {Path(path).parent for path in generated} - {Path("provisioning")}
    assert folders  # the project's dashboards and datasources live in sub-folders

    report = write_outputs(tmp_path, [], "provisioning")

    assert report.removed == generated
    assert not [folder for folder in folders if (tmp_path / folder).exists()]
    provisioning = tmp_path / "provisioning"
    assert provisioning.is_dir() and list(provisioning.iterdir()) == []


def test_a_second_build_waits_for_the_lock_then_gives_up(tmp_path: Path, outputs: list[Output]) -> None:
    waited: list[str] = []
    with build_lock(tmp_path), pytest.raises(BusyError, match=r"held \.cache/build\.lock for 0 s"):
        write_outputs(tmp_path, outputs, "provisioning", on_wait=waited.append, lock_timeout=0.2)
    assert waited and "waiting for another build" in waited[0]
    assert not (tmp_path / "provisioning").exists()  # nothing written while another build held the lock


def test_a_waiting_build_gives_up_after_its_timeout_not_later(tmp_path: Path, outputs: list[Output]) -> None:
    """The wait is bounded by LOCK_TIMEOUT (here 2 s), as its message says: a build that waited twice
    as long would leave `watch` and CI hanging past what the user was told."""
    waited = 2.0
    started = time.monotonic()
    with build_lock(tmp_path), pytest.raises(BusyError, match=r"held \.cache/build\.lock for 2 s"):
        write_outputs(tmp_path, outputs, "provisioning", lock_timeout=waited)
    elapsed = time.monotonic() - started
    assert waited <= elapsed < waited * 1.75, f"gave up after {elapsed:.2f} s, not {waited} s"


BUSY_SECONDS = 6.0
"""How long another build holds the lock below: a slow build of a big project on a loaded machine
takes longer than that, so a build must wait at least this long by default before giving up."""


def test_by_default_a_second_build_waits_for_a_slow_one_to_finish(
    tmp_path: Path, outputs: list[Output]
) -> None:
    """Two builds at once (`watch` and a `make build`, two terminals) are serialised: the second says it
    waits, then writes once the first is done. Giving up after a few seconds would fail the second
    build whenever the first is slow, and leave the user retrying by hand."""
    held = threading.Event()

    def slow_build() -> None:
        with build_lock(tmp_path):
            held.set()
            time.sleep(BUSY_SECONDS)

    holder = threading.Thread(target=slow_build)
    holder.start()
    try:
        assert held.wait(30)
        waited: list[str] = []
        started = time.monotonic()
        report = write_outputs(tmp_path, outputs, "provisioning", on_wait=waited.append)
        elapsed = time.monotonic() - started
    finally:
        holder.join()
    assert waited and "waiting for another build" in waited[0]
    assert len(report.written) == len(outputs)
    assert elapsed >= BUSY_SECONDS * 0.9, f"wrote after {elapsed:.2f} s, while the other build held the lock"


def test_stale_temporaries_are_swept_and_named(tmp_path: Path, outputs: list[Output]) -> None:
    write_outputs(tmp_path, outputs, "provisioning")
    stale = tmp_path / f"docs/.telemetry-contract.md.abc{TEMP_SUFFIX}"
    stale.write_text("half")
    report = write_outputs(tmp_path, outputs, "provisioning")
    assert report.swept == [stale.relative_to(tmp_path).as_posix()]
    assert not stale.exists()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (os.mkfifo, "is a FIFO"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: socket.socket(socket.AF_UNIX).bind(str(p)), "is a socket"),
        (lambda p: p.symlink_to("/dev/null"), "is a symlink to a character device (/dev/null)"),
        (lambda p: p.symlink_to(p.parent / "nothing"), "which does not exist"),
    ],
)
def test_pull_output_refuses_what_is_not_a_regular_file(
    tmp_path: Path, make: Callable[[Path], object], says: str
) -> None:
    target = tmp_path / "out.json"
    make(target)
    with pytest.raises(NotRegularFileError, match=re.escape(says)):
        regular_output(target)


def test_pull_output_writes_new_files_regular_files_and_through_links_to_them(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("{}")
    (tmp_path / "link.json").symlink_to("real.json")
    assert regular_output(tmp_path / "new.json") == tmp_path / "new.json"
    assert regular_output(tmp_path / "real.json") == tmp_path / "real.json"
    assert regular_output(tmp_path / "link.json") == (tmp_path / "real.json").resolve()


_KILLED_BUILD = """
import os, signal, sys
from dataclasses import replace
from pathlib import Path, PurePosixPath
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs, write_outputs

def killed(self, target):
    os.kill(os.getpid(), signal.SIGKILL)  # staged, not yet renamed: what `kill -9` mid-build leaves

Path.replace = killed
outputs = render_outputs(build_documents(load_project(Path(sys.argv[1]))))
changed = [replace(o, content=o.content + b"changed") for o in outputs]
write_outputs(Path(sys.argv[2]), changed, "provisioning")
"""


def test_a_killed_builds_temporaries_are_hidden_ignored_by_check_and_swept(
    tmp_path: Path, outputs: list[Output]
) -> None:
    """A build killed (SIGKILL, `watch`'s time limit, a closed terminal) after staging and before its
    renames leaves one temporary beside every changed file. Each must be hidden, or Grafana's file
    provider (which skips dot files) reads a half-built dashboard next to the real one; `check` must
    not call them "not generated"; the next build must sweep every one, also those beside the
    contract page and the rules file, outside the provisioning folder."""
    write_outputs(tmp_path, outputs, "provisioning")
    before = {path for path in tmp_path.rglob("*") if path.is_file()}
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_BUILD, str(REPO), str(tmp_path)], cwd=REPO, check=False
    )
    assert killed.returncode == -9, killed
    left = sorted(
        path.relative_to(tmp_path).as_posix()
        for path in tmp_path.rglob("*")
        if path.is_file() and path not in before
    )
    assert left, "the killed build staged nothing: the test cannot tell"
    assert {PurePosixPath(path).parent.as_posix() for path in left} >= {
        PurePosixPath(o.path).parent.as_posix() for o in outputs
    }, left  # one beside the contract page, the rules file and every provisioning file

    assert [path for path in left if not PurePosixPath(path).name.startswith(".")] == []
    assert compare_outputs(tmp_path, outputs, "provisioning") == []

    report = write_outputs(tmp_path, outputs, "provisioning")
    assert report.swept == left
    assert report.written == [] and report.removed == []
    assert {path for path in tmp_path.rglob("*") if path.is_file()} == before
