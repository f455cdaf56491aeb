"""Each Prometheus cause's words and evidence query, against a fake Prometheus that answers only what
the test says: a query that does not parse, a stale series and the step it is looked for at, the other
unit, a series nobody emits, a renamed or missing label, a rule not loaded, failing or not run yet,
the exemplar messages, the sample-spacing window, and the small helpers behind them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import promql_parser
import pytest

from dashboards_as_code.doctor.causes import Cause, CauseCode, Status
from dashboards_as_code.doctor.prometheus_api import RuleState, Sample
from dashboards_as_code.doctor.prometheus_diagnosis import (
    PrometheusDoctor,
    Selector,
    _age,
    _gap,
    _labels,
    _missing,
    _other_unit,
    selectors,
)
from dashboards_as_code.grafana_math import parse_duration
from dashboards_as_code.queries import Matcher

NOW = 1_700_000_000.0


class FakePrometheus:
    """count() and query() by their text (nothing unless listed); the rest as the test sets it."""

    def __init__(self, counts: dict[str, int] | None = None, **changes: Any) -> None:
        self.counts = counts or {}
        self.now, self.scrape_interval, self.down_targets = NOW, 15.0, list[str]()
        self.recording_rules: dict[str, list[RuleState]] = {}
        self.age: float | None = None
        self.names: list[str] = []
        self.values: list[str] = []
        self.times: list[list[float]] = []
        self.exemplars, self.exemplar_storage = 0, True
        self.results: dict[str, list[Sample]] = {}
        self.asked: list[tuple[str, ...]] = []
        self.__dict__.update(changes)

    def count(self, selector: str) -> int:
        return self.counts.get(selector, 0)

    def query(self, expr: str) -> list[Sample]:
        return self.results.get(expr, [])

    def query_at(self, expr: str, at: float) -> list[Sample]:
        return []

    def newest_sample_age(self, selector: str, lookback: str, step: str) -> float | None:
        self.asked.append(("age", selector, lookback, step))
        return self.age

    def label_names(self, selector: str) -> list[str]:
        return self.names

    def label_values(self, label: str, selector: str | None = None) -> list[str]:
        return self.values

    def sample_times(self, selector: str, lookback: str) -> list[list[float]]:
        self.asked.append(("times", selector, lookback))
        return self.times

    def exemplar_count(self, expr: str, start: float) -> int:
        self.asked.append(("exemplars", expr, str(start)))
        return self.exemplars


def _doctor(api: FakePrometheus, **fields: Any) -> PrometheusDoctor:
    return PrometheusDoctor(api, fields.pop("catalog", {}), fields.pop("signals", {}), **fields)  # type: ignore[arg-type]


def _empty(api: FakePrometheus, expr: str, **fields: Any) -> list[Cause]:
    status, causes = _doctor(api, **fields).diagnose(expr, exemplar=False)
    assert status is Status.EMPTY, causes
    return causes


def test_a_query_that_does_not_parse_is_a_query_error_saying_so() -> None:
    status, [cause] = _doctor(FakePrometheus()).diagnose("sum(rate(x[5m])", exemplar=False)
    assert status is Status.ERROR and cause.code is CauseCode.QUERY_ERROR
    assert cause.detail.startswith("PromQL does not parse: ") and cause.query == "sum(rate(x[5m])"


@pytest.mark.parametrize(("scrape", "step", "said"), [(15.0, "15s", "15 s"), (0.5, "1s", "0.5 s")])
def test_a_stale_series_names_its_age_and_the_scrape_interval(scrape: float, step: str, said: str) -> None:
    """Looked for over the last hour, one step per scrape (never under a second)."""
    api = FakePrometheus(scrape_interval=scrape, age=423.9)
    [cause] = _empty(api, "x")
    assert cause.code is CauseCode.STALE
    assert (
        cause.detail
        == f"the newest sample of `x` is 7 min 3 s old (scrape interval {said}): its emitter stopped"
    )
    assert cause.query == "timestamp(x)"
    assert api.asked == [("age", "x", "1h", step)]


def test_a_target_down_is_named_after_a_stale_or_missing_series() -> None:
    down = ["backend (http://b/metrics): refused", "otelcol (http://c/metrics): timeout"]
    [stale] = _empty(FakePrometheus(age=5, down_targets=down), "x")
    assert stale.detail.endswith(
        "its emitter stopped; scrape target down: backend (http://b/metrics): refused; "
        "otelcol (http://c/metrics): timeout"
    )
    [missing] = _empty(FakePrometheus(down_targets=down[:1]), "x")
    assert missing.detail.endswith(
        "no contract signal names it; scrape target down: backend (http://b/metrics): refused"
    )


@pytest.mark.parametrize(
    ("name", "other"),
    [("d_seconds_bucket", "d_milliseconds_bucket"), ("d_milliseconds_bucket", "d_seconds_bucket")],
)
def test_a_histogram_in_the_other_unit_is_named_with_the_connector_setting(name: str, other: str) -> None:
    [cause] = _empty(FakePrometheus({other: 4}), f"sum(rate({name}[5m]))")
    assert cause.code is CauseCode.UNIT_MISMATCH and cause.query == other
    assert cause.detail == (
        f"no `{name}`, but `{other}` exists: the histogram is recorded in the other unit "
        "(for spanmetrics, set `histogram.unit: s` in the connector)"
    )


def test_a_histogram_missing_in_both_units_is_missing_not_in_the_other_unit() -> None:
    """`unit-mismatch` says the other unit EXISTS; when neither `_seconds` nor `_milliseconds` has a
    series, the histogram is simply missing, and the advice to change the connector's unit would be
    a wild goose chase."""
    [cause] = _empty(FakePrometheus(), "sum(rate(d_seconds_bucket[5m]))")
    assert cause.code is CauseCode.SERIES_MISSING and cause.query == "d_seconds_bucket"


def test_a_missing_series_names_its_emitter_from_the_contract() -> None:
    signal = SimpleNamespace(emitter="backend's OTel SDK")
    [cause] = _empty(FakePrometheus(), "tickets_total", signals={"tickets_total": signal})
    assert cause == Cause(
        CauseCode.SERIES_MISSING,
        "no series `tickets_total` in Prometheus: emitted by the backend's OTel SDK: it is not exporting, "
        "or the Collector's metrics pipeline drops it",
        "tickets_total",
    )
    [unknown] = _empty(FakePrometheus(), "other_total", signals={"tickets_total": signal})
    assert unknown.detail == "no series `other_total` in Prometheus: no contract signal names it"


SELECTOR = 'x{job="api", env="prod"}'


def test_a_label_renamed_by_the_scrape_is_named_with_honor_labels() -> None:
    api = FakePrometheus({"x": 3, 'x{env="prod"}': 3}, names=["exported_job", "job"])
    [cause] = _empty(api, SELECTOR)
    assert cause.code is CauseCode.LABEL_MISMATCH
    assert cause.detail == (
        "`job` of `x` is renamed `exported_job`: Prometheus scrapes the exporter without honor_labels: "
        "true, so the scrape's own job replaced it"
    )
    assert cause.query == "count by (job, exported_job) (x)"


def test_each_matcher_that_empties_the_selector_alone_is_a_cause() -> None:
    """Two matchers each match nothing: both are named, in the query's order."""
    api = FakePrometheus({"x": 3, 'x{job!=""}': 3}, values=["a", "b"])
    causes = _empty(api, SELECTOR)
    assert [cause.code for cause in causes] == [CauseCode.LABEL_MISMATCH, CauseCode.LABEL_MISSING]
    assert causes[0].detail == 'no `x` series has job="api"; its job values: a, b'
    assert causes[0].query == "count by (job) (x)"
    assert causes[1] == Cause(CauseCode.LABEL_MISSING, "no `x` series carries the label `env`", "x")


