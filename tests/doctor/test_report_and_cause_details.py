"""The details of what `doctor` says and asks, each against a small fake: the summary's rule count, a rule
not evaluated yet, the note on a datasource left out, a panel's worst status, the JSON field names, the
overflow cause's spans, list and advice, each Loki cause's words and query, and the parameters and
fallbacks of the Prometheus and Loki clients."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from dashboards_as_code.doctor.causes import Cause, CauseCode, PanelReport, RuleReport, Skipped, Status
from dashboards_as_code.doctor.http import Answer, SourceError
from dashboards_as_code.doctor.loki_api import LINE_LIMIT, LokiApi
from dashboards_as_code.doctor.loki_diagnosis import LokiDoctor
from dashboards_as_code.doctor.overflow import GENERIC_LIMIT, SHOWN_SERIES, HiddenTenants, Limit, _span
from dashboards_as_code.doctor.prometheus_api import DEFAULT_SCRAPE_INTERVAL, PrometheusApi, Sample
from dashboards_as_code.doctor.report import as_json, rule_lines, skip_notes, summary
from dashboards_as_code.queries import Matcher


def _rule(**changes: Any) -> RuleReport:
    values: dict[str, Any] = {
        "datasource": "prom", "kind": "alerting", "name": "TicketsDown", "group": "g", "file": "r.yml",
        "health": "err", "last_error": "boom", "interval_s": 60.0,
    }  # fmt: skip
    return RuleReport(**{**values, **changes})


# -- the report ------------------------------------------------------------------------------------------


def test_the_summary_counts_the_rules_not_ok_by_health_in_order() -> None:
    rules = [_rule(health="unknown"), _rule(), _rule(health="unknown")]
    assert summary([], 0, "Prometheus at p", rules) == (
        "0 ok, 0 suspect, 0 empty, 0 error (0 panels, Prometheus at p); 3 rule(s) not ok: 1 err, 2 unknown."
    )


def test_the_summary_without_rules_or_skipped_panels_says_nothing_of_them() -> None:
    report = PanelReport("d", "p")
    assert summary([report], 0, "w") == "1 ok, 0 suspect, 0 empty, 0 error (1 panels, w)."


@pytest.mark.parametrize(
    ("interval", "said"),
    [(60.0, "not evaluated yet (its group runs every 60 s)"),
     (0.5, "not evaluated yet (its group runs every 0.5 s)"), (0.0, "not evaluated yet")],
)  # fmt: skip
def test_a_rule_not_evaluated_yet_says_how_often_its_group_runs(interval: float, said: str) -> None:
    """`unknown` is normal for one interval after a start: the line says how long that is, when known,
    and never shows an error text the rule does not have yet."""
    [_, line] = rule_lines([_rule(health="unknown", last_error="stale text", interval_s=interval)])
    assert line == f"unknown  group g / alert TicketsDown: {said}"


def test_a_datasource_left_out_is_one_note_naming_why_and_every_panel() -> None:
    skipped = [
        Skipped("loki", "LOKI_URL is empty", ("logs / Errors", "logs / Volume")),
        Skipped("prometheus", "PROMETHEUS_URL is empty", ("overview / Sessions",)),
    ]
    assert skip_notes(skipped) == [
        "note: Loki left out (LOKI_URL is empty): 2 panel(s) not checked: logs / Errors; logs / Volume",
        "note: Prometheus left out (PROMETHEUS_URL is empty): 1 panel(s) not checked: overview / Sessions",
    ]


def test_a_panel_keeps_its_worst_status_and_each_cause_once_in_order() -> None:
    stale, missing = Cause(CauseCode.STALE, "old"), Cause(CauseCode.SERIES_MISSING, "never seen")
    report = PanelReport("d", "p")
    report.add(Status.EMPTY, [stale])
    report.add(Status.SUSPECT, [missing, stale])  # a milder status later does not hide the empty one
    report.add(Status.OK, [])
    assert report.status is Status.EMPTY and report.causes == [stale, missing]
    report.add(Status.ERROR, [])
    assert report.as_json()["status"] == "error"


def test_the_json_names_its_fields_as_scripts_read_them() -> None:
    """`--json` is for scripts: its field names are stable (`type`, `interval_seconds`, `selection` as
    an object, `datasource` for a skipped one's kind)."""
    report = PanelReport("d", "p")
    report.add(Status.EMPTY, [Cause(CauseCode.STALE, "old", "timestamp(x)", (("tenant", "acme"),))])
    document = json.loads(
        as_json([report], [_rule(kind="recording")], [Skipped("loki", "LOKI_URL is empty", ("d / p",))])
    )
    assert document == {
        "panels": [
            {
                "dashboard": "d",
                "panel": "p",
                "status": "empty",
                "causes": [
                    {
                        "code": "stale",
                        "detail": "old",
                        "query": "timestamp(x)",
                        "selection": {"tenant": "acme"},
                    }
                ],
            }
        ],
        "rules": [
            {
                "datasource": "prom",
                "type": "recording",
                "name": "TicketsDown",
                "group": "g",
                "file": "r.yml",
                "health": "err",
                "last_error": "boom",
                "interval_seconds": 60.0,
            }
        ],
        "skipped": [{"datasource": "loki", "reason": "LOKI_URL is empty", "panels": ["d / p"]}],
    }


def test_the_json_selection_holds_every_variable_of_the_dashboard() -> None:
    """A cause found at one selection of a dashboard with two variables names both: a script reading
    `selection` must learn which tenant AND which service were empty, not only the first variable."""
    chosen = (("tenant", "acme"), ("service", "checkout"))
    report = PanelReport("d", "p")
    report.add(Status.EMPTY, [Cause(CauseCode.LABEL_MISMATCH, "no acme", "x", chosen)])
    (panel,) = json.loads(as_json([report]))["panels"]
    assert panel["causes"][0]["selection"] == {"tenant": "acme", "service": "checkout"}


def test_only_a_rule_in_err_fails_a_run() -> None:
    assert _rule().failing and not _rule(health="unknown").failing and not _rule(health="ok").failing


# -- the overflow cause ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(6 * 3600, "6 h"), (3600, "1 h"), (5400, "90 min"), (723, "12 min 3 s"), (120, "2 min"), (40, "40 s"),
     (0, "0 s"), (59.6, "1 min")],
)  # fmt: skip
def test_a_span_reads_as_a_person_says_it(seconds: float, said: str) -> None:
    """Whole hours in hours; else minutes and seconds, without a `0 s` tail or a `0 min` head."""
    assert _span(seconds) == said


