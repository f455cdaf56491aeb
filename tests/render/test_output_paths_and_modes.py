"""Where generated files may land, and who can read them once they have.

- Grafana and Prometheus read the generated files in their containers, as another user than the one
  who built them: every generated file is 0644 and every folder a build creates is 0755, whatever the
  builder's umask (077 would make them 0600 and 0700, and every panel and rule would vanish).
- An output path leaves the project when the OS would resolve it outside the project's folder (or
  to the folder itself): `..` anywhere, an absolute path, a symlink on the way. Those are refused;
  what the OS keeps inside (a backslash is an ordinary character here, `~` is not expanded) is written
  inside. The lexical part holds even with `--allow-outside`, which only lets symlinks lead out.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.errors import DefinitionError
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import _stays_inside, render_outputs, write_outputs
from dashboards_as_code.render.formats import Output
from tests.conftest import OUTPUTS, REPO, generated_elsewhere

FILE_MODE, FOLDER_MODE = 0o644, 0o755


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _folders_between(root: Path, relative: str) -> list[Path]:
    """Every folder from just below `root` down to the file's own folder."""
    parts = Path(relative).parts[:-1]
    return [root.joinpath(*parts[: i + 1]) for i in range(len(parts))]


@pytest.fixture(scope="module")
def outputs() -> list[Output]:
    return render_outputs(build_documents(load_project(REPO)))


def _assert_readable_by_everyone(root: Path, outputs: list[Output]) -> None:
    wrong = {o.path: oct(_mode(root / o.path)) for o in outputs if _mode(root / o.path) != FILE_MODE}
    assert not wrong, f"generated files not {oct(FILE_MODE)}: {wrong}"
    folders = {folder for o in outputs for folder in _folders_between(root, o.path)}
    closed = {str(f.relative_to(root)): oct(_mode(f)) for f in folders if _mode(f) != FOLDER_MODE}
    assert not closed, f"folders a build created not {oct(FOLDER_MODE)}: {closed}"


@pytest.mark.parametrize("mask", [0o077, 0o027, 0o022, 0o000])
def test_a_build_into_an_empty_tree_is_readable_by_everyone_whatever_the_umask(
    tmp_path: Path, outputs: list[Output], mask: int
) -> None:
    with umask(mask):
        write_outputs(tmp_path, outputs, "provisioning")
    _assert_readable_by_everyone(tmp_path, outputs)


def test_a_rebuild_under_umask_077_replaces_private_files_with_readable_ones(
    tmp_path: Path, outputs: list[Output]
) -> None:
    """A file someone left 0600 (a hand edit, a restore) is replaced by a readable one when it changes."""
    write_outputs(tmp_path, outputs, "provisioning")
    for output in outputs:
        (tmp_path / output.path).write_bytes(b"edited by hand\n")
        (tmp_path / output.path).chmod(0o600)
    with umask(0o077):
        report = write_outputs(tmp_path, outputs, "provisioning")
    assert sorted(report.written) == sorted(o.path for o in outputs)
    _assert_readable_by_everyone(tmp_path, outputs)


def test_build_through_the_entry_point_under_umask_077(project_copy: Path, outputs: list[Output]) -> None:
    """`build.py build` as a user with umask 077 runs it: the outputs (written afresh) are 0644."""
    for name in OUTPUTS:
        for path in sorted((project_copy / name).rglob("*"), reverse=True):
            if path.is_file():
                path.unlink()
            else:
                path.rmdir()
    for relative in generated_elsewhere():
        (project_copy / relative).unlink()
    completed = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "build", "--project", str(project_copy)],
        capture_output=True, text=True, check=False, timeout=300, umask=0o077,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    _assert_readable_by_everyone(project_copy, outputs)


# -- containment ---------------------------------------------------------------------------------------

ESCAPING = [
    "..",
    "../x",
    "../../etc/passwd",
    "a/../../x",
    "a/b/../../../x",
    "./..",
    "./../x",
    "a/./../../x",
    "provisioning/../../x",
    "/etc/x",
    "//etc/x",
    "/",
    "a/..",  # the project folder itself: a file there would replace the project
    ".",
    "",
]
"""Paths the OS resolves outside the project, or to the project folder itself."""
INSIDE = [
    "..\\x",  # a backslash is an ordinary character in a POSIX file name
    "a\\..\\..\\x",
    "~/x",  # no shell: `~` is a folder name
    "a//b",
    "a/./b",
    "...",
    "..a",
    "a..",
    ".hidden",
    "provisioning/dashboards/x..json",
]
"""Paths that look suspicious but stay inside the project: refusing them is no safety, writing them is."""


def _resolves_inside(root: Path, path: str) -> bool:
    """What the OS does with `path` below `root` (no symlinks here): strictly below it, or not."""
    where = Path(os.path.normpath(root / path))
    return where != root and where.is_relative_to(root)


def test_the_lists_say_what_the_os_does(tmp_path: Path) -> None:
    """The two lists are the OS's answer, not the code's: each escaping path really escapes."""
    root = tmp_path / "project"
    assert [p for p in ESCAPING if _resolves_inside(root, p)] == []
    assert [p for p in INSIDE if not _resolves_inside(root, p)] == []


@pytest.mark.parametrize("path", ESCAPING)
def test_a_path_the_os_resolves_outside_is_refused(tmp_path: Path, path: str) -> None:
    root = tmp_path / "project"
    root.mkdir()
    for given, allow_outside in ((None, False), (root, False), (root, True)):
        with pytest.raises(DefinitionError, match="would leave the project"):
            _stays_inside(path, given, allow_outside=allow_outside)
    with pytest.raises(DefinitionError):
        write_outputs(root, [Output(path, b"x\n")], "provisioning")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"], "something was written outside"


@pytest.mark.parametrize("path", INSIDE)
def test_a_path_the_os_keeps_inside_is_written_inside(tmp_path: Path, path: str) -> None:
    root = tmp_path / "project"
    root.mkdir()
    _stays_inside(path, root)
    write_outputs(root, [Output(path, b"x\n")], "provisioning")
    assert (root / path).read_bytes() == b"x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]


def test_a_symlink_on_the_way_out_is_refused_unless_allowed(tmp_path: Path) -> None:
    root, outside = tmp_path / "project", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "provisioning").symlink_to(outside)
    with pytest.raises(DefinitionError, match="outside the project"):
        _stays_inside("provisioning/x.json", root)
    _stays_inside("provisioning/x.json", root, allow_outside=True)


@pytest.mark.parametrize("path", ["prov\x00x/a.json", "a\nb.json", "a/\x1b[2Jb.json", "a/b\x7f.json"])
def test_a_control_character_in_an_output_path_is_named_not_a_traceback(tmp_path: Path, path: str) -> None:
    with pytest.raises(DefinitionError, match="control character") as raised:
        _stays_inside(path, tmp_path)
    assert "\x00" not in str(raised.value) and "\x1b" not in str(raised.value)


@pytest.mark.parametrize(
    "path", ["provisioning /a.json", " provisioning/a.json", "provisioning/a.json ", "docs/ a.md"]
)
def test_a_path_part_with_surrounding_blanks_is_refused(tmp_path: Path, path: str) -> None:
    """`provisioning /a.json` is a folder no one meant (a stray space in config.py): on disk it looks
    like `provisioning`, and Grafana would never read what lands there."""
    with pytest.raises(DefinitionError):
        _stays_inside(path, tmp_path)
    with pytest.raises(DefinitionError):
        write_outputs(tmp_path, [Output(path, b"x\n")], "provisioning")
    assert list(tmp_path.iterdir()) in ([], [tmp_path / ".cache"])  # nothing written
