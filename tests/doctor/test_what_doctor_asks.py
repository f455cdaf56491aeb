"""`doctor` asks Prometheus what Grafana would ask, and names what is really wrong.

Each test states what a user or Prometheus sees, not what the code happens to print:
- a matcher on a label no series carries is `label-missing` (add the label at the emitter), while a
  label that exists with other values is `label-mismatch` (fix the value in the query);
- `$__interval` never drops below the scrape interval, as in Grafana (its `timeInterval` floor):
  one hour on a full-width panel is 15 s at a 15 s scrape, not the 2 s the width alone gives;
- a sampled tenant value reaches Prometheus inside `=~"..."` escaped as Grafana escapes it, so the
  regex matches that tenant and nothing else.
One unreachable datasource leaving the other's table shown (exit 1, not "nothing was checked") is
held by tests/cli/test_bad_doctor.py (cases loki-down, prometheus-down, prometheus-down-json) and
tests/doctor/test_hostile_sources.py::test_one_datasource_down_leaves_the_other_diagnosed.
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

import promql_parser
import pytest

from config import OVERVIEW_UID
from dashboards_as_code.contract.model import PromType
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.doctor.causes import Cause, CauseCode, Status
from dashboards_as_code.doctor.http import Endpoint
from dashboards_as_code.doctor.prometheus_api import RuleState, Sample
from dashboards_as_code.doctor.prometheus_diagnosis import SHOWN_VALUES, PrometheusDoctor
from dashboards_as_code.doctor.run import DoctorRun
from dashboards_as_code.grafana_math import builtin_intervals, range_seconds
from dashboards_as_code.promql.series_catalog import SeriesInfo
from dashboards_as_code.promql.tree import vector_selectors
from dashboards_as_code.render.documents import Documents, build_documents
from tests.conftest import REPO
from tests.doctor.hostile_sources import Params, Reply, fake_loki, fake_prometheus, success

# -- label-missing vs label-mismatch -------------------------------------------------------------------

_MATCHES = {
    "MatchOp.Equal": lambda have, want: have == want,
    "MatchOp.NotEqual": lambda have, want: have != want,
    "MatchOp.Re": lambda have, want: re.fullmatch(want, have) is not None,
    "MatchOp.NotRe": lambda have, want: re.fullmatch(want, have) is None,
}


@dataclass
class SeriesPrometheus:
    """A Prometheus holding exactly `series` (label sets, `__name__` included), answering the few
    questions the diagnosis asks: a selector, `count(selector)`, label names and values.

    It matches selectors itself (a missing label is the empty string, as in Prometheus), so the test
    states the data and the diagnosis is judged against it, not against canned answers.
    """

    series: list[dict[str, str]]
    recording_rules: dict[str, list[RuleState]] = field(default_factory=dict)
    scrape_interval: float = 15.0
    down_targets: list[str] = field(default_factory=list)
    now: float = 1_700_000_000.0

    def _select(self, text: str) -> list[dict[str, str]]:
        """The series of the one selector in `text` (a selector, or `count(selector)`)."""
        [node] = vector_selectors(promql_parser.parse(text))
        return self._matching(node)

    def _matching(self, node: Any) -> list[dict[str, str]]:
        matchers = [(m.name, str(m.op), m.value) for m in node.matchers.matchers]
        if node.name:
            matchers.append(("__name__", "MatchOp.Equal", node.name))
        return [
            one
            for one in self.series
            if all(_MATCHES[op](one.get(label, ""), value) for label, op, value in matchers)
        ]

    def query(self, expr: str) -> list[Sample]:
        """`count(selector)` counts; any other expression has data when each selector it reads has."""
        if expr.startswith("count("):
            found = self._select(expr)
            return [Sample({}, float(len(found)))] if found else []
        nodes = list(vector_selectors(promql_parser.parse(expr)))
        return [Sample({}, 1.0)] if all(self._matching(node) for node in nodes) else []

    def count(self, selector: str) -> int:
        return len(self._select(selector))

    def label_names(self, selector: str) -> list[str]:
        return sorted({label for one in self._select(selector) for label in one})

    def label_values(self, label: str, selector: str | None = None, start: float | None = None) -> list[str]:
        chosen = self._select(selector) if selector else self.series
        return sorted({one[label] for one in chosen if one.get(label)})

    def newest_sample_age(self, selector: str, lookback: str, step: str) -> float | None:
        return 0.0 if self._select(selector) else None


def _diagnose(series: list[dict[str, str]], expr: str) -> tuple[Status, list[Cause]]:
    api = SeriesPrometheus(series)
    return PrometheusDoctor(api, {}, {}).diagnose(expr, exemplar=False)  # type: ignore[arg-type]


CALLS = "http_calls_total"


@pytest.mark.parametrize(
    ("series", "label"),
    [
        ([{"__name__": CALLS, "job": "api"}], "route"),
        ([{"__name__": CALLS, "job": "api"}, {"__name__": CALLS, "job": "web"}], "route"),
        ([{"__name__": CALLS, "job": "api", "tenant": "acme"}], "tenant_id"),  # carried under another name
    ],
    ids=["one-series", "every-series", "similar-label"],
)
def test_a_matcher_on_a_label_no_series_carries_is_label_missing(
    series: list[dict[str, str]], label: str
) -> None:
    status, causes = _diagnose(series, f'sum(rate({CALLS}{{job="api", {label}="x"}}[5m]))')
    assert status is Status.EMPTY
    assert [c.code for c in causes] == [CauseCode.LABEL_MISSING], causes
    assert f"`{label}`" in causes[0].detail and CALLS in causes[0].detail


@pytest.mark.parametrize(
    "series",
    [
        [{"__name__": CALLS, "job": "api", "route": "/users"}],
        [{"__name__": CALLS, "job": "api", "route": "/users"}, {"__name__": CALLS, "job": "api"}],
    ],
    ids=["every-series", "some-series"],
)
def test_a_label_that_exists_with_other_values_is_label_mismatch_naming_them(
    series: list[dict[str, str]],
) -> None:
    status, causes = _diagnose(series, f'sum(rate({CALLS}{{job="api", route="/tickets"}}[5m]))')
    assert status is Status.EMPTY
    assert [c.code for c in causes] == [CauseCode.LABEL_MISMATCH], causes
    assert "/users" in causes[0].detail and 'route="/tickets"' in causes[0].detail


@pytest.mark.parametrize("extra", [0, 1], ids=["exactly-the-shown-number", "one-more"])
def test_a_label_mismatch_lists_the_values_and_says_when_some_are_left_out(extra: int) -> None:
    """The values a label does have are the fix's hint: up to SHOWN_VALUES of them, all named when
    that is all there are, and `, ...` only when Prometheus has more than the message shows."""
    routes = [f"/r{i:02d}" for i in range(SHOWN_VALUES + extra)]
    series = [{"__name__": CALLS, "job": "api", "route": route} for route in routes]
    status, [cause] = _diagnose(series, f'sum(rate({CALLS}{{job="api", route="/tickets"}}[5m]))')
    assert status is Status.EMPTY and cause.code is CauseCode.LABEL_MISMATCH, cause
    listed = cause.detail.split("its route values: ", 1)[1]
    shown = ", ".join(routes[:SHOWN_VALUES])
    assert listed == (shown + ", ..." if extra else shown)


def test_rule_4_counts_the_series_without_tenant_id() -> None:
    """How many series lack tenant_id tells a user whether one emitter or every one is at fault."""
    series = [
        {"__name__": CALLS, "job": "api", "tenant_id": "acme"},
        {"__name__": CALLS, "job": "api", "route": "/a"},
        {"__name__": CALLS, "job": "api", "route": "/b"},
    ]
    api = SeriesPrometheus(series)
    catalog = {CALLS: SeriesInfo(CALLS, PromType.COUNTER, frozenset({"job", "route", "tenant_id"}), "short")}
    status, causes = PrometheusDoctor(api, catalog, {}).diagnose(f"sum(rate({CALLS}[5m]))", exemplar=False)  # type: ignore[arg-type]
    assert status is Status.SUSPECT
    [cause] = causes
    assert cause.code is CauseCode.LABEL_MISSING
    assert cause.detail.startswith(f"2 `{CALLS}` series carry no tenant_id: rule 4"), cause.detail


@pytest.mark.parametrize(
    ("asked", "present"),
    [
        ("http_duration_seconds_bucket", "http_duration_milliseconds_bucket"),
        ("http_duration_milliseconds_bucket", "http_duration_seconds_bucket"),
    ],
    ids=["asked-seconds", "asked-milliseconds"],
)
def test_a_histogram_recorded_in_the_other_unit_is_named(asked: str, present: str) -> None:
    """Either way round, a panel reading a histogram under one time unit while Prometheus holds it under
    the other is told which series exists, not that nothing emits it."""
    status, [cause] = _diagnose([{"__name__": present, "le": "1"}], f"sum by (le) (rate({asked}[5m]))")
    assert status is Status.EMPTY and cause.code is CauseCode.UNIT_MISMATCH, cause
    assert cause.detail.startswith(f"no `{asked}`, but `{present}` exists") and cause.query == present


def test_a_missing_tenant_id_says_rule_4() -> None:
    status, [cause] = _diagnose([{"__name__": CALLS, "job": "api"}], f'{CALLS}{{tenant_id=~"acme"}}')
    assert status is Status.EMPTY and cause.code is CauseCode.LABEL_MISSING
    assert "rule 4" in cause.detail


# -- what Grafana sends: $__interval and the tenant regex -------------------------------------------------


@pytest.mark.parametrize(
    ("range_s", "scrape_s", "width", "interval", "rate"),
    [
        (3600, 15, 24, "15s", "60s"),  # 1 h / 1,600 px = 2.25 s -> 2 s, below the 15 s floor
        (900, 15, 12, "15s", "60s"),  # 15 min / 800 px = 1.1 s -> 1 s
        (6 * 3600, 60, 24, "60s", "240s"),  # 13.5 s -> 15 s, below a 60 s scrape
        (3600, 5, 24, "5s", "20s"),
        (7 * 86400, 15, 12, "900s", "915s"),  # above the floor: the width decides
    ],
)
def test_interval_never_drops_below_the_scrape_interval(
    range_s: float, scrape_s: float, width: int, interval: str, rate: str
) -> None:
    got = builtin_intervals(range_s, scrape_s, width)
    assert (got["$__interval"], got["$__auto"], got["$__rate_interval"]) == (interval, interval, rate)


@pytest.fixture(scope="module")
def documents() -> Documents:
    return build_documents(load_project(REPO))


def _with_board(documents: Documents, change: Any) -> Documents:
    """The project's documents with only the Overview, its JSON changed by `change(document)`."""
    (board,) = [b for b in documents.dashboards if b.uid == OVERVIEW_UID]
    document = copy.deepcopy(board.document)
    change(document)
    return documents.with_dashboards([replace(board, document=document)])