class FakePrometheus:
    """count() by selector, one scrape interval, the overflow series' first samples, a fixed now."""

    def __init__(self, counts: dict[str, int], found: list[Sample], scrape: float = 15.0) -> None:
        self.counts, self.found, self.scrape_interval, self.now = counts, found, scrape, 1_700_000_000.0
        self.asked: list[tuple[str, str, str]] = []

    def count(self, selector: str) -> int:
        return self.counts.get(selector, 0)

    def first_sample_times(self, selector: str, lookback: str, step: str) -> list[Sample]:
        self.asked.append((selector, lookback, step))
        return self.found


ACME = (Matcher("tenant_id", "=", "acme"),)
HIDDEN = {'x_total{tenant_id="acme"}': 0, "x_total": 5, '{tenant_id="acme"}': 3}
"""acme's selection of `x_total` is empty, `x_total` has data, and acme is known elsewhere."""


def _hidden(
    found: list[Sample], range_s: float = 3600, limits: dict[str, Limit] | None = None
) -> list[Cause]:
    api = FakePrometheus(HIDDEN, found)
    return HiddenTenants(api, limits or {}, range_s).causes("x_total", ACME, lambda name: [name])  # type: ignore[arg-type]


def _overflow(first: float, **labels: str) -> Sample:
    return Sample({"otel_metric_overflow": "true", **labels}, first)


def test_an_overflow_cause_names_when_it_began_how_long_ago_and_in_which_window() -> None:
    now = 1_700_000_000.0
    [cause] = _hidden([_overflow(now - 723, job="a"), _overflow(now - 90, job="b")], range_s=6 * 3600)
    assert cause.code is CauseCode.CARDINALITY_OVERFLOW
    # The earliest of the series' first samples; its age; the dashboard's range as it reads.
    assert "since 2023-11-14 22:01:17 UTC (12 min 3 s ago; its first sample in the last 6 h)" in cause.detail
    assert '`tenant_id="acme"` selects series of other metrics but none of this one' in cause.detail
    assert cause.query == '{__name__="x_total", otel_metric_overflow="true"}'