def test_matchers_that_each_match_but_not_together_are_named_as_such() -> None:
    api = FakePrometheus({"x": 3, 'x{job="api"}': 1, 'x{env="prod"}': 1})
    [cause] = _empty(api, SELECTOR)
    assert cause == Cause(
        CauseCode.LABEL_MISMATCH,
        f"each matcher of {SELECTOR} matches some series, but no series matches them all",
        SELECTOR,
    )


def test_only_tenant_id_missing_is_called_rule_4() -> None:
    assert (
        _missing("x", "tenant_id")
        == "no `x` series carries the label `tenant_id` (rule 4: every signal carries tenant_id)"
    )
    assert _missing("x", "tenant") == "no `x` series carries the label `tenant`"


RECORDED = SimpleNamespace(recorded=True, tenant_scoped=False)


def _state(**changes: Any) -> RuleState:
    values: dict[str, Any] = {
        "record": "r", "query": "sum(x)", "labels": {}, "group": "slo", "file": "f.yml", "health": "ok",
        "last_error": "", "evaluated": True, "interval": 60.0,
    }  # fmt: skip
    return RuleState(**{**values, **changes})


def test_a_rule_nobody_loaded_names_its_home_or_the_rule_file() -> None:
    [cause] = _empty(FakePrometheus(), "r", catalog={"r": RECORDED})
    assert cause.code is CauseCode.RULE_NOT_LOADED and cause.query == "r"
    assert cause.detail == (
        "no recording rule writes `r` in Prometheus: the project's rule file is not loaded (check rule_files "
        "in prometheus.yml, then Status > Rule health)"
    )
    [home] = _empty(
        FakePrometheus(), "r", catalog={"r": RECORDED}, rule_homes={"r": "group slo in file f.yml"}
    )
    assert "`r` in Prometheus: group slo in file f.yml is not loaded" in home.detail