def _queries_sent(
    documents: Documents, answers: dict[str, Reply] | None = None, samples: int = 3
) -> list[str]:
    """Every query a whole `doctor` run sends to Prometheus (Loki's panel goes to the same fake)."""
    seen: list[str] = []
    with fake_prometheus(answers, seen) as url:
        run = DoctorRun(documents, lambda kind, _: Endpoint(url, kind, 5), samples=samples)
        run.run()
    return seen


def _range_vectors(expr: str) -> list[str]:
    return re.findall(r"\[(\d+(?:ms|s))\]", expr)


def test_the_interval_prometheus_receives_is_floored_at_its_scrape_interval(documents: Documents) -> None:
    """One hour on a full-width panel at a 15 s scrape (the fake's global.scrape_interval): Grafana sends
    15 s for `$__interval`; `doctor` must send the same, or it diagnoses a query nobody runs."""

    def one_hour_interval_panel(document: dict[str, Any]) -> None:
        document["time"] = {"from": "now-1h", "to": "now"}
        panel = next(p for p in document["panels"] if p.get("targets"))
        panel["gridPos"]["w"] = 24
        panel["targets"] = [
            {**panel["targets"][0], "expr": "sum(rate(up_total[$__interval]))", "hide": False}
        ]
        document["panels"] = [panel]

    sent = _queries_sent(_with_board(documents, one_hour_interval_panel))
    asked = [q for q in sent if "up_total[" in q]
    assert asked, sent
    assert {d for q in asked for d in _range_vectors(q)} == {"15s"}, asked