@pytest.mark.parametrize("count", [SHOWN_SERIES, SHOWN_SERIES + 2])
def test_an_overflow_cause_lists_a_few_series_then_how_many_more(count: int) -> None:
    found = [_overflow(1_699_999_000.0, job=f"j{i}") for i in range(count)]
    [cause] = _hidden(found)
    listed = "; ".join(f'{{job="j{i}", otel_metric_overflow="true"}}' for i in range(SHOWN_SERIES))
    more = f"; and {count - SHOWN_SERIES} more" if count > SHOWN_SERIES else ""
    assert f"has an overflow series {listed}{more}, since" in cause.detail


def test_an_overflow_cause_names_the_contracts_limit_or_the_generic_advice() -> None:
    found = [_overflow(1_699_999_000.0)]
    limit = Limit(5000, "the backend's OTel SDK", "telemetry/contract.py, docs/contract.md")
    [with_limit] = _hidden(found, limits={"x_total": limit})
    assert with_limit.detail.endswith(
        "Raise the limit of its emitter (the backend's OTel SDK) to the contract's 5,000 attribute sets "
        "(telemetry/contract.py, docs/contract.md)."
    )
    [without] = _hidden(found, limits={"other_total": limit})
    assert without.detail.endswith(f"{GENERIC_LIMIT}.")


@pytest.mark.parametrize(
    ("range_s", "scrape", "step"),
    [(3600, 15.0, "15s"), (30 * 86400, 15.0, "236s"), (3600, 0.0, "1s")],
)
def test_the_first_sample_is_looked_for_over_the_range_at_a_bounded_step(
    range_s: float, scrape: float, step: str
) -> None:
    """The scrape interval, but never finer than 11,000 points over the range (Prometheus' bound), nor
    below one second."""
    api = FakePrometheus(HIDDEN, [], scrape=scrape)
    assert HiddenTenants(api, {}, range_s).causes("x_total", ACME, lambda n: [n]) == []  # type: ignore[arg-type]
    assert api.asked == [('x_total{otel_metric_overflow="true"}', f"{int(range_s)}s", step)]


@pytest.mark.parametrize(
    ("counts", "why"),
    [
        ({**HIDDEN, 'x_total{tenant_id="acme"}': 2}, "the selection has data"),
        ({**HIDDEN, "x_total": 0}, "empty for every tenant"),
        ({**HIDDEN, '{tenant_id="acme"}': 0}, "a tenant nobody knows"),
    ],
)
def test_no_overflow_is_looked_for_unless_the_tenant_alone_empties_the_panel(
    counts: dict[str, int], why: str
) -> None:
    api = FakePrometheus(counts, [_overflow(1_699_999_000.0)])
    causes = HiddenTenants(api, {}, 3600).causes("x_total", ACME, lambda n: [n])  # type: ignore[arg-type]
    assert causes == [] and api.asked == [], why


# -- Loki's causes ----------------------------------------------------------------------------------------


class FakeLoki:
    """Lines by query (none unless listed), the indexed labels and their values."""

    def __init__(self, lines: dict[str, int], labels: list[str], values: dict[str, list[str]] | None = None):
        self.found, self.labels, self.values = lines, labels, values or {}
        self.asked: list[str] = []

    def lines(self, query: str) -> list[dict[str, str]]:
        self.asked.append(query)
        return [{}] * self.found.get(query, 0)

    def label_values(self, label: str) -> list[str]:
        return self.values.get(label, [])


def _loki(api: FakeLoki, expr: str) -> tuple[Status, list[Cause]]:
    return LokiDoctor(api, "the last 1 h").diagnose(expr)  # type: ignore[arg-type]


def test_no_stream_at_all_names_the_pipeline_to_look_at() -> None:
    status, [cause] = _loki(FakeLoki({}, []), '{service_name="b"}')
    assert status is Status.EMPTY and cause.code is CauseCode.LOKI_NO_STREAM
    assert cause.detail == (
        "Loki holds no log stream at all in the last 1 h: nothing delivers logs (the Collector's logs "
        "pipeline and its exporter to Loki's /otlp endpoint)"
    )
    assert cause.query == '{service_name="b"}'


