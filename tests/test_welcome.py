"""A newcomer's panel and dashboard, added exactly as the README says, break no test.

The whole repository (tests included) is copied, the README's "Add a panel" and "Add a dashboard"
are followed in the copy (tests/welcome.py), and `build`, `check` and the fast tests that read the
project's own definitions run there: all green, with no test file edited (the wide run, with the
real-Prometheus, promtool, doctor, CLI and Grafana tests: `python -m bench.welcome`). A test that pins the
project as it is today (`len(panels) == 8`, a file list, `panels[11]`, "5 written") fails here and
is named in the failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from config import OVERVIEW_UID
from tests.conftest import REPO
from tests.single_tenant import UID
from tests.welcome import DASHBOARD_TITLE, DEFINITION_TESTS, PANEL_TITLE, run_tests, welcome_copy

SUITE_TIMEOUT = 1200
"""Seconds for the fast definition tests in the copy: minutes here, generous for a shared 2-core machine."""


def _digests(root: Path) -> dict[str, str]:
    """Every test file under `root/tests`, by path, with a digest of its bytes."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((root / "tests").rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _run(copy: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=copy,
        env={**os.environ, "CI": "true"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def welcomed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository copied with the README's new panel and dashboard, built as the user builds it."""
    copy = welcome_copy(tmp_path_factory.mktemp("welcome") / "repo")
    built = _run(copy, "build.py", "build")
    assert built.returncode == 0, built.stdout + built.stderr
    return copy


def test_build_and_check_take_the_new_panel_and_dashboard(welcomed: Path) -> None:
    checked = _run(welcomed, "build.py", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    boards = welcomed / "provisioning" / "dashboards" / "tiktickets"
    overview = json.loads((boards / f"{OVERVIEW_UID}.json").read_text())
    assert PANEL_TITLE in [p["title"] for p in overview["panels"]]
    detail = json.loads((boards / f"{UID}.json").read_text())
    assert detail["title"] == DASHBOARD_TITLE


def test_the_definition_tests_pass_on_the_copy_with_no_test_file_edited(
    welcomed: Path,
) -> None:
    """The tests that read TikTickets' definitions, run in the copy: a test pinning today's project fails
    here, and pytest's summary line names it."""
    assert _digests(welcomed) == _digests(REPO), "the copy's tests must be this checkout's, unedited"
    with tempfile.TemporaryDirectory(prefix="wel-") as short:  # a Unix socket's path is at most 107 bytes
        result = run_tests(welcomed, DEFINITION_TESTS, Path(short) / "t", SUITE_TIMEOUT)
    summary = "\n".join(result.stdout.splitlines()[-40:])
    assert result.returncode == 0, f"a test pins today's definitions:\n{summary}\n{result.stderr[-2000:]}"
    assert _digests(welcomed) == _digests(REPO)