def test_a_sub_second_scrape_interval_is_the_floor_of_the_interval_prometheus_receives(
    documents: Documents,
) -> None:
    """Five minutes on a full-width panel: 300 s / 1,600 points rounds to 0.2 s, below a 500 ms
    scrape interval, so Grafana sends `$__interval` as its floor, 500ms (Grafana writes intervals
    under a second in milliseconds). A doctor that misread `500ms` would ask for its 1m default."""

    def five_minute_interval_panel(document: dict[str, Any]) -> None:
        document["time"] = {"from": "now-5m", "to": "now"}
        panel = next(p for p in document["panels"] if p.get("targets"))
        panel["gridPos"]["w"] = 24
        panel["targets"] = [
            {**panel["targets"][0], "expr": "sum(rate(up_total[$__interval]))", "hide": False}
        ]
        document["panels"] = [panel]

    config = {"/api/v1/status/config": Reply(success({"yaml": "global:\n  scrape_interval: 500ms\n"}))}
    sent = _queries_sent(_with_board(documents, five_minute_interval_panel), config)
    asked = [q for q in sent if "up_total[" in q]
    assert asked, sent
    assert {d for q in asked for d in _range_vectors(q)} == {"500ms"}, asked


TENANTS = ["acme.io (eu)", "a+b|c", "x*[1]", "back\\slash"]
"""Tenant ids with regex metacharacters: unescaped, each would match other tenants or no tenant."""