def test_each_failing_rule_is_named_with_its_labels_group_and_error() -> None:
    failing = [
        _state(health="err", labels={"window": "5m", "b": "1"}, last_error="many-to-many", query="q1"),
        _state(),
        _state(health="err", last_error="timeout", query="q2"),
    ]
    api = FakePrometheus(recording_rules={"r": failing})
    causes = _empty(api, "r")
    assert causes == [
        Cause(
            CauseCode.RULE_UNHEALTHY,
            """the rule recording `r`{b="1", window="5m"} in group 'slo' fails: many-to-many""",
            "q1",
        ),
        Cause(CauseCode.RULE_UNHEALTHY, "the rule recording `r` in group 'slo' fails: timeout", "q2"),
    ]


@pytest.mark.parametrize(
    ("interval", "every"), [(60.0, ", every 1 min 0 s"), (30.0, ", every 30 s"), (0.0, "")]
)
def test_a_rule_not_run_yet_says_to_wait_one_interval(interval: float, every: str) -> None:
    api = FakePrometheus(recording_rules={"r": [_state(evaluated=False, interval=interval)]})
    [cause] = _empty(api, "r")
    assert cause == Cause(
        CauseCode.RULE_NOT_EVALUATED,
        f"the rule recording `r` (group 'slo'{every}) is loaded but has not been evaluated yet: wait one "
        "group interval",
        "r",
    )


@pytest.mark.parametrize(
    ("storage", "detail"),
    [
        (False, "Prometheus keeps no exemplars: it runs without --enable-feature=exemplar-storage"),
        (
            True,
            "exemplar storage is on, but no exemplar arrived in the last 15 min for the series of this "
            "query: the scrape must negotiate OpenMetrics, and the Collector's prometheus exporter needs "
            "enable_open_metrics: true",
        ),
    ],
)
def test_missing_exemplars_say_which_setting_is_off(storage: bool, detail: str) -> None:
    expr = "histogram_quantile(0.9, rate(x_bucket[5m]))"
    api = FakePrometheus(exemplar_storage=storage, results={expr: [Sample({}, 1.0)]})
    status, causes = _doctor(api).diagnose(expr, exemplar=True)
    assert (status, causes) == (Status.SUSPECT, [Cause(CauseCode.EXEMPLARS_MISSING, detail, expr)])
    assert api.asked == [("exemplars", expr, str(NOW - 900))]  # the last 15 minutes
    assert _doctor(api).diagnose(expr, exemplar=False) == (Status.OK, [])  # a panel that shows none
    api.exemplars = 2
    assert _doctor(api).diagnose(expr, exemplar=True) == (Status.OK, [])


@pytest.mark.parametrize(("window", "lookback"), [("1m", "600s"), ("5m", "1500s"), ("30m", "3600s")])
def test_sample_spacing_is_measured_over_five_windows_within_ten_minutes_and_an_hour(
    window: str, lookback: str
) -> None:
    api = FakePrometheus({"x": 1}, times=[[0.0, 1.0, 2.0]])
    [cause] = _empty(api, f"rate(x[{window}])")
    assert cause.code is CauseCode.NO_MATCH  # samples 1 s apart: dense enough for any window
    assert ("times", "x", lookback) in api.asked


