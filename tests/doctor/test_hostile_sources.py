"""`doctor` against datasources that misbehave: bad shapes, slow bodies, not HTTP, escape sequences.

Run in process (the CLI table, tests/cli/test_bad_doctor.py, covers the entry point): every bad
answer is one panel error naming the endpoint, never an exception, and the other datasource's
panels are still diagnosed.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from rich.console import Console

from config import OVERVIEW_UID
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.doctor import http
from dashboards_as_code.doctor.causes import Cause, CauseCode, PanelReport, Status
from dashboards_as_code.doctor.http import Endpoint, SourceError
from dashboards_as_code.doctor.prometheus_api import BUILD_INFO, PrometheusApi
from dashboards_as_code.doctor.report import failures, show
from dashboards_as_code.doctor.run import DoctorRun
from dashboards_as_code.render.documents import Documents, build_documents
from tests.conftest import REPO
from tests.doctor.hostile_sources import (
    DEAD_URL,
    HEALTHY,
    ONE_SAMPLE,
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
from tests.doctor.test_what_doctor_asks import _with_board

LOKI_PANELS = {
    (board.uid, str(panel.get("title")))
    for board in build_documents(load_project(REPO)).dashboards
    for panel in board.document.get("panels", [])
    if any((t.get("datasource") or {}).get("type") == "loki" for t in panel.get("targets") or [])
}
"""Every panel that queries Loki, found in the project (a new dashboard's log panel counts too);
every other panel with a query is Prometheus."""
QUERY, RULES, EXEMPLARS = "/api/v1/query", "/api/v1/rules", "/api/v1/query_exemplars"
WITH_DATA = {QUERY: Reply(success(ONE_SAMPLE))}
"""Every query shows data: the panels go on to their exemplars and flags."""


@pytest.fixture(scope="module")
def documents() -> Documents:
    return build_documents(load_project(REPO))


@pytest.fixture(scope="module")
def loki() -> Iterator[str]:
    with healthy_loki() as url:
        yield url


@dataclass
class Outcome:
    run: DoctorRun
    reports: list[PanelReport]
    seconds: float

    def prometheus_panels(self) -> list[PanelReport]:
        return [r for r in self.reports if (r.dashboard, r.panel) not in LOKI_PANELS]

    def logs(self) -> PanelReport:
        """The Overview's Loki panel: its `$tenant` at All needs no value sampled from Prometheus, so
        it is diagnosed whatever Prometheus answers (a single-tenant dashboard's logs panel is not:
        with no tenant to sample, doctor sends the empty value Grafana would, and says so)."""
        return next(
            r for r in self.reports if (r.dashboard, r.panel) in LOKI_PANELS and r.dashboard == OVERVIEW_UID
        )

    def details(self, reports: list[PanelReport]) -> list[Cause]:
        return [cause for report in reports for cause in report.causes]


def doctor(documents: Documents, prometheus: str, loki: str, timeout: float = 5) -> Outcome:
    run = DoctorRun(
        documents, lambda kind, _: Endpoint(prometheus if kind == "prometheus" else loki, kind, timeout)
    )
    started = time.monotonic()
    reports = run.run()
    return Outcome(run, reports, time.monotonic() - started)


def vector(result: object) -> Reply:
    return Reply(success({"resultType": "vector", "result": result}))


PROMETHEUS_SHAPES: list[tuple[str, Mapping[str, Reply], str, str]] = [
    ("data-null", {QUERY: Reply(success(None))}, QUERY, "`data` is null, expected an object with resultType and result"),
    ("data-missing", {QUERY: Reply(raw({"status": "success"}))}, QUERY, "`data` is missing"),
    ("data-list", {QUERY: Reply(success([]))}, QUERY, "`data` is a list, expected an object"),
    ("data-string", {QUERY: Reply(success("vector"))}, QUERY, "`data` is a string"),
    ("result-missing", {QUERY: Reply(success({"resultType": "vector"}))}, QUERY, "`data.result` is missing"),
    ("result-type-unknown", {QUERY: Reply(success({"resultType": "histogram", "result": []}))}, QUERY, "`data.resultType` is 'histogram', expected one of"),
    ("result-type-missing", {QUERY: Reply(success({"result": []}))}, QUERY, "`data.resultType` is missing"),
    ("result-not-list", {QUERY: vector({"a": 1})}, QUERY, "`data.result`"),
    ("value-not-pair", {QUERY: vector([{"metric": {}, "value": "1"}])}, QUERY, "`data.result[0].value`"),
    ("value-number-not-string", {QUERY: vector([{"metric": {}, "value": [1, 5]}])}, QUERY, "`data.result[0].value[1]`"),
    ("value-not-a-number", {QUERY: vector([{"metric": {}, "value": [1, "lots"]}])}, QUERY, "could not convert string to float: 'lots'"),
    ("timestamp-text", {QUERY: vector([{"metric": {}, "value": ["now", "1"]}])}, QUERY, "`data.result[0].value[0]`"),
    ("label-not-string", {QUERY: vector([{"metric": {"job": 5}, "value": [1, "1"]}])}, QUERY, "`data.result[0].metric.job`"),
    ("labels-null", {QUERY: vector([{"metric": None, "value": [1, "1"]}])}, QUERY, "`data.result[0].metric`"),
    ("matrix-values", {QUERY: Reply(success({"resultType": "matrix", "result": [{"metric": {}, "values": [[1]]}]}))}, QUERY, "`data.result[0].values[0]`"),
    ("rules-groups-not-list", {RULES: Reply(success({"groups": "none"}))}, RULES, "`data.groups`"),
    ("rules-rule-nameless", {RULES: Reply(success({"groups": [{"name": "g", "rules": [{"type": "recording"}]}]}))}, RULES, "`data.groups[0].rules[0].name` is missing"),
    ("exemplars-malformed", {**WITH_DATA, EXEMPLARS: Reply(success([{"seriesLabels": {}, "exemplars": [{"labels": {}, "value": "x", "timestamp": 1}]}]))}, EXEMPLARS, "`data[0].exemplars[0].value`"),
    ("exemplars-object", {**WITH_DATA, EXEMPLARS: Reply(success({"exemplars": []}))}, EXEMPLARS, "`data` is an object, expected a list"),
    ("flags-null", {**WITH_DATA, EXEMPLARS: Reply(success([])), "/api/v1/status/flags": Reply(success(None))}, "/api/v1/status/flags", "`data` is null"),
    ("targets-malformed", {"/api/v1/targets": Reply(success({"activeTargets": [{"health": 1}]}))}, "/api/v1/targets", "`data.activeTargets[0].health`"),
    ("config-yaml-not-text", {"/api/v1/status/config": Reply(success({"yaml": 5}))}, "/api/v1/status/config", "`data.yaml`"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "path", "says"),
    [case[1:] for case in PROMETHEUS_SHAPES],
    ids=[c[0] for c in PROMETHEUS_SHAPES],
)
def test_a_bad_prometheus_answer_is_its_panels_error_and_loki_is_still_diagnosed(
    documents: Documents, loki: str, answers: Mapping[str, Reply], path: str, says: str
) -> None:
    with fake_prometheus(answers) as prometheus:
        outcome = doctor(documents, prometheus, loki)
    bad = [c for c in outcome.details(outcome.prometheus_panels()) if c.code is CauseCode.BAD_ANSWER]
    assert bad, [r.as_json() for r in outcome.reports]
    assert all(f"{prometheus}{path}: " in c.detail for c in bad), bad
    assert any(says in c.detail for c in bad), bad
    assert outcome.logs().status is Status.OK  # the other datasource: diagnosed as if nothing happened
    assert not outcome.run.nothing_reachable


LOKI_RANGE = "/loki/api/v1/query_range"
LOKI_SHAPES: list[tuple[str, Mapping[str, Reply], str]] = [
    ("data-null", {LOKI_RANGE: Reply(success(None))}, "`data` is null"),
    ("matrix-not-streams", {LOKI_RANGE: Reply(success({"resultType": "matrix", "result": []}))}, "`data.resultType`"),
    ("stream-labels-not-strings", {LOKI_RANGE: Reply(success({"resultType": "streams", "result": [{"stream": {"a": []}, "values": []}]}))}, "`data.result[0].stream.a`"),
    ("line-not-pair", {LOKI_RANGE: Reply(success({"resultType": "streams", "result": [{"stream": {}, "values": ["line"]}]}))}, "`data.result[0].values[0]`"),
    ("line-time-not-digits", {LOKI_RANGE: Reply(success({"resultType": "streams", "result": [{"stream": {}, "values": [["soon", "x"]]}]}))}, "nanoseconds"),
]  # fmt: skip


@pytest.mark.parametrize(("answers", "says"), [c[1:] for c in LOKI_SHAPES], ids=[c[0] for c in LOKI_SHAPES])
def test_a_bad_loki_answer_keeps_the_prometheus_results(
    documents: Documents, answers: Mapping[str, Reply], says: str
) -> None:
    with fake_prometheus(WITH_DATA) as prometheus, fake_loki(answers) as bad_loki:
        outcome = doctor(documents, prometheus, bad_loki)
    [cause] = outcome.logs().causes
    assert outcome.logs().status is Status.ERROR and cause.code is CauseCode.BAD_ANSWER
    assert f"{bad_loki}{LOKI_RANGE}: " in cause.detail and says in cause.detail
    statuses = {r.status for r in outcome.prometheus_panels()}
    assert len(outcome.prometheus_panels()) >= 5 and Status.ERROR not in statuses, statuses


def test_a_trickling_body_ends_at_the_timeout() -> None:
    with trickling() as url, pytest.raises(SourceError) as error:
        started = time.monotonic()
        Endpoint(url, "prometheus", 1).get("/api/v1/status/buildinfo", BUILD_INFO)
    assert time.monotonic() - started < 2
    assert error.value.code is CauseCode.UNREACHABLE
    assert f"{url}/api/v1/status/buildinfo: no answer within 1 s" in error.value.detail


def test_trickling_headers_end_at_the_timeout_too() -> None:
    with trickling(headers_too=True) as url, pytest.raises(SourceError) as error:
        started = time.monotonic()
        Endpoint(url, "prometheus", 1).get("/api/v1/status/buildinfo", BUILD_INFO)
    assert time.monotonic() - started < 2 and error.value.code is CauseCode.UNREACHABLE


def test_a_run_against_trickling_sources_ends_within_a_few_timeouts(documents: Documents) -> None:
    with trickling() as slow:
        outcome = doctor(documents, slow, slow, timeout=1)
    assert outcome.seconds < 3, outcome.seconds  # one timeout per datasource probe, not one per query
    assert outcome.run.nothing_reachable
    assert {c.code for c in outcome.details(outcome.reports)} == {CauseCode.UNREACHABLE}


def test_a_prometheus_that_slows_down_after_its_probe_is_marked_down_once(
    documents: Documents, loki: str
) -> None:
    with fake_prometheus({QUERY: Reply(trickle=True)}) as prometheus:  # the probe answers, queries trickle
        outcome = doctor(documents, prometheus, loki, timeout=1)
    assert outcome.seconds < 3, outcome.seconds  # the panels running at that moment wait, no more
    errors = outcome.details(outcome.prometheus_panels())
    assert errors and all(
        c.code is CauseCode.UNREACHABLE and f"{prometheus}{QUERY}" in c.detail for c in errors
    )
    assert outcome.logs().status is Status.OK and not outcome.run.nothing_reachable


def test_a_service_that_is_not_http_is_named_so() -> None:
    with not_http() as url, pytest.raises(SourceError) as error:
        Endpoint(url, "prometheus", 2).get("/api/v1/status/buildinfo", BUILD_INFO)
    assert error.value.code is CauseCode.NOT_PROMETHEUS
    assert (
        f"{url}/api/v1/status/buildinfo: the service on this port does not speak HTTP" in error.value.detail
    )


def test_a_truncated_body_is_named_so() -> None:
    with truncated() as url, pytest.raises(SourceError) as error:
        Endpoint(url, "prometheus", 2).get("/api/v1/status/buildinfo", BUILD_INFO)
    assert error.value.code is CauseCode.UNREACHABLE and "the answer broke off after" in error.value.detail


def test_an_oversized_answer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "MAX_BODY", 16)
    with fake_prometheus() as url, pytest.raises(SourceError) as error:
        PrometheusApi(Endpoint(url, "prometheus", 2)).query("up")
    assert error.value.code is CauseCode.BAD_ANSWER and "answer larger than" in error.value.detail


def test_a_buildinfo_without_version_is_not_prometheus() -> None:
    answers = {"/api/v1/status/buildinfo": Reply(success({"branch": "x"}))}
    with fake_prometheus(answers) as url, pytest.raises(SourceError) as error:
        PrometheusApi(Endpoint(url, "prometheus", 2)).probe()
    assert error.value.code is CauseCode.NOT_PROMETHEUS
    assert (
        error.value.detail
        == f"{url}/api/v1/status/buildinfo: `data.version` is missing: not a Prometheus API"
    )


def test_one_datasource_down_leaves_the_other_diagnosed(documents: Documents, loki: str) -> None:
    outcome = doctor(documents, DEAD_URL, loki)
    assert outcome.logs().status is Status.OK and not outcome.run.nothing_reachable
    assert {r.status for r in outcome.prometheus_panels()} == {Status.ERROR}
    assert [f.detail for f in outcome.run.failures] == [f"{DEAD_URL}: cannot connect (Connection refused)"]
    with fake_prometheus() as prometheus:
        outcome = doctor(documents, prometheus, DEAD_URL)
    assert outcome.logs().status is Status.ERROR and not outcome.run.nothing_reachable
    assert Status.ERROR not in {r.status for r in outcome.prometheus_panels()}


def test_escape_sequences_from_a_server_never_reach_the_terminal() -> None:
    hostile = "\x1b[2J\x1b]0;pwned\x07[bold]loud[/] [/oops]"
    report = PanelReport("overview", "Sessions\x1b[31m")
    report.add(
        Status.ERROR, [Cause(CauseCode.QUERY_ERROR, f"prometheus says: {hostile}", f"up{{a='{hostile}'}}")]
    )
    for terminal in (True, False):
        output = io.StringIO()
        show([report], Console(file=output, force_terminal=terminal, width=400, color_system=None))
        text = output.getvalue()
        assert "\x1b" not in text and "\x07" not in text
        assert "\\x1b[2J" in text and "[bold]loud[/] [/oops]" in text  # shown as sent, not read as markup
    assert failures([f"http://p: {hostile}"]) == [
        "error: http://p: \\x1b[2J\\x1b]0;pwned\\x07[bold]loud[/] [/oops]"
    ]


REFUSED = b'{"message": "Access denied to this data source"}'
"""What Grafana (or an authenticating proxy before Prometheus) answers a user it will not let query."""


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("via_grafana", [False, True], ids=["direct", "through-grafana"])
def test_refused_credentials_are_unauthorized_whatever_the_refusal_status(
    documents: Documents, loki: str, status: int, via_grafana: bool
) -> None:
    """401 (no valid credentials) and 403 (valid, but no right to query this datasource: a Grafana
    Viewer without query permission, a proxy's deny rule) both mean "fix the credentials", not "the
    datasource is down": every Prometheus panel says `unauthorized` and names who refused, while the
    Loki panels are still diagnosed."""
    refused = Reply(REFUSED, status)
    with fake_prometheus({"/": refused, **dict.fromkeys(HEALTHY, refused)}) as prometheus:

        def endpoint(kind: str, uid: str) -> Endpoint:
            if kind == "loki":
                return Endpoint(loki, kind, 5)
            if via_grafana:
                return Endpoint.through_grafana(prometheus, uid, kind, 5, "glsa_viewer")
            return Endpoint(prometheus, kind, 5)

        run = DoctorRun(documents, endpoint)
        reports = run.run()
    outcome = Outcome(run, reports, 0)
    who = "Grafana" if via_grafana else "Prometheus"
    causes = outcome.details(outcome.prometheus_panels())
    assert causes and {c.code for c in causes} == {CauseCode.UNAUTHORIZED}, causes
    assert all(f"{who} refused the credentials (HTTP {status})" in c.detail for c in causes), causes
    assert [f.code for f in run.failures] == [CauseCode.UNAUTHORIZED]
    assert outcome.logs().status is Status.OK and not run.nothing_reachable


def test_a_query_prometheus_rejects_is_that_panels_error_alone(documents: Documents) -> None:
    """A panel whose PromQL Prometheus cannot execute (a 422, "many-to-many matching") is that panel's
    fault: Prometheus answered, so every panel diagnosed after it is diagnosed as usual, not marked
    with the first panel's error as if Prometheus were down."""

    def two_panels(document: dict[str, Any]) -> None:
        first = next(p for p in document["panels"] if p.get("targets"))
        target = {**first["targets"][0], "hide": False}
        document["panels"] = [
            {**first, "title": title, "targets": [{**target, "expr": f"sum({metric})"}]}
            for title, metric in (("Broken", "broken_marker_total"), ("Fine", "fine_marker_total"))
        ]

    rejected = raw(
        {"status": "error", "errorType": "execution", "error": "many-to-many matching not allowed"}
    )
    answers = {QUERY: Reply(success(ONE_SAMPLE), unless=("broken_marker", Reply(rejected, 422)))}
    with fake_prometheus(answers) as prometheus:
        run = DoctorRun(
            _with_board(documents, two_panels), lambda kind, _: Endpoint(prometheus, kind, 5), samples=0
        )
        broken, fine = run.run(workers=1)  # in order: the rejected query first
    assert (broken.panel, broken.status) == ("Broken", Status.ERROR), broken
    assert {c.code for c in broken.causes} == {CauseCode.QUERY_ERROR}, broken.causes
    assert (fine.panel, fine.status) == ("Fine", Status.OK), fine.causes
    assert run.failures == []
