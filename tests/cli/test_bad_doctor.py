"""Bad input, doctor: hostile datasources, tried through the real entry point on a copy of the project.

Each case points PROMETHEUS_URL and LOKI_URL at one of the servers of tests/doctor/hostile_sources.py
and asserts (tests/cli/bad_input.py): the exit code (1 when at least one datasource answered, 2 only
when none could be reached), no traceback, the endpoint named, no raw escape sequence, and for slow
servers a bound on the whole run. The in-process tests (tests/doctor/test_hostile_sources.py) try
every bad shape; this table proves the CLI keeps each promise end to end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.cli.bad_input import Case, run_case
from tests.doctor.hostile_sources import (
    DEAD_URL,
    Reply,
    fake_loki,
    fake_prometheus,
    healthy_loki,
    not_http,
    raw,
    success,
    trickling,
    truncated,
)

DOCTOR = ("doctor",)
JSON = ("doctor", "--json")
ESC = "\x1b"
ANSI = "\x1b[2J\x1b]0;pwned\x07\x1b[31m"
"""Clear the screen, retitle the window, turn red: what a hostile server's error message may hold."""
QUERY = "/api/v1/query"
PANEL_LINE = "tiktickets-overview / Request rate per route"
LOGS_LINE = "tiktickets-overview / Recent error logs"


def _env(prometheus: str, loki: str = "{loki}", timeout: str = "5") -> dict[str, str]:
    return {"PROMETHEUS_URL": prometheus, "LOKI_URL": loki, "DOCTOR_TIMEOUT": timeout}


SERVERS = {
    "null": lambda: fake_prometheus({QUERY: Reply(success(None))}),
    "listdata": lambda: fake_prometheus({QUERY: Reply(success([]))}),
    "badtag": lambda: fake_prometheus({QUERY: Reply(success({"resultType": "histogram", "result": []}))}),
    "badlabel": lambda: fake_prometheus({QUERY: Reply(success({"resultType": "vector", "result": [{"metric": {"job": 5}, "value": [1, "1"]}]}))}),
    "badrules": lambda: fake_prometheus({"/api/v1/rules": Reply(success({"groups": "none"}))}),
    "ansiprom": lambda: fake_prometheus({QUERY: Reply(raw({"status": "error", "errorType": "bad_data", "error": f"{ANSI}boom"}), 400)}),
    "ansiprom200": lambda: fake_prometheus({QUERY: Reply(raw({"status": "error", "error": f"parse {ANSI}"}))}),
    "ansiloki": lambda: fake_loki({"/loki/api/v1/query_range": Reply(f"parse error {ANSI}".encode(), 400)}),
    # Data for All (a zero count: no rule-4 finding), none for the tenant whose name holds escapes.
    "ansitenant": lambda: fake_prometheus({"/api/v1/label/tenant_id/values": Reply(success([f"acme{ANSI}"])), QUERY: Reply(success({"resultType": "vector", "result": [{"metric": {}, "value": [1, "0"]}]}), unless=("acme", Reply(success({"resultType": "vector", "result": []}))))}),
    "nullloki": lambda: fake_loki({"/loki/api/v1/query_range": Reply(success(None))}),
    "prom": fake_prometheus,
    "loki": healthy_loki,
    "trickle": trickling,
    "trickleheaders": lambda: trickling(headers_too=True),
    "querytrickle": lambda: fake_prometheus({QUERY: Reply(trickle=True)}),
    "nothttp": not_http,
    "truncated": truncated,
}  # fmt: skip