def _tenant_regexes(expr: str) -> list[str]:
    """The value of every `tenant_id=~` matcher in `expr`, as Prometheus reads the string."""
    return [
        m.value
        for node in vector_selectors(promql_parser.parse(expr))
        for m in node.matchers.matchers
        if m.name == "tenant_id" and str(m.op) == "MatchOp.Re"
    ]


def _one_tenant_panel(document: dict[str, Any]) -> None:
    """Only the first panel whose query filters on `$tenant`: one panel shows it, and runs faster."""
    document["panels"] = [
        next(
            p for p in document["panels"] if any("$tenant" in t.get("expr", "") for t in p.get("targets", []))
        )
    ]


def test_a_sampled_tenant_reaches_prometheus_as_a_regex_matching_only_that_tenant(
    documents: Documents,
) -> None:
    answers = {"/api/v1/label/tenant_id/values": Reply(success(TENANTS))}
    sent = _queries_sent(_with_board(documents, _one_tenant_panel), answers, samples=len(TENANTS))
    regexes = {value for q in sent if "tenant_id" in q for value in _tenant_regexes(q)}
    for tenant in TENANTS:
        matching = {r for r in regexes if re.fullmatch(r, tenant)}
        assert matching - {".*", "__all__"}, f"no query selects tenant {tenant!r} alone: {sorted(regexes)}"
        for regex in matching - {".*"}:
            others = [t for t in [*TENANTS, "acme.io eu", "ab", "abc", "xx[1]", "backslash"] if t != tenant]
            assert not [t for t in others if re.fullmatch(regex, t)], (tenant, regex)


def test_the_all_sentinel_is_never_sampled_as_a_tenant(documents: Documents) -> None:
    """Prometheus lists `__all__` (the aggregate rows' tenant_id, the variable's allValue) among the
    tenant_id values, sorted first. It is All, already diagnosed: sampling it as a tenant would push out
    a real one, so the first `samples` real tenants must each be selected alone."""
    real = ["tenant-a", "tenant-b", "tenant-c", "tenant-d"]
    samples = 3
    answers = {"/api/v1/label/tenant_id/values": Reply(success(["__all__", *real]))}
    sent = _queries_sent(_with_board(documents, _one_tenant_panel), answers, samples=samples)
    regexes = {value for q in sent if "tenant_id" in q for value in _tenant_regexes(q)}
    selected = [t for t in real if any(re.fullmatch(r, t) for r in regexes - {".*"})]
    assert selected == real[:samples], sorted(regexes)


def _values_seen_within(last_seen: dict[str, float]) -> Reply:
    """`/api/v1/label/<name>/values` as Prometheus answers it: only the values of series with a sample
    between `start` and `end` (no `start`: since the beginning, no `end`: until now and after)."""

    def answer(params: Params) -> Reply:
        start = float(params.get("start", ["-inf"])[0])
        end = float(params.get("end", ["inf"])[0])
        return Reply(success(sorted(v for v, seen in last_seen.items() if start <= seen <= end)))

    return Reply(by_params=answer)


GRAFANA_OPENING_RANGE = "now-6h"
"""What Grafana opens a dashboard without `time` on (its DashboardModel's default)."""


