"""`.env` is the project's: read from the `--project` root, whatever directory the command runs in.

An SRE runs `build.py diff --project ~/tiktickets` from their home directory, or a CI job from the
checkout's parent; the Grafana URL and token in the project's `.env` must be the ones used. Read
from the current directory instead, the command finds no credentials at all (or someone else's).
Here the project's `.env` points at a port where nothing listens, and the command runs from an empty
directory with no GRAFANA_* variable set: it must try that address, not report missing credentials.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.local_http import free_port


def test_the_projects_env_file_is_read_from_another_directory(project_copy: Path, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    (project_copy / ".env").write_text(f"GRAFANA_URL=http://127.0.0.1:{port}\nGRAFANA_TOKEN=t0ken-from-env\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAFANA_")}
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "diff", "--project", str(project_copy)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2 and "Traceback" not in output, output
    assert f"127.0.0.1:{port}" in output, output  # it tried the project's Grafana
    assert "t0ken-from-env" not in output  # and never printed its token