CASES = [
    # Answers of the wrong shape: the Prometheus panels are error (bad-answer) naming the endpoint; Loki's panel still ok.
    Case("data-null", DOCTOR, 1, ("bad-answer: {null}/api/v1/query: `data` is null, expected an object with resultType and result", f"ok       {LOGS_LINE}"), env=_env("{null}")),
    Case("data-list", DOCTOR, 1, ("{listdata}/api/v1/query: `data` is a list, expected an object",), env=_env("{listdata}")),
    Case("result-type-unknown", DOCTOR, 1, ("{badtag}/api/v1/query: `data.resultType` is 'histogram'",), env=_env("{badtag}")),
    Case("label-not-string", DOCTOR, 1, ("{badlabel}/api/v1/query: `data.result[0].metric.job`",), env=_env("{badlabel}")),
    Case("rules-malformed", DOCTOR, 1, ("{badrules}/api/v1/rules: `data.groups`",), env=_env("{badrules}")),
    Case("data-null-json", JSON, 1, ('"code": "bad-answer"', "/api/v1/query: `data` is null", '"status": "ok"'), env=_env("{null}")),
    # Time: one deadline per request, body and headers included.
    Case("trickle-both", DOCTOR, 2, ("{trickle}/api/v1/status/buildinfo: no answer within 1 s", "{trickle}/loki/api/v1/labels: no answer within 1 s", "No datasource could be reached"), env=_env("{trickle}", "{trickle}", "1"), within=12),
    Case("trickle-prometheus", DOCTOR, 1, ("unreachable: {trickle}/api/v1/status/buildinfo: no answer within 2 s", f"ok       {LOGS_LINE}"), env=_env("{trickle}", timeout="2"), within=14),
    Case("trickle-headers", DOCTOR, 1, ("{trickleheaders}/api/v1/status/buildinfo: no answer within 2 s",), env=_env("{trickleheaders}", timeout="2"), within=14),
    Case("trickle-after-probe", DOCTOR, 1, ("unreachable: {querytrickle}/api/v1/query: no answer within 2 s", f"ok       {LOGS_LINE}"), env=_env("{querytrickle}", timeout="2"), within=18),
    # Not HTTP, or HTTP cut short.
    Case("not-http", DOCTOR, 1, ("not-prometheus: {nothttp}/api/v1/status/buildinfo: the service on this port does not speak HTTP",), env=_env("{nothttp}")),
    Case("not-http-both", DOCTOR, 2, ("{nothttp}/loki/api/v1/labels: the service on this port does not speak HTTP", "No datasource could be reached"), env=_env("{nothttp}", "{nothttp}")),
    Case("truncated", DOCTOR, 1, ("{truncated}/api/v1/status/buildinfo: the answer broke off after",), env=_env("{truncated}")),
    # Escape sequences in what a server says: escaped, never sent to the terminal.
    Case("ansi-prometheus-400", DOCTOR, 1, ("query-error: {ansiprom}/api/v1/query: prometheus says: \\x1b[2J\\x1b]0;pwned\\x07",), env=_env("{ansiprom}"), forbids=(ESC, "\x07")),
    Case("ansi-prometheus-status-error", DOCTOR, 1, ("{ansiprom200}/api/v1/query: prometheus says: parse \\x1b[2J",), env=_env("{ansiprom200}"), forbids=(ESC,)),
    Case("ansi-loki", DOCTOR, 1, ("{ansiloki}/loki/api/v1/query_range: loki says: parse error \\x1b[2J",), env=_env("{prom}", "{ansiloki}"), forbids=(ESC,)),
    Case("ansi-label-value", DOCTOR, 1, ("with $tenant = acme\\x1b[2J\\x1b]0;pwned\\x07",), env=_env("{ansitenant}"), forbids=(ESC, "\x07")),
    Case("ansi-json", JSON, 1, ("\\u001b[2J",), env=_env("{ansiprom}"), forbids=(ESC,)),
    # One datasource down, the other up: its table is shown, exit 1 (2 only when nothing answered).
    Case("loki-down", DOCTOR, 1, (f"empty    {PANEL_LINE}", f"error    {LOGS_LINE}", "unreachable: http://127.0.0.1:9: cannot connect", "error: http://127.0.0.1:9: cannot connect"), env=_env("{prom}", DEAD_URL)),
    Case("loki-bad-answer", DOCTOR, 1, (f"empty    {PANEL_LINE}", f"error    {LOGS_LINE}", "bad-answer: {nullloki}/loki/api/v1/query_range: `data` is null"), env=_env("{prom}", "{nullloki}")),
    Case("prometheus-down", DOCTOR, 1, (f"error    {PANEL_LINE}", f"ok       {LOGS_LINE}", "unreachable: http://127.0.0.1:9: cannot connect"), env=_env(DEAD_URL)),
    Case("prometheus-down-json", JSON, 1, ('"status": "ok"', '"code": "unreachable"', "error: http://127.0.0.1:9: cannot connect"), env=_env(DEAD_URL)),
    Case("both-down", DOCTOR, 2, ("error: http://127.0.0.1:9: cannot connect", "No datasource could be reached: nothing was checked."), env=_env(DEAD_URL, DEAD_URL)),
]  # fmt: skip


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        yield {name: stack.enter_context(start()) for name, start in SERVERS.items()}


def test_there_are_distinct_cases_for_every_class() -> None:
    assert len({case.id for case in CASES}) == len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_doctor_input(case: Case, template: Path, tmp_path: Path, urls: dict[str, str]) -> None:
    run_case(case, template, tmp_path, urls)


def test_a_trailing_slash_on_the_datasource_urls_is_not_sent_twice(template: Path, tmp_path: Path) -> None:
    """`PROMETHEUS_URL=http://host:9090/` is how a URL is often pasted from a browser. doctor joins
    API paths to it: a kept slash would ask `//api/v1/query`, which a real Prometheus answers with a
    404 (or a redirect), so every panel would read as broken although the datasource is fine."""
    prometheus_paths: list[str] = []
    loki_paths: list[str] = []
    with (
        fake_prometheus(paths=prometheus_paths) as prometheus,
        fake_loki(paths=loki_paths) as loki,
    ):
        run_case(
            Case(
                "trailing-slash",
                DOCTOR,
                1,  # a stand-in with no series: every panel is empty, not error
                ("Prometheus at {prom}, Loki at {loki}", f"empty    {PANEL_LINE}"),
                env=_env("{prom}/", "{loki}/"),
                forbids=("unreachable", "not-prometheus", "bad-answer"),
            ),
            template,
            tmp_path,
            {"prom": prometheus, "loki": loki},
        )
    assert QUERY in prometheus_paths, prometheus_paths
    assert "/loki/api/v1/query_range" in loki_paths, loki_paths
    for path in prometheus_paths + loki_paths:
        assert not path.startswith("//"), f"asked {path!r}: the URL's trailing slash was kept"
