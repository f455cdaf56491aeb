"""Bad input, the Grafana edge: hostile servers and malformed credentials, through the real entry point.

Each case (tests/cli/bad_input.py) asserts the exit code, no traceback, the endpoint or variable
named, and the planted secret (the token, `SECRET`) absent from the output. The servers are in
tests/grafana_api/hostile_servers.py; they answer the health and credentials checks like Grafana
and put their fault on the first real call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.definitions.loader import load_project
from tests.cli.bad_input import SECRET, Case, run_case, write
from tests.grafana_api import hostile_servers as hs
from tests.grafana_api.conftest import cli
from tests.grafana_server.server import FakeGrafana

UID = "hostile"
PULL, DIFF, PUSH = ("pull", UID), ("diff",), ("push",)
TOKEN = {"GRAFANA_TOKEN": SECRET}
UNREACHABLE = {"GRAFANA_URL": "http://127.0.0.1:9"}
DASHBOARD_PATH = f"/api/dashboards/uid/{UID}"


def at(server: str, **env: str) -> dict[str, str]:
    return {"GRAFANA_URL": "{" + server + "}", **TOKEN, **env}


SHAPES: dict[str, tuple[object, str]] = {
    "list": ([DASHBOARD_PATH], "with a JSON list, not an object with dashboard and meta"),
    "null": (None, "with null, not an object with dashboard and meta"),
    "string": ("dashboard", "with a string, not an object with dashboard and meta"),
    "number": (42, "with a JSON number, not an object with dashboard and meta"),
    "no-dashboard": ({"meta": {}}, "not an object with dashboard and meta (dashboard: Field required)"),
    "no-meta": ({"dashboard": {}}, "not an object with dashboard and meta (meta: Field required)"),
    "dashboard-list": ({"dashboard": [], "meta": {}}, "(dashboard: Input should be a valid dictionary)"),
    "meta-folder-number": (
        {"dashboard": {}, "meta": {"folderUid": 7}},
        "(meta.folderUid: Input should be a valid string)",
    ),
}


def _answering(value: object) -> Starter:
    return lambda: hs.hostile(hs.answering(value))


Starter = Callable[[], AbstractContextManager[Any]]
SERVERS: dict[str, Starter] = {
    "trickle": lambda: hs.hostile(hs.trickle),
    "login": lambda: hs.hostile(hs.login_redirect),
    "html": lambda: hs.hostile(hs.raw_body(b"<!doctype html><title>Sign in</title>", "text/html")),
    "html_as_json": lambda: hs.hostile(hs.raw_body(b"<html>Sign in</html>")),
    "not_json": lambda: hs.hostile(hs.raw_body(b"dashboard: yes\n")),
    "empty": lambda: hs.hostile(hs.raw_body(b"")),
    "cut_short": lambda: hs.hostile(hs.cut_short),
    "ansi_500": lambda: hs.hostile(hs.server_error_with_escapes),
    "limited_long": lambda: hs.hostile(hs.rate_limited("3600")),
    "garbage": lambda: hs.tcp_service(b"\x00\xffSSH-2.0-OpenSSH_9.6 garbage\r\n\r\n"),
    "tls": lambda: hs.tcp_service(b"\x15\x03\x03\x00\x02\x02\x46"),
    "folder_list": lambda: hs.hostile(hs.answering([{"uid": "tiktickets"}])),
    **{f"shape_{name}": _answering(value) for name, (value, _) in SHAPES.items()},
}

ENV_MULTILINE = write(".env", f'GRAFANA_URL=http://127.0.0.1:9\nGRAFANA_TOKEN="{SECRET}\n"\n')
ENV_CR = write(
    ".env", f'GRAFANA_URL=http://127.0.0.1:9\nGRAFANA_TOKEN="{SECRET}\\r"\n'
)  # "\r" in quotes: a CR

CASES = [
    # Credentials, refused where they enter; the value never repeated.
    Case("token-newline-dotenv", PUSH, 2, ("GRAFANA_TOKEN", "ends with a line break"), ENV_MULTILINE),
    Case(
        "token-newline-env",
        PUSH,
        2,
        ("GRAFANA_TOKEN", "ends with a line break"),
        env={**UNREACHABLE, "GRAFANA_TOKEN": SECRET + "\n"},
    ),
    Case(
        "token-newline-doctor",
        ("doctor", "--via-grafana"),
        2,
        ("GRAFANA_TOKEN", "line break"),
        env={**UNREACHABLE, "GRAFANA_TOKEN": SECRET + "\n"},
    ),
    Case("token-cr-dotenv", PUSH, 2, ("GRAFANA_TOKEN", "carriage return"), ENV_CR),
    Case(
        "token-cr-env",
        PUSH,
        2,
        ("GRAFANA_TOKEN", "carriage return"),
        env={**UNREACHABLE, "GRAFANA_TOKEN": SECRET + "\r"},
    ),
    Case(
        "token-non-latin1",
        PUSH,
        2,
        ("GRAFANA_TOKEN", "outside Latin-1 (U+2013"),
        env={**UNREACHABLE, "GRAFANA_TOKEN": SECRET + "\u2013x"},
    ),
    Case(
        "token-del",
        PUSH,
        2,
        ("GRAFANA_TOKEN", "control character (U+007F"),
        env={**UNREACHABLE, "GRAFANA_TOKEN": f"{SECRET}\x7f"},
    ),
    Case(
        "user-control",
        PUSH,
        2,
        ("GRAFANA_USER", "control character (U+001B"),
        env={**UNREACHABLE, "GRAFANA_USER": f"ad\x1bmin{SECRET}", "GRAFANA_PASSWORD": "pw"},
    ),
    Case(
        "password-newline",
        PUSH,
        2,
        ("GRAFANA_PASSWORD", "line break"),
        env={**UNREACHABLE, "GRAFANA_USER": "admin", "GRAFANA_PASSWORD": SECRET + "\n"},
    ),
    Case(
        "url-query-token",
        PUSH,
        2,
        ("GRAFANA_URL", "'http://h:3001/?***'", "query or fragment"),
        env={"GRAFANA_URL": f"http://h:3001/?token={SECRET}", **TOKEN},
        secrets=(SECRET, "token="),
    ),
    Case(
        "url-fragment",
        PUSH,
        2,
        ("GRAFANA_URL", "'http://h:3001/#***'"),
        env={"GRAFANA_URL": f"http://h:3001/#{SECRET}", "GRAFANA_TOKEN": "glsa_x"},
    ),
    Case(
        "url-password-at",
        PUSH,
        2,
        ("GRAFANA_URL", "'http://***@host'", "carries credentials"),
        env={"GRAFANA_URL": f"http://u:{SECRET}@ss@host", "GRAFANA_TOKEN": "glsa_x"},
        secrets=(SECRET, "ss@host", "@ss"),
    ),
    # Bounded time: the body trickles one byte a second; GRAFANA_TIMEOUT=2 bounds the whole request.
    Case(
        "trickle-pull",
        PULL,
        2,
        (DASHBOARD_PATH, "did not finish answering", "GRAFANA_TIMEOUT=2", "Grafana at http://127.0.0.1:"),
        env=at("trickle", GRAFANA_TIMEOUT="2"),
        timeout=30,
    ),
    Case(
        "trickle-diff",
        DIFF,
        2,
        ("/api/folders/tiktickets", "did not finish answering"),
        env=at("trickle", GRAFANA_TIMEOUT="1"),
        timeout=60,
    ),
    # Something in front of Grafana: a login proxy, a web page.
    Case(
        "login-redirect-pull",
        PULL,
        2,
        ("an authenticating proxy is in front of Grafana at", f"it redirected {DASHBOARD_PATH} to /login"),
        env=at("login"),
    ),
    Case(
        "login-redirect-diff",
        DIFF,
        2,
        ("authenticating proxy", "redirected /api/folders/tiktickets to /login"),
        env=at("login"),
    ),
    Case(
        "login-redirect-push",
        PUSH,
        1,
        ("authenticating proxy", "stopped early", "not attempted"),
        env=at("login"),
    ),
    Case(
        "html-200-pull",
        PULL,
        2,
        ("authenticating proxy or another web server", f"answered {DASHBOARD_PATH} with an HTML page"),
        env=at("html"),
    ),
    Case(
        "html-as-json-pull",
        PULL,
        2,
        (f"answered {DASHBOARD_PATH} with an HTML page",),
        env=at("html_as_json"),
    ),
    Case("html-200-push", PUSH, 1, ("HTML page", "stopped early"), env=at("html")),
    # Answers that are not JSON, or cut short.
    Case("not-json-pull", PULL, 2, (DASHBOARD_PATH, "a body that is not JSON"), env=at("not_json")),
    Case("empty-200-pull", PULL, 2, (DASHBOARD_PATH, "an empty body"), env=at("empty")),
    Case("cut-short-pull", PULL, 2, (DASHBOARD_PATH, "the answer was cut short"), env=at("cut_short")),
    # Not HTTP at all on the port: another service, or TLS spoken to with http://.
    Case(
        "garbage-service",
        PULL,
        2,
        ("does not speak HTTP", "the server at http://127.0.0.1:"),
        env=at("garbage"),
    ),
    Case("garbage-service-push", PUSH, 1, ("does not speak HTTP",), env=at("garbage")),
    Case("tls-port-plain-http", DIFF, 2, ("does not speak HTTP", "http:// vs https://"), env=at("tls")),
    # Server text with escape sequences is shown escaped.
    Case(
        "ansi-5xx-pull",
        PULL,
        2,
        ("read dashboard 'hostile'", "500", "\\x1b[2J\\x1b[31mdisk on fire"),
        env=at("ansi_500"),
        secrets=(SECRET, "\x1b"),
    ),
    # Rate limiting longer than the whole budget: give up at once, saying so.
    Case(
        "rate-limited-long",
        PULL,
        2,
        ("is rate limiting", "asked to wait 3600 s"),
        env=at("limited_long"),
        timeout=20,
    ),
    # Answers of the wrong shape.
    *(
        Case(f"shape-{name}", PULL, 2, (DASHBOARD_PATH, said), env=at(f"shape_{name}"))
        for name, (_, said) in SHAPES.items()
    ),
    Case(
        "shape-folder-diff",
        DIFF,
        2,
        ("/api/folders/tiktickets", "with a JSON list, not a folder"),
        env=at("folder_list"),
    ),
    Case(
        "shape-folder-push",
        PUSH,
        1,
        ("failed     folder tiktickets", "with a JSON list, not a folder", "failed"),
        env=at("folder_list"),
    ),
]


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with hs.all_of({name: start() for name, start in SERVERS.items()}) as started:
        yield started


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_grafana_input(case: Case, template: Path, tmp_path: Path, urls: dict[str, str]) -> None:
    result = run_case(case, template, tmp_path, urls)
    assert result.returncode == case.code


def test_a_429_is_retried_after_retry_after(project_copy: Path) -> None:
    with hs.hostile(hs.rate_limited("1")) as (url, seen):
        started = time.monotonic()
        result = cli(url, "pull", UID, project=project_copy, credentials=TOKEN)
        elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert '"uid": "hostile"' in result.stdout
    assert seen.count(f"GET {DASHBOARD_PATH}") == 2  # the 429, then the retry
    assert elapsed >= 1  # Retry-After was honoured
    assert SECRET not in output


def test_push_stopped_by_a_login_proxy_midway_reports_what_it_wrote(project_copy: Path) -> None:
    """Folders, datasources and their correlations (below /api/datasources) pass the proxy; dashboards
    are redirected to its login page."""
    with FakeGrafana() as grafana, hs.proxied(grafana.url, ("/api/folders", "/api/datasources")) as (url, _):
        result = cli(url, "push", project=project_copy, credentials={"GRAFANA_TOKEN": "glsa_admin"})
        written = set(grafana.state.datasources) | set(grafana.state.folders)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert {"tiktickets", "prometheus", "loki", "jaeger"} <= written
    assert "created    folder tiktickets" in result.stdout
    assert "created    datasource prometheus" in result.stdout
    summary = [line for line in result.stdout.splitlines() if "reads," in line]
    project = load_project(project_copy)
    before_dashboards = (
        len({d.folder.uid for d in project.dashboards})
        + len(project.datasources)
        + len(project.definitions["correlation"])
    )
    assert summary and f"{before_dashboards} written" in summary[0] and "not attempted" in summary[0], (
        result.stdout
    )
    assert "error: stopped early: an authenticating proxy is in front of Grafana" in result.stderr
    assert "/api/dashboards/uid/" in result.stderr and "to /login" in result.stderr
