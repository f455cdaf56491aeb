"""A wheel of this repository holds the whole engine: installed without the checkout, its CLI works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from tests.conftest import REPO


def test_the_installed_engine_checks_a_project_without_this_checkout(
    tmp_path: Path, project_copy: Path
) -> None:
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)], check=True, timeout=600)
    (wheel,) = wheels.glob("*.whl")
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True, timeout=300
    )
    assert (
        not (target / "dashboards").exists() and not (target / "config.py").exists()
    )  # definitions stay home
    (project_copy / "tools").symlink_to(REPO / "tools")  # the LogQL grammar, found in the project first
    script = (
        "import dashboards_as_code, sys; print(dashboards_as_code.__file__, file=sys.stderr); "
        "from dashboards_as_code.cli import main; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "check"],
        cwd=project_copy,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.startswith(str(target)), result.stderr
    outputs = render_outputs(build_documents(load_project(REPO)))
    assert f"{len(outputs)} generated files up to date" in result.stdout