def test_each_label_loki_does_not_index_is_named_with_the_filter_to_use_instead() -> None:
    api = FakeLoki({}, ["service_name", "deployment_environment"])
    status, causes = _loki(api, '{tenant_id=~"ac.*", severity_text="ERROR"}')
    assert status is Status.EMPTY
    assert [cause.code for cause in causes] == [CauseCode.LOKI_LABEL_NOT_INDEXED] * 2
    assert causes[0].detail == (
        "the selector uses `tenant_id`, which Loki does not index (indexed: service_name, "
        "deployment_environment): for OTLP logs only listed resource attributes become labels; filter "
        'structured metadata with `| tenant_id=~"ac.*"` instead'
    )
    assert "`severity_text`" in causes[1].detail and '`| severity_text="ERROR"`' in causes[1].detail
    assert {cause.query for cause in causes} == {'{service_name=~".+"}'}  # the first indexed label


def test_a_negative_matcher_on_an_indexed_label_is_not_blamed_on_its_values() -> None:
    """`!=` on a value nobody has cannot empty a selector: the message is the generic one."""
    api = FakeLoki({}, ["service_name"], {"service_name": ["a"]})
    _, [cause] = _loki(api, '{service_name!="zzz"}')
    assert cause.code is CauseCode.LOKI_NO_STREAM
    assert cause.detail == """no stream matches {service_name!="zzz"} in the last 1 h"""


def test_a_regex_matcher_is_not_blamed_on_its_values_as_if_it_were_one() -> None:
    """`=~"tiktickets-.*"` is a pattern, not a value: saying "no stream has service_name="tiktickets-.*""
    and listing the values would tell the on-call person a stream name is misspelt when the regex may
    simply match none of them. Only an `=` matcher's value is looked up; a regex gets the generic text."""
    api = FakeLoki({}, ["service_name"], {"service_name": ["a", "b"]})
    _, [cause] = _loki(api, '{service_name=~"tiktickets-.*"}')
    assert cause.code is CauseCode.LOKI_NO_STREAM
    assert cause.detail == """no stream matches {service_name=~"tiktickets-.*"} in the last 1 h"""


def test_a_field_created_by_label_format_is_not_called_missing() -> None:
    selector = '{service_name="b"}'
    renamed = f'{selector} | label_format level="{{{{.severity_text}}}}"'
    api = FakeLoki({selector: 3, renamed: 3, f'{renamed} | level!=""': 3}, ["service_name"])
    _, [cause] = _loki(api, f'{renamed} | level="fatal"')
    assert cause.code is CauseCode.LOKI_NO_LINES
    assert cause.detail == f'{selector} has lines in the last 1 h, but none passes `| level="fatal"`'
    assert cause.query == renamed
    assert f'{renamed} | level!=""' not in api.asked  # a label it made is not looked for on the lines


def test_a_field_made_by_an_earlier_label_format_is_still_made_after_a_later_one() -> None:
    """Each label_format adds fields; a second one does not take away what the first made. A filter on
    the first one's field that no line passes is "no lines pass", never "no line carries it"."""
    selector = '{service_name="b"}'
    first = f'{selector} | label_format level="{{{{.severity_text}}}}"'
    second = f'{first} | label_format who="{{{{.user}}}}"'
    api = FakeLoki({selector: 3, first: 3, second: 3}, ["service_name"])
    _, [cause] = _loki(api, f'{second} | level="fatal"')
    assert cause.code is CauseCode.LOKI_NO_LINES
    assert cause.detail == f'{selector} has lines in the last 1 h, but none passes `| level="fatal"`'
    assert cause.query == second
    assert not any(asked.endswith('| level!=""') for asked in api.asked)


def test_a_field_no_line_carries_is_named_with_the_query_before_its_stage() -> None:
    selector = '{service_name="b"}'
    api = FakeLoki({selector: 3, f'{selector} | span_id!=""': 3}, ["service_name"])
    # Every field of the stage is looked at: the first one lines carry is not the one to blame.
    _, [cause] = _loki(api, f'{selector} | span_id="x" or trace_id="abc"')
    assert cause.code is CauseCode.LOKI_FIELD_MISSING
    assert cause.detail == (
        f"no line of {selector} in the last 1 h carries `trace_id` (structured metadata from the log "
        "record's attributes): the emitter does not set it, or the Collector drops it"
    )
    assert cause.query == selector