def test_a_window_of_exactly_three_spacings_is_dense_enough() -> None:
    dense = FakePrometheus({"x": 1}, times=[[0.0, 20.0, 40.0, 60.0]])
    [cause] = _empty(dense, "rate(x[1m])")
    assert cause.code is CauseCode.NO_MATCH
    assert cause.detail == (
        "every series this query reads exists, but the expression as a whole returns nothing (a join or "
        "comparison leaves no series)"
    )
    sparse = FakePrometheus({"x": 1}, times=[[0.0, 21.0, 42.0, 63.0]])
    [cause] = _empty(sparse, "rate(x[1m])")
    assert cause.code is CauseCode.SPARSE_SAMPLES


@pytest.mark.parametrize(("spacing", "advised"), [(15.3, 46), (15.1, 46), (20.0, 60)])
def test_the_window_advised_for_sparse_samples_holds_three_spacings(spacing: float, advised: int) -> None:
    """The window after "widen the window to at least" must be long enough: three spacings in whole
    seconds, rounded up (3 x 15.3 s = 45.9 s and 3 x 15.1 s = 45.3 s: both 46s; 3 x 20 s: 60s), and
    doctor itself then finds the window dense enough. 45s, a little short of three spacings, would
    still miss a sample now and then, and doctor would flag it again."""
    times = [[i * spacing for i in range(6)]]
    [cause] = _empty(FakePrometheus({"x": 1}, times=times), "rate(x[30s])")
    assert cause.code is CauseCode.SPARSE_SAMPLES
    assert cause.detail.endswith(f"or widen the window to at least {advised}s"), cause.detail
    [followed] = _empty(FakePrometheus({"x": 1}, times=times), f"rate(x[{advised}s])")
    assert followed.code is CauseCode.NO_MATCH  # the advice followed: no sparse-samples cause


# -- the helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "said"), [(59.9, "59 s"), (60, "1 min 0 s"), (725.2, "12 min 5 s"), (0, "0 s")]
)
def test_an_age_reads_in_minutes_and_whole_seconds(seconds: float, said: str) -> None:
    assert _age(seconds) == said


@pytest.mark.parametrize(
    ("times", "gap"),
    [([0, 15, 15, 30, 30, 45], 15), ([0, 10, 70, 80], 10), ([0, 10, 20, 90], 10), ([5, 5], None), ([], None)],
)
def test_the_spacing_is_the_median_gap_between_distinct_timestamps(
    times: list[float], gap: float | None
) -> None:
    assert _gap(times) == gap


def test_labels_read_sorted_and_none_reads_as_nothing() -> None:
    assert _labels({"z": "1", "a": "2"}) == '{a="2", z="1"}' and _labels({}) == ""


def test_only_a_unit_in_the_name_has_another_unit() -> None:
    assert _other_unit("x_total") is None


def test_each_named_selector_once_nameless_ones_skipped_name_matcher_read() -> None:
    tree = promql_parser.parse('x{a="1"} + on() {__name__="y", b!="2"} + x{a="1"} offset 5m + {job="j"}')
    assert selectors(tree) == [
        Selector("x", (Matcher("a", "=", "1"),)),
        Selector("y", (Matcher("b", "!=", "2"),)),
    ]
    assert Selector("x", ()).render() == "x"


# -- rule 4 --------------------------------------------------------------------------------------------

TENANT_SCOPED = SimpleNamespace(recorded=False, tenant_scoped=True)
UNLABELLED = 'x{job="api", tenant_id="", otel_metric_overflow!="true"}'


def test_series_without_a_tenant_make_a_panel_that_shows_data_suspect() -> None:
    """Asked with the panel's own matchers, the tenant's replaced by `tenant_id=""`, overflow left out."""
    expr = 'sum(x{job="api", tenant_id="acme"})'
    api = FakePrometheus({UNLABELLED: 3}, results={expr: [Sample({}, 1.0)]})
    status, causes = _doctor(api, catalog={"x": TENANT_SCOPED}).diagnose(expr, exemplar=False)
    assert (status, causes) == (
        Status.SUSPECT,
        [
            Cause(
                CauseCode.LABEL_MISSING,
                "3 `x` series carry no tenant_id: rule 4 (every signal carries tenant_id) is broken by the "
                "emitter or by relabelling",
                UNLABELLED,
            )
        ],
    )
    untenanted = SimpleNamespace(recorded=False, tenant_scoped=False)
    assert _doctor(api, catalog={"x": untenanted}).diagnose(expr, exemplar=False) == (Status.OK, [])


