"""Documents -> files: deterministic bytes, the expected set of files, atomic writes."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.definitions.loader import load_project
from engine.render.documents import build_documents
from engine.render.files import Output, WriteError, atomic_write, render_outputs, write_outputs
from engine.render.staleness import compare_outputs
from tests.conftest import REPO


@pytest.fixture
def outputs() -> list[Output]:
    documents = build_documents(load_project(REPO))
    return render_outputs(documents)


def test_output_is_deterministic_across_processes(outputs: list[Output]) -> None:
    """Another interpreter (another hash seed, another import order) renders the same bytes."""
    script = (
        "import hashlib, sys; from pathlib import Path; from engine.definitions.loader import load_project; "
        "from engine.render.documents import build_documents; "
        "from engine.render.files import render_outputs; "
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
    assert [o.path for o in outputs] == [
        "docs/telemetry-contract.md",
        "monitoring/prometheus/rules/tiktickets.yml",
        "provisioning/README.md",
        "provisioning/dashboards/providers.yaml",
        "provisioning/dashboards/tiktickets/tiktickets-overview.json",
        "provisioning/datasources/datasources.yaml",
    ]


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
    with pytest.raises(
        WriteError,
        match=re.escape("cannot write provisioning/dashboards/tiktickets/tiktickets-overview.json"),
    ):
        write_outputs(tmp_path, changed, "provisioning")
    assert {
        p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
    } == before  # no temporary left either
