"""Planted secrets never leave: not in any command's output, not in any file a command writes.

Every way a credential can enter (a token, a password, a URL's userinfo or query string, a `.env`
value with a trailing newline, the demo's OTLP endpoint) is planted with a recognisable value; every
command that reads settings runs with each, against the Grafana test server (which refuses the
planted credentials) or a dead port; then stdout, stderr and every file under the project and the
temporary folder (backups, caches, logs), `.env` itself excepted, are searched for the values.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dashboards_as_code.external_tools import NODE
from monitoring.tools import DEMO
from tests.cli.bad_input import make_template
from tests.conftest import REPO
from tests.grafana_server.server import FakeGrafana
from tests.tooling import require_tool

TOKEN = "glsaPLANTEDtoken0001"
PASSWORD = "PLANTEDpassword0002"
URL_PASSWORD = "PLANTEDurlpw0003"
QUERY_SECRET = "PLANTEDquery0004"
OTLP_PASSWORD = "PLANTEDotlp0005"
PLANTED = (TOKEN, PASSWORD, URL_PASSWORD, QUERY_SECRET, OTLP_PASSWORD)
DEAD = "http://127.0.0.1:9"
URL, TOK, G = "GRAFANA_URL", "GRAFANA_TOKEN", "{grafana}"
GRAFANA_COMMANDS = (
    ("push",),
    ("push", "--dry-run", "--prune"),
    ("diff",),
    ("pull", "tiktickets-overview"),
    ("doctor", "--via-grafana"),
)
DOCTOR = (("doctor",),)


@dataclass(frozen=True)
class Entry:
    """One way a secret enters: environment variables (`{grafana}` is the test server) and/or a `.env`."""

    id: str
    env: dict[str, str] = field(default_factory=dict)
    dotenv: str = ""
    commands: tuple[tuple[str, ...], ...] = ()
    """The commands that read this setting (default: every command that talks to Grafana)."""


ENTRIES = [
    Entry("token-refused", {URL: G, TOK: TOKEN}),
    Entry("token-newline-dotenv", {URL: G}, f'GRAFANA_TOKEN="{TOKEN}\n"\n'),
    Entry("token-newline-env", {URL: G, TOK: f"{TOKEN}\n"}),
    Entry("token-carriage-return", {URL: G, TOK: f"{TOKEN}\r"}),
    Entry("token-non-latin1", {URL: G, TOK: f"{TOKEN}\u2603"}),
    Entry("password-refused", {URL: G}, f"GRAFANA_USER=u\nGRAFANA_PASSWORD={PASSWORD}\n"),
    Entry("password-control", {URL: G, "GRAFANA_USER": "u", "GRAFANA_PASSWORD": f"{PASSWORD}\x1b[2J"}),
    Entry("url-userinfo", {URL: f"http://admin:{URL_PASSWORD}@127.0.0.1:9", TOK: TOKEN}),
    Entry("url-userinfo-at", {URL: f"http://admin:{URL_PASSWORD}@x@127.0.0.1:9", TOK: TOKEN}),
    Entry("url-query", {URL: G + "/?token=" + QUERY_SECRET, TOK: TOKEN}),
    Entry("url-fragment", {URL: G + "/#" + QUERY_SECRET, TOK: TOKEN}),
    Entry("datasource-urls", {"PROMETHEUS_URL": f"http://u:{URL_PASSWORD}@127.0.0.1:9"}, commands=DOCTOR),
    Entry("datasource-query", {"LOKI_URL": f"{DEAD}/?key={QUERY_SECRET}"}, commands=DOCTOR),
    Entry("build-and-check", {TOK: TOKEN, "GRAFANA_PASSWORD": PASSWORD}, commands=(("build",), ("check",))),
]  # fmt: skip


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("template") / "project")


@pytest.fixture(scope="module")
def grafana() -> Iterator[str]:
    with FakeGrafana() as server:
        yield server.url


def _files_holding_a_secret(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.name == ".env" or not path.is_file() or ".git" in path.parts:
            continue
        content = path.read_bytes()
        found += [f"{path}: {secret}" for secret in PLANTED if secret.encode() in content]
    return found


def _run(project: Path, args: tuple[str, ...], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    project_option = [] if args[0] == "pull" else ["--project", str(project)]
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args, *project_option],
        cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_no_command_prints_or_writes_a_planted_secret(
    entry: Entry, template: Path, grafana: str, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    subprocess.run(["cp", "-a", str(template), str(project)], check=True)
    if entry.dotenv:
        (project / ".env").write_text(entry.dotenv)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GRAFANA_", "PROMETHEUS_", "LOKI_"))}
    env = clean | {k: v.replace("{grafana}", grafana) for k, v in entry.env.items()}
    env.setdefault("PROMETHEUS_URL", DEAD)
    env.setdefault("LOKI_URL", DEAD)
    env["DOCTOR_TIMEOUT"] = "1"
    for args in entry.commands or GRAFANA_COMMANDS:
        result = _run(project, args, env)
        output = result.stdout + result.stderr
        where = f"`{' '.join(args)}` with {entry.id} (exit {result.returncode}):\n{output}"
        assert "Traceback" not in output, where
        for secret in PLANTED:
            assert secret not in output, f"{secret} printed by {where}"
        if args[0] not in ("build", "check"):
            assert result.returncode != 0, f"refused credentials or a dead datasource, yet {where}"
    assert _files_holding_a_secret(tmp_path) == []


def test_the_demo_never_prints_its_endpoints_password(tmp_path: Path) -> None:
    """The status line names where telemetry goes: with the userinfo and query masked."""
    node, script = require_tool(NODE), require_tool(DEMO)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DEMO_"))}
    env = clean | {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://demo:{OTLP_PASSWORD}@127.0.0.1:9/?k={QUERY_SECRET}",
        "DEMO_DURATION": "2s",
        "DEMO_STATUS_INTERVAL": "500ms",
        "OTEL_METRIC_EXPORT_INTERVAL": "500",
    }
    result = subprocess.run(
        [node, script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    output = result.stdout + result.stderr
    assert "127.0.0.1:9" in output or result.returncode == 2, output  # it named where, or refused the URL
    for secret in (OTLP_PASSWORD, QUERY_SECRET):
        assert secret not in output, output
