"""Bad input, round two: what only looks like Grafana, URLs with an empty `#` or `?`, passwords
holding `@`, and output paths with control characters, through the real entry point.

Each case (tests/cli/bad_input.py) asserts the exit code, no traceback, the endpoint, variable or
path named, no piece of a planted password in the output, and the project unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.cli.bad_input import Case, replace, run_case
from tests.local_http import QuietHandler, serving

NOT_GRAFANA = "/api/health answered a JSON object, not Grafana's health JSON: is GRAFANA_URL the Grafana root"
TOKEN = {"GRAFANA_TOKEN": "glsa_x"}
DEAD = "http://127.0.0.1:9"
PIECES = ("pw1", "pw2", "pw3")
HEALTH: dict[str, dict[str, Any]] = {
    "empty": {},
    "actuator": {"status": "UP"},
    "kubernetes": {"status": "ok", "version": "1.29"},
    "database-not-ok": {"database": "healthy", "version": "11.6.0"},
    "failing-at-200": {"database": "failing", "version": "11.6.0"},
    "version-number": {"database": "ok", "version": 11.6},
}
"""JSON objects a service that is not Grafana (or a broken one) may answer at /api/health."""


def _health(answer: dict[str, Any]) -> Any:
    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
            self.reply(200, json.dumps(answer).encode())

        def do_POST(self) -> None:  # noqa: N802
            self.reply(500, b'{"message": "no write may reach this server"}')

    return serving(Handler)


def _grafana_at(name: str) -> dict[str, str]:
    return {"GRAFANA_URL": "{" + name + "}", **TOKEN}


def _doctor(prometheus: str = DEAD, loki: str = DEAD) -> dict[str, str]:
    return {"PROMETHEUS_URL": prometheus, "LOKI_URL": loki, "DOCTOR_TIMEOUT": "2"}


NUL_OUTPUT = replace(
    "config.py", '    name="tiktickets",', '    name="tiktickets",\n    provisioning_dir="prov\\x00x",'
)
NEWLINE_OUTPUT = replace(
    "config.py", '    name="tiktickets",', '    name="tiktickets",\n    provisioning_dir="prov\\nx",'
)

CASES = [
    # /api/health: any JSON object is not Grafana (exit 2, the health check is the only request).
    *[Case(f"health-{name}-{cmd[0]}", cmd, 2, (NOT_GRAFANA,), env=_grafana_at(name)) for name in HEALTH for cmd in (("push",), ("diff",))],
    Case("health-empty-pull", ("pull", "tiktickets-overview"), 2, (NOT_GRAFANA,), env=_grafana_at("empty")),
    # A URL with a query or fragment, an empty one too: refused where it enters.
    Case("grafana-url-empty-fragment", ("push",), 2, ("GRAFANA_URL", "query or fragment"), env={"GRAFANA_URL": f"{DEAD}/#", **TOKEN}),
    Case("grafana-url-hash-slash", ("diff",), 2, ("GRAFANA_URL", "query or fragment"), env={"GRAFANA_URL": f"{DEAD}/#/", **TOKEN}),
    Case("grafana-url-empty-query", ("diff",), 2, ("GRAFANA_URL", "query or fragment"), env={"GRAFANA_URL": f"{DEAD}/?", **TOKEN}),
    Case("grafana-url-fragment-pull", ("pull", "tiktickets-overview"), 2, ("GRAFANA_URL", "query or fragment"), env={"GRAFANA_URL": f"{DEAD}/#/d/x", **TOKEN}),
    Case("prometheus-url-fragment", ("doctor",), 2, ("PROMETHEUS_URL", "query or fragment"), env=_doctor(f"{DEAD}/#/graph")),
    Case("loki-url-empty-fragment", ("doctor",), 2, ("LOKI_URL", "query or fragment"), env=_doctor(loki=f"{DEAD}#")),
    # A password holding `@` (and `#`, `?`): no piece of it is printed.
    Case("grafana-url-password-at", ("push",), 2, ("GRAFANA_URL", "'http://***@127.0.0.1:9'", "carries credentials"), env={"GRAFANA_URL": "http://admin:pw1@pw2@127.0.0.1:9", **TOKEN}, secrets=PIECES),
    Case("grafana-url-password-at-hash", ("diff",), 2, ("GRAFANA_URL", "carries credentials"), env={"GRAFANA_URL": "http://admin:pw1#pw2@pw3@127.0.0.1:9", **TOKEN}, secrets=PIECES),
    Case("prometheus-url-password-at", ("doctor",), 2, ("PROMETHEUS_URL", "carries credentials"), env=_doctor("http://u:pw1@pw2?pw3@127.0.0.1:9"), secrets=PIECES),
    Case("loki-url-password-at", ("doctor",), 2, ("LOKI_URL", "carries credentials"), env=_doctor(loki="http://pw1@pw2@127.0.0.1:9"), secrets=PIECES),
    # An output path with a control character: named, exit 2, nothing written.
    Case("output-path-nul-build", ("build",), 2, ("prov\\x00x/", "control character", "nothing was written"), NUL_OUTPUT),
    Case("output-path-nul-check", ("check",), 2, ("prov\\x00x/", "control character"), NUL_OUTPUT),
    Case("output-path-newline-build", ("build",), 2, ("prov\\x0ax/", "control character"), NEWLINE_OUTPUT),
]  # fmt: skip


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        yield {name: stack.enter_context(_health(answer)) for name, answer in HEALTH.items()}


def test_there_are_distinct_cases_for_every_class() -> None:
    assert len({case.id for case in CASES}) == len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_answer_or_url(case: Case, template: Path, tmp_path: Path, urls: dict[str, str]) -> None:
    run_case(case, template, tmp_path, urls)