def test_lines_without_a_tenant_make_a_tenant_panel_suspect() -> None:
    selector = '{service_name="b"}'
    expr = f'{selector} | tenant_id="acme"'
    unlabelled = f'{selector} | tenant_id=""'
    status, [cause] = _loki(FakeLoki({expr: 2, unlabelled: 1}, ["service_name"]), expr)
    assert status is Status.SUSPECT and cause.code is CauseCode.LABEL_MISSING
    assert (
        cause.detail == f"lines of {selector} carry no tenant_id: rule 4 (every log record carries tenant_id)"
    )
    assert cause.query == unlabelled
    assert _loki(FakeLoki({expr: 2}, ["service_name"]), expr) == (Status.OK, [])
    # A query that does not read tenants is not held to the rule.
    assert _loki(FakeLoki({selector: 2, f'{selector} | tenant_id=""': 2}, []), selector) == (Status.OK, [])


def test_a_failing_loki_is_an_error_with_the_panels_query() -> None:
    class Down(FakeLoki):
        def lines(self, query: str) -> list[dict[str, str]]:
            raise SourceError(CauseCode.UNREACHABLE, "no answer from http://loki within 5 s")

    status, [cause] = _loki(Down({}, []), '{service_name="b"}')
    assert status is Status.ERROR
    assert cause == Cause(
        CauseCode.UNREACHABLE, "no answer from http://loki within 5 s", '{service_name="b"}'
    )


def test_a_query_without_a_stream_selector_is_a_query_error() -> None:
    status, [cause] = _loki(FakeLoki({}, []), 'sum(rate({a="b"}[5m]))')
    assert status is Status.ERROR and cause.code is CauseCode.QUERY_ERROR
    assert cause.query == 'sum(rate({a="b"}[5m]))'


# -- what the clients ask --------------------------------------------------------------------------------


class FakeEndpoint:
    """Answers `data` by path (validated as the real endpoint validates it) and records each request."""

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers, self.asked = answers, list[tuple[str, dict[str, str]]]()

    def get(self, path: str, answer: Answer[Any], params: dict[str, str] | None = None) -> Any:
        self.asked.append((path, dict(params or {})))
        return answer.model.validate_python(self.answers[path])


def test_loki_is_asked_for_the_newest_lines_of_the_dashboards_window_in_nanoseconds() -> None:
    endpoint = FakeEndpoint({"/loki/api/v1/query_range": {"resultType": "streams", "result": []}})
    api = LokiApi(endpoint, 3600)  # type: ignore[arg-type]
    assert api.lines('{a="b"}') == []
    [(_, params)] = endpoint.asked
    assert params["limit"] == str(LINE_LIMIT) == "100" and params["direction"] == "backward"
    assert int(params["end"]) - int(params["start"]) == 3600 * 10**9
    assert abs(int(params["end"]) / 1e9 - api.end) < 1e-3


def test_lokis_labels_and_values_come_back_sorted() -> None:
    endpoint = FakeEndpoint({"/loki/api/v1/labels": ["z", "a"], "/loki/api/v1/label/a/values": ["y", "b"]})
    api = LokiApi(endpoint, 60)  # type: ignore[arg-type]
    assert api.labels == ["a", "z"] and api.label_values("a") == ["b", "y"]


def _prometheus(answers: dict[str, object]) -> tuple[PrometheusApi, FakeEndpoint]:
    endpoint = FakeEndpoint(answers)
    return PrometheusApi(endpoint), endpoint  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("result", "count"),
    [([], 0), ([{"metric": {}, "value": [1.0, "NaN"]}], 0), ([{"metric": {}, "value": [1.0, "7"]}], 7)],
)
def test_a_count_of_nothing_is_zero(result: list[object], count: int) -> None:
    api, endpoint = _prometheus({"/api/v1/query": {"resultType": "vector", "result": result}})
    assert api.count('x{a="b"}') == count
    [(_, params)] = endpoint.asked
    assert params == {"query": 'count(x{a="b"})', "time": f"{api.now:.3f}"}