def test_rule_4_is_checked_on_what_a_recording_rule_reads() -> None:
    expr = "r"
    rules = {"r": [_state(query='sum by (tenant_id) (rate(x{job="api"}[5m]))')]}
    api = FakePrometheus({UNLABELLED: 2}, results={expr: [Sample({}, 1.0)]}, recording_rules=rules)
    catalog = {"r": RECORDED, "x": TENANT_SCOPED}
    status, [cause] = _doctor(api, catalog=catalog).diagnose(expr, exemplar=False)
    assert status is Status.SUSPECT and cause.query == UNLABELLED


def test_a_rule_that_has_run_is_never_told_to_wait_for_its_first_run() -> None:
    """Two rules record `r` (one per label set): one has run, one not yet. "has not been evaluated
    yet: wait one group interval" would send the on-call person to wait for a run that already
    happened and recorded nothing; the series the rules read is what is looked at instead."""
    states = [_state(), _state(evaluated=False, labels={"slo": "b"})]
    causes = _empty(FakePrometheus(recording_rules={"r": states}), "r")
    codes = {cause.code for cause in causes}
    assert CauseCode.RULE_NOT_EVALUATED not in codes
    assert codes == {CauseCode.SERIES_MISSING}


def test_a_rule_whose_expression_is_empty_now_too_is_not_warming_up() -> None:
    """Warming up means "empty when it ran, data now": a rule whose own expression returns nothing
    now either will record nothing at its next run, so waiting is the wrong advice; its sources are
    taken apart (here, the series it reads is missing)."""
    api = FakePrometheus(recording_rules={"r": [_state(last_evaluation=NOW - 30)]})
    [cause] = _empty(api, "r")
    assert cause.code is CauseCode.SERIES_MISSING
    assert cause.detail.endswith("(read by the rule recording `r`)")


def test_the_first_sample_after_a_rule_ran_is_looked_for_back_past_the_run() -> None:
    """A warming-up rule names how old the first sample of what it reads is. Prometheus' range
    selector `x[30s]` is open at its start, so a window of exactly now - last run would miss a sample
    at the very moment of the run: the window asked reaches further back than the run."""
    api = FakePrometheus(
        recording_rules={"r": [_state(last_evaluation=NOW - 30)]},
        results={"sum(x)": [Sample({}, 1.0)]},
        times=[[NOW - 20, NOW - 5]],
    )
    [cause] = _empty(api, "r")
    assert cause.code is CauseCode.RULE_WARMING_UP
    assert "(the first sample of `x` is 20 s old)" in cause.detail
    [lookback] = [asked[2] for asked in api.asked if asked[:2] == ("times", "x")]
    assert parse_duration(lookback) > 30


def test_the_series_a_record_is_made_of_are_followed_at_most_three_rules_down() -> None:
    """MAX_DEPTH: rules built on rules are followed three deep to the raw series (`x`), no further,
    so a long or looping chain costs a bounded number of questions."""
    rules = {
        f"r{n}": [_state(record=f"r{n}", query=f"sum(r{n + 1})" if n < 3 else "sum(x)")] for n in range(4)
    }
    doctor = _doctor(FakePrometheus(recording_rules=rules))
    assert doctor._raw_series("r1") == ["x"]  # r1 -> r2 -> r3 -> x: three rules
    assert doctor._raw_series("r0") == []  # four rules: not followed to the end


def test_a_rule_that_reads_its_own_series_does_not_loop() -> None:
    """A recording rule may read its own series (a smoothing `r = avg_over_time(r[1h])`): rule 4's
    walk down the rules a panel reads stops after a few levels instead of recursing forever."""
    rules = {"r": [_state(query="avg_over_time(r[1h])")]}
    api = FakePrometheus(recording_rules=rules, results={"r": [Sample({}, 1.0)]})
    assert _doctor(api, catalog={"r": RECORDED}).diagnose("r", exemplar=False) == (Status.OK, [])
