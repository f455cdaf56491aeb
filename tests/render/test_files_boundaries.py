"""The edges of render/files.py and render/staleness.py that other tests leave open: each end of the
control-character range refused in an output path, each file kind named by its own word, and an empty
file (0 bytes), which is a file and not the absence of one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dashboards_as_code.errors import DefinitionError
from dashboards_as_code.render.files import (
    TEMP_SUFFIX,
    _stays_inside,
    describe_kind,
    generated_files_on_disk,
    obstacle,
    read_regular,
    write_outputs,
)
from dashboards_as_code.render.formats import Output
from dashboards_as_code.render.staleness import Drift, compare_outputs

PATH_CONTROLS = (range(0x00, 0x20), range(0x7F, 0xA0))
"""The control characters `_stays_inside` refuses in an output path: C0, DEL and C1 (a NUL makes the OS
raise; a newline, an escape or a C1 CSI would garble every message that names the path, as names.py
refuses them in a title)."""
PATH_EDGES = sorted(
    {(run[0], False) for run in PATH_CONTROLS}
    | {(run[-1], False) for run in PATH_CONTROLS}
    | {(run[0] - 1, True) for run in PATH_CONTROLS if run[0] > 0}
    | {(run[-1] + 1, True) for run in PATH_CONTROLS}
)
"""Both ends of each refused run (U+0000, U+001F, U+007F, U+009F) and the character just outside
(U+0020, U+007E, U+00A0)."""


@pytest.mark.parametrize(("code", "taken"), PATH_EDGES, ids=[f"U+{code:04X}" for code, _ in PATH_EDGES])
def test_each_end_of_the_refused_path_characters_and_its_printable_neighbour(
    tmp_path: Path, code: int, taken: bool
) -> None:
    """U+001F, DEL and U+009F are refused with the message that names a control character; a space
    inside a name, `~` and a no-break space are ordinary file-name characters, written."""
    path = f"docs/a{chr(code)}b.md"
    if taken:
        _stays_inside(path, tmp_path)
        write_outputs(tmp_path, [Output(path, b"x\n")], "provisioning")
        assert (tmp_path / path).read_bytes() == b"x\n"
    else:
        with pytest.raises(DefinitionError, match="an output path holds a control character"):
            _stays_inside(path, tmp_path)


FILE_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFLNK: "a symlink",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}
"""Every file type POSIX has besides a regular file, with the word a refusal uses for it."""


@pytest.mark.parametrize("kind", sorted(FILE_KINDS), ids=lambda kind: FILE_KINDS[kind])
def test_each_file_kind_is_named_by_its_own_word(kind: int) -> None:
    """describe_kind looks the word up by type: a refusal must say what is in the way (a block device
    is not "a character device", a socket not "not a regular file")."""
    assert describe_kind(kind | 0o644) == FILE_KINDS[kind]


def test_an_empty_file_is_a_regular_file_not_an_absent_one(tmp_path: Path) -> None:
    """read_regular gives b"" for an empty file and None for none; obstacle sees nothing in the way
    of either. A caller that tests `not content` instead of `is None` would treat the empty file as
    missing (and report or restore it wrongly)."""
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert read_regular(empty) == b""
    assert read_regular(tmp_path / "absent.json") is None
    assert obstacle(empty) is None and obstacle(tmp_path / "absent.json") is None


def test_check_calls_an_empty_generated_file_changed_not_missing(tmp_path: Path) -> None:
    """A generated file truncated to 0 bytes is on disk with the wrong content: `changed`, with the
    line count, not `missing` (which would send the reader looking for a file that is there)."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/page.md").write_bytes(b"")
    (drift,) = compare_outputs(tmp_path, [Output("docs/page.md", b"one\ntwo\n")], "provisioning")
    assert drift.kind == "changed", drift
    assert drift.detail.startswith("0 line(s) on disk differ from 2 generated line(s)"), drift


def test_an_empty_output_over_an_empty_file_is_up_to_date_and_unchanged(tmp_path: Path) -> None:
    """An output whose content is empty, on disk as an empty file: no drift, and a build leaves it
    alone (`unchanged`); with no file there, it is missing and a build writes it."""
    (tmp_path / "docs").mkdir()
    empty = [Output("docs/empty.md", b"")]
    missing = compare_outputs(tmp_path, empty, "provisioning")
    assert [str(d) for d in missing] == ["missing: docs/empty.md"]
    assert write_outputs(tmp_path, empty, "provisioning").written == ["docs/empty.md"]
    assert compare_outputs(tmp_path, empty, "provisioning") == []
    report = write_outputs(tmp_path, empty, "provisioning")
    assert (report.written, report.unchanged) == ([], ["docs/empty.md"])


def test_a_drift_without_detail_is_shown_without_brackets() -> None:
    """`if self.detail`: an empty detail adds nothing (`missing: a.json`, not `missing: a.json ()`)."""
    assert str(Drift("a.json", "missing")) == "missing: a.json"
    assert str(Drift("a.json", "missing", "it is a FIFO")) == "missing: a.json (it is a FIFO)"


def test_only_a_hidden_file_with_the_temporary_suffix_is_a_temporary(tmp_path: Path) -> None:
    """A temporary is `.<name>.<random>.build-tmp`: both the leading dot and the suffix. A hidden
    file, or a file that only ends like one, is a generated file like any other (check reports it,
    build removes it); only the true temporaries are left to the sweep."""
    folder = tmp_path / "provisioning"
    folder.mkdir()
    names = {".a.json.x1" + TEMP_SUFFIX: False, "a" + TEMP_SUFFIX: True, ".hidden.json": True, "a.json": True}
    for name in names:
        (folder / name).write_bytes(b"{}")
    found = generated_files_on_disk(tmp_path, "provisioning")
    assert found == {f"provisioning/{name}" for name, generated in names.items() if generated}


def test_the_sweep_descends_below_provisioning_only(tmp_path: Path) -> None:
    """Provisioning is all generated, so its temporaries are swept at any depth; another output's
    folder (docs/) is someone else's beyond the output itself, so only its own level is swept and a
    temporary-looking file in docs/sub/ is left alone."""
    names = [
        f"provisioning/dashboards/x/.a.json.1{TEMP_SUFFIX}",
        f"provisioning/.b.yaml.2{TEMP_SUFFIX}",
        f"docs/.page.md.3{TEMP_SUFFIX}",
        f"docs/sub/.other.md.4{TEMP_SUFFIX}",
    ]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("half")
    outputs = [Output("docs/page.md", b"x\n")]
    report = write_outputs(tmp_path, outputs, "provisioning")
    assert report.swept == sorted(names[:3])
    assert [name for name in names if (tmp_path / name).exists()] == names[3:]


def test_a_temporary_left_at_the_project_root_is_swept_by_the_next_build(tmp_path: Path) -> None:
    """An output at the top of the project (CONTRACT.md) stages its temporary there; a build killed
    meanwhile leaves it, and the next build removes it, as TEMP_SUFFIX promises. Only names like ours
    go, and only at that level: the root's folders are not the build's."""
    left = tmp_path / f".CONTRACT.md.abc{TEMP_SUFFIX}"
    left.write_text("half")
    kept = [tmp_path / "notes.md", tmp_path / "sub" / f".x.md.1{TEMP_SUFFIX}"]
    for path in kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("mine")
    report = write_outputs(tmp_path, [Output("CONTRACT.md", b"x\n")], "provisioning")
    assert report.swept == [left.name]
    assert not left.exists()
    assert all(path.read_text() == "mine" for path in kept)