@pytest.mark.parametrize(
    ("yaml", "seconds"),
    [
        ("global:\n  scrape_interval: 15s\n", 15.0),
        ("global:\n  evaluation_interval: 15s\n", 60.0),  # Prometheus' own default: 1m
        ("scrape_configs: []\n", 60.0),
        ("global: [unclosed\n", DEFAULT_SCRAPE_INTERVAL),
        ("global:\n  scrape_interval: soon\n", DEFAULT_SCRAPE_INTERVAL),
    ],
)
def test_the_scrape_interval_falls_back_to_prometheus_default(yaml: str, seconds: float) -> None:
    api, _ = _prometheus({"/api/v1/status/config": {"yaml": yaml}})
    assert api.scrape_interval == seconds


def test_a_scrape_interval_in_milliseconds_is_read_not_replaced_by_the_default() -> None:
    """A Prometheus scraping every 500 ms: Grafana's `$__interval` is floored at 0.5 s, so doctor must
    build on 0.5 s, not on the one-minute default (which would make it ask for 120 times wider windows)."""
    api, _ = _prometheus({"/api/v1/status/config": {"yaml": "global:\n  scrape_interval: 500ms\n"}})
    assert api.scrape_interval == 0.5


def test_a_down_target_is_named_by_job_else_scrape_pool_with_its_url_and_error() -> None:
    targets = {
        "activeTargets": [
            {"labels": {"job": "otelcol"}, "scrapePool": "pool", "scrapeUrl": "http://c:8888/metrics",
             "health": "down", "lastError": "connection refused"},
            {"labels": {}, "scrapePool": "backend", "scrapeUrl": "http://b:9464/metrics", "health": "down"},
            {"labels": {"job": "up"}, "scrapeUrl": "http://u/metrics", "health": "up"},
        ]
    }  # fmt: skip
    api, endpoint = _prometheus({"/api/v1/targets": targets})
    assert api.down_targets == [
        "otelcol (http://c:8888/metrics): connection refused",
        "backend (http://b:9464/metrics):",
    ]
    assert endpoint.asked == [("/api/v1/targets", {"state": "active"})]


def test_a_target_not_scraped_yet_is_not_called_down() -> None:
    """/api/v1/targets reports a target's health as `up`, `down` or `unknown`; `unknown` is a target
    Prometheus has not scraped yet (just after a start, a reload or a new target). Nothing failed
    there: naming it "scrape target down" would send the reader after an outage that is not one."""
    targets = {
        "activeTargets": [
            {"labels": {"job": "api"}, "scrapeUrl": "http://a:9464/metrics", "health": "up"},
            {"labels": {"job": "backend"}, "scrapeUrl": "http://b:9464/metrics", "health": "down",
             "lastError": "connection refused"},
            {"labels": {"job": "new-job"}, "scrapeUrl": "http://n:9100/metrics", "health": "unknown"},
        ]
    }  # fmt: skip
    api, _ = _prometheus({"/api/v1/targets": targets})
    assert api.down_targets == ["backend (http://b:9464/metrics): connection refused"]


def test_label_values_are_sorted_and_asked_over_the_last_hour() -> None:
    api, endpoint = _prometheus({"/api/v1/label/tenant_id/values": ["globex", "acme"]})
    assert api.label_values("tenant_id", "x_total") == ["acme", "globex"]
    [(_, params)] = endpoint.asked
    assert params == {"start": f"{api.now - 3600:.3f}", "end": f"{api.now:.3f}", "match[]": "x_total"}


@pytest.mark.parametrize(
    ("flag", "kept"),
    [("exemplar-storage,native-histograms", True), ("native-histograms", False), ("", False)],
)
def test_exemplars_are_kept_only_with_the_feature_flag(flag: str, kept: bool) -> None:
    api, _ = _prometheus({"/api/v1/status/flags": {"enable-feature": flag}})
    assert api.exemplar_storage is kept


def test_a_matrix_answer_counts_each_series_newest_value() -> None:
    data = {
        "resultType": "matrix",
        "result": [
            {"metric": {"a": "1"}, "values": [[1.0, "3"], [2.0, "5"]]},
            {"metric": {"a": "2"}, "values": []},
        ],
    }
    api, _ = _prometheus({"/api/v1/query": data})
    assert api.query("x") == [Sample({"a": "1"}, 5.0)]
    assert not math.isnan(api.query("x")[0].value)
