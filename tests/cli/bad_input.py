"""The bad-input harness: one case = a mutation of a project copy, a command, and what must hold.

Every table of bad inputs (tests/cli/test_bad_*.py) runs its cases through `run_case`, which asserts
for each: the exit code, no traceback, the place named (`says`), no planted secret in the output,
nothing written outside the project, and `git status` of the copy unchanged when the command failed.
Cases that need a live server give `env` values with `{name}` placeholders, filled from `urls`.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import DEFINITIONS, OUTPUTS, REPO, copy_outputs_elsewhere

SECRET = "s3cr3tpw"
Mutation = Callable[[Path], None]


def write(relative: str, text: str | bytes) -> Mutation:
    def apply(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    return apply


def replace(relative: str, old: str, new: str) -> Mutation:
    def apply(root: Path) -> None:
        path = root / relative
        text = path.read_text()
        assert old in text, f"{relative} has no {old!r}: the case no longer plants its fault"
        path.write_text(text.replace(old, new, 1))

    return apply


def symlink_loop(relative: str) -> Mutation:
    def apply(root: Path) -> None:
        (root / relative).symlink_to(Path(relative).name)

    return apply


def folder_is_a_file(relative: str) -> Mutation:
    def apply(root: Path) -> None:
        shutil.rmtree(root / relative)
        (root / relative).write_text("a file where a folder should be\n")

    return apply


def both(*mutations: Mutation) -> Mutation:
    def apply(root: Path) -> None:
        for mutation in mutations:
            mutation(root)

    return apply


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    says: tuple[str, ...]
    mutate: Mutation = lambda _: None
    env: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = (SECRET,)
    """Strings that must never appear in the output (planted credentials)."""
    timeout: float = 120
    """Seconds the command may take; a hang fails the case."""
    changes_project: bool = False
    """The command may change the project (a successful build); else `git status` must not move."""
    outside_bytes: bool = False
    """Also compare the bytes of every regular file outside the project, not only the names: for
    cases whose symlinks lead out of the project."""
    forbids: tuple[str, ...] = ()
    """Other strings that must never appear in the output (a raw escape sequence from a server)."""
    within: float | None = None
    """Seconds the command must finish in, when bounded time is the promise under test."""


OVERVIEW = "dashboards/overview.py"
CONTRACT = "telemetry/contract.py"
BUILD, CHECK, PUSH = ("build",), ("check",), ("push", "--dry-run")
GRAFANA = {"GRAFANA_URL": "http://127.0.0.1:9", "GRAFANA_TOKEN": "glsa_x"}
BOARD = "from dashboards.overview import dashboard as _overview\n\n\ndef dashboard():\n{body}\n"


def dashboard_body(body: str) -> Mutation:
    return write("dashboards/extra.py", BOARD.format(body=body))


def make_template(root: Path) -> Path:
    """A committed copy of the project's definitions and outputs, for cases to copy and break."""
    root.mkdir(parents=True)
    for name in DEFINITIONS + OUTPUTS:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    copy_outputs_elsewhere(root)
    shutil.copy(REPO / "config.py", root / "config.py")
    (root / ".gitignore").write_text("__pycache__/\n.cache/\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "copy"], check=True)
    return root


def _status(root: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def _outside_contents(tmp_path: Path) -> dict[str, bytes]:
    """The regular files outside the project and their bytes (never reading a FIFO or a device)."""
    return {
        p.relative_to(tmp_path).as_posix(): p.read_bytes()
        for p in tmp_path.rglob("*")
        if not p.relative_to(tmp_path).as_posix().startswith("project") and stat.S_ISREG(p.lstat().st_mode)
    }


def _filled(text: str, fill: Mapping[str, str]) -> str:
    """`text` with each `{name}` of `fill` replaced (other braces kept): so `says` can name a server."""
    for name, value in fill.items():
        text = text.replace(f"{{{name}}}", value)
    return text


def run_case(
    case: Case, template: Path, tmp_path: Path, urls: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Copy the template, plant the case's fault, run the command, assert the invariants; the result
    is returned for case-specific assertions."""
    project = tmp_path / "project"
    shutil.copytree(template, project, symlinks=True)
    case.mutate(project)
    before = _status(project)
    outside = {p for p in _tree(tmp_path) if not p.startswith("project")}
    outside_bytes = _outside_contents(tmp_path) if case.outside_bytes else {}
    fill = {"project": str(project), "tmp": str(tmp_path), **(urls or {})}
    args = [a.format(**fill) if "{" in a else a for a in case.args]
    args = [a if a != "/nonexistent/project" else str(tmp_path / "missing") for a in args]
    if args[0] not in ("pull", "checks") and "--project" not in args:
        args += ["--project", str(project)]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRAFANA_", "PROMETHEUS_", "LOKI_", "DOCTOR_"))
    }
    env |= {k: v.format(**fill) if "{" in v else v for k, v in case.env.items()}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=case.timeout, check=False,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    if case.within is not None:
        assert elapsed < case.within, f"took {elapsed:.1f} s, more than {case.within} s:\n{output}"
    assert result.returncode == case.code, output
    assert "Traceback" not in output, output
    for fragment in (_filled(says, fill) for says in case.says):
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    for secret in case.secrets:
        assert secret not in output, f"secret {secret!r} printed:\n{output}"
    for forbidden in case.forbids:
        assert forbidden not in output, f"{forbidden!r} printed:\n{output}"
    assert {p for p in _tree(tmp_path) if not p.startswith("project")} == outside  # nothing outside
    if case.outside_bytes:
        assert _outside_contents(tmp_path) == outside_bytes, "a file outside the project changed"
    if not case.changes_project:
        assert _status(project) == before, "the command changed the project"
    return result
