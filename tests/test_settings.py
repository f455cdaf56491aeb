"""Grafana settings are validated at the edge: a bad GRAFANA_URL or timeout is a named error, exit 2,
no traceback, and a password in the URL is never printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SECRET = "s3cr3tpw"


def push(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRAFANA_")}
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), "push", "--dry-run"],
        env={**clean, "GRAFANA_TOKEN": "glsa_test", **env},
        cwd=tmp_path,  # no .env from a developer's checkout
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"http://admin:{SECRET}@127.0.0.1:9", "carries credentials"),
        (f"http://admin:{SECRET}/x@127.0.0.1:9", "credentials"),
        (f"https://{SECRET}@grafana.example", "carries credentials"),
        ("htp:/x", "is not an http:// or https:// URL"),
        ("localhost:3001", "is not an http:// or https:// URL"),
        ("", "is not an http:// or https:// URL"),
        ("http://x:99999", "invalid port"),
        ("http://x:0", "invalid port"),
        ("http://[::1", "is not a URL"),
        ("ftp://host", "is not an http:// or https:// URL"),
        ("http://:3001", "names no host"),
        ("http://localhost:3001/?orgId=1", "query or fragment"),
    ],
)
def test_bad_grafana_url(tmp_path: Path, url: str, expected: str) -> None:
    result = push(tmp_path, GRAFANA_URL=url)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert "GRAFANA_URL" in output and expected in output, output
    assert SECRET not in output


@pytest.mark.parametrize("timeout", ["-1", "0", "301", "soon"])
def test_bad_grafana_timeout(tmp_path: Path, timeout: str) -> None:
    result = push(tmp_path, GRAFANA_URL="http://127.0.0.1:9", GRAFANA_TIMEOUT=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and "GRAFANA_TIMEOUT" in output, output