@pytest.mark.parametrize(
    "opens_on", [None, "now-6h", "now-24h", ""], ids=["project", "6h", "24h", "no-time-set"]
)
def test_tenants_are_sampled_over_the_time_range_the_dashboard_opens_on(
    documents: Documents, opens_on: str | None
) -> None:
    """Grafana fills `$tenant` with the tenants seen over the dashboard's time range: a tenant whose
    data stopped 4 h ago is in the picker of a `now-6h` dashboard, and its panels are empty now. doctor
    must try that tenant too (not only those of the last hour), and not one seen only before the range.
    A dashboard that sets no `time` opens on Grafana's default range (`""` here)."""
    (board,) = [b for b in documents.dashboards if b.uid == OVERVIEW_UID]
    shown = GRAFANA_OPENING_RANGE if opens_on == "" else opens_on
    range_s = range_seconds(shown or str(board.document["time"]["from"]))
    now = time.time()
    last_seen = {
        "tenant-now": now - 60,
        "tenant-earlier": now - 0.75 * range_s,  # within the range; for 6 h, 4.5 h ago
        "tenant-before": now - 1.5 * range_s,  # before the range: not in Grafana's picker
    }

    def opening(document: dict[str, Any]) -> None:
        _one_tenant_panel(document)
        if opens_on:
            document["time"] = {"from": opens_on, "to": "now"}
        elif opens_on == "":
            del document["time"]

    answers = {"/api/v1/label/tenant_id/values": _values_seen_within(last_seen)}
    sent = _queries_sent(_with_board(documents, opening), answers, samples=len(last_seen))
    regexes = {value for q in sent if "tenant_id" in q for value in _tenant_regexes(q)} - {".*"}
    tried = [t for t in last_seen if any(re.fullmatch(r, t) for r in regexes)]
    assert tried == ["tenant-now", "tenant-earlier"], sorted(regexes)


def _first_query_panel(document: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(next(p for p in document["panels"] if p.get("targets")))


def test_a_hidden_query_is_not_sent(documents: Documents) -> None:
    """Grafana does not run a query whose eye is closed (`hide: true`): doctor must not diagnose it."""

    def with_hidden(document: dict[str, Any]) -> None:
        panel = _first_query_panel(document)
        shown = {**panel["targets"][0], "expr": "sum(shown_marker_total)", "refId": "A"}
        hidden = {**panel["targets"][0], "expr": "sum(hidden_marker_total)", "refId": "B", "hide": True}
        document["panels"] = [{**panel, "targets": [shown, hidden]}]

    sent = _queries_sent(_with_board(documents, with_hidden), samples=0)
    assert any("shown_marker_total" in q for q in sent), sent
    assert not any("hidden_marker_total" in q for q in sent), sent


def test_a_hidden_query_on_a_left_out_datasource_leaves_no_panel_unchecked(documents: Documents) -> None:
    """With LOKI_URL empty, a panel whose only LogQL query is hidden is still fully checked: the note
    listing panels not checked must not name it."""
    queried = [p for p in documents.dashboards[0].document["panels"] if p.get("targets")]
    logql = next(t for p in queried for t in p["targets"] if t["datasource"]["type"] == "loki")

    def hidden_logs(document: dict[str, Any]) -> None:
        panel = _first_query_panel(document)
        panel["datasource"] = {"type": "datasource", "uid": "-- Mixed --"}
        panel["targets"] = [panel["targets"][0], {**logql, "refId": "Z", "hide": True}]
        document["panels"] = [panel]

    with fake_prometheus() as url:
        run = DoctorRun(
            _with_board(documents, hidden_logs),
            lambda kind, _: Endpoint(url, kind, 5),
            samples=0,
            skip={"loki": "LOKI_URL is empty"},
        )
        [report] = run.run()
    assert run.skipped_sources == [] and run.skipped == 0, run.left_out
    assert report.panel == _first_query_panel(documents.dashboards[0].document)["title"]


def test_a_panel_inside_a_collapsed_row_is_diagnosed(documents: Documents) -> None:
    """A collapsed row keeps its panels in its own `panels`: they are on the dashboard all the same."""

    def collapsed(document: dict[str, Any]) -> None:
        panel = _first_query_panel(document)
        panel["targets"] = [{**panel["targets"][0], "expr": "sum(nested_marker_total)"}]
        row = {
            "type": "row",
            "title": "Folded",
            "collapsed": True,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0},
        }
        document["panels"] = [{**row, "panels": [panel]}]

    sent = _queries_sent(_with_board(documents, collapsed), samples=0)
    assert any("nested_marker_total" in q for q in sent), sent


