"""Messages name the next command the way the user ran this one: `build.py` from a checkout, the
installed `dashboards-as-code`, or `python -m dashboards_as_code`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboards_as_code import invocation


@pytest.mark.parametrize(
    ("argv0", "expected"),
    [
        ("/home/me/tiktickets/build.py", ".venv/bin/python build.py build"),
        ("/usr/local/bin/dashboards-as-code", "dashboards-as-code build"),
        ("/x/site-packages/dashboards_as_code/__main__.py", "python -m dashboards_as_code build"),
        ("", ".venv/bin/python build.py build"),
    ],
)
def test_the_command_is_named_as_the_user_ran_it(
    monkeypatch: pytest.MonkeyPatch, argv0: str, expected: str
) -> None:
    monkeypatch.setattr(sys, "argv", [argv0, "check"])
    assert invocation.command("build") == expected


def test_the_installed_command_says_to_run_itself_when_provisioning_is_stale(project_copy: Path) -> None:
    """Someone who installed the engine has no build.py: `check` tells them `dashboards-as-code build`."""
    installed = Path(sys.executable).parent / "dashboards-as-code"
    assert installed.exists(), "`pip install -e .` (make build) installs the console script"
    path = next((project_copy / "provisioning" / "dashboards").rglob("*.json"))
    document = json.loads(path.read_text())
    document["title"] = f"{document['title']} (edited by hand)"
    path.write_text(json.dumps(document))
    result = subprocess.run(
        [str(installed), "check", "--project", str(project_copy)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Run `dashboards-as-code build`" in result.stdout + result.stderr
    assert "build.py" not in result.stdout + result.stderr