def test_label_values_without_a_metric_samples_the_label_too(documents: Documents) -> None:
    """`label_values(tenant_id)` (no metric) is Grafana's other form of the variable query: its values
    are sampled like those of `label_values(metric, tenant_id)`."""
    real = ["tenant-a", "tenant-b"]

    def bare_label_values(document: dict[str, Any]) -> None:
        _one_tenant_panel(document)
        [variable] = document["templating"]["list"]
        variable["query"] = {**variable["query"], "query": "label_values(tenant_id)"}
        variable["definition"] = "label_values(tenant_id)"

    answers = {"/api/v1/label/tenant_id/values": Reply(success(real))}
    sent = _queries_sent(_with_board(documents, bare_label_values), answers, samples=len(real))
    regexes = {value for q in sent if "tenant_id" in q for value in _tenant_regexes(q)}
    assert [t for t in real if any(re.fullmatch(r, t) for r in regexes - {".*"})] == real, sorted(regexes)


@pytest.mark.parametrize(
    ("multi", "include_all", "said"),
    [(False, True, "with $tenant = All (`__all__`): "), (True, False, "with $tenant = tenant-a: ")],
    ids=["single-select-with-all", "multi-without-all"],
)
def test_an_empty_panel_names_the_selection_it_was_empty_at(
    documents: Documents, multi: bool, include_all: bool, said: str
) -> None:
    """A variable with All opens on All, named as such whether or not it is multi-value; one without
    All opens on its first value, named by that value (never "All")."""

    def variable_kind(document: dict[str, Any]) -> None:
        _one_tenant_panel(document)
        [variable] = document["templating"]["list"]
        variable.update(multi=multi, includeAll=include_all)
        if not include_all:
            variable.pop("current", None)

    answers = {"/api/v1/label/tenant_id/values": Reply(success(["tenant-a", "tenant-b"]))}
    with fake_prometheus(answers) as url:
        run = DoctorRun(
            _with_board(documents, variable_kind), lambda kind, _: Endpoint(url, kind, 5), samples=0
        )
        [report] = run.run()
    assert report.status is Status.EMPTY and report.causes, report
    assert all(cause.detail.startswith(said) for cause in report.causes), report.causes


# -- Grafana's Mixed datasource ----------------------------------------------------------------------

MIXED = {"type": "datasource", "uid": "-- Mixed --"}
"""What Grafana stores as the panel's datasource when each query picks its own."""


def test_a_mixed_panel_sends_each_query_to_its_own_datasource(documents: Documents) -> None:
    """In a Mixed panel the panel's datasource names no datasource: Grafana runs each query on the one
    the query names, so doctor must send the PromQL to Prometheus and the LogQL to Loki."""
    (board,) = [b for b in documents.dashboards if b.uid == OVERVIEW_UID]
    queried = [p for p in board.document["panels"] if p.get("targets")]
    promql = next(t for p in queried for t in p["targets"] if t["datasource"]["type"] == "prometheus")
    logql = next(t for p in queried for t in p["targets"] if t["datasource"]["type"] == "loki")
    [metric, *_] = [node.name for node in vector_selectors(promql_parser.parse(promql["expr"]))]
    stream = logql["expr"].split("}")[0] + "}"  # the LogQL stream selector: every query on it carries it

    def mixed_panel(document: dict[str, Any]) -> None:
        document["panels"] = [
            {
                "type": "timeseries",
                "title": "Mixed",
                "gridPos": {"h": 8, "w": 24, "x": 0, "y": 0},
                "datasource": MIXED,
                "targets": [{**promql, "refId": "A"}, {**logql, "refId": "B"}],
            }
        ]

    to_prometheus: list[str] = []
    to_loki: list[str] = []
    with fake_prometheus(seen=to_prometheus) as prometheus, fake_loki(seen=to_loki) as loki:
        urls = {"prometheus": prometheus, "loki": loki}
        run = DoctorRun(
            _with_board(documents, mixed_panel), lambda kind, _: Endpoint(urls[kind], kind, 5), samples=0
        )
        reports = run.run()
    assert [report.panel for report in reports] == ["Mixed"] and run.skipped == 0
    assert any(metric in query for query in to_prometheus), to_prometheus
    assert any(stream in query for query in to_loki), to_loki
    assert not any(stream in query for query in to_prometheus), to_prometheus
    assert not any(metric in query for query in to_loki), to_loki
