"""The parts of `doctor` that need no live stack: Grafana's interval math, LogQL splitting, rule states,
and how each failure of a datasource is named."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
from typing import Any

import pytest
from rich.console import Console

from dashboards_as_code.defaults import GRAFANA_INTERVAL_VARIABLES
from dashboards_as_code.doctor.causes import Cause, CauseCode, PanelReport, RuleReport, Status
from dashboards_as_code.doctor.http import Endpoint, SourceError
from dashboards_as_code.doctor.loki_api import NAMES, LokiApi
from dashboards_as_code.doctor.loki_diagnosis import SHOWN_VALUES, LokiDoctor
from dashboards_as_code.doctor.prometheus_api import BUILD_INFO, RuleState
from dashboards_as_code.doctor.prometheus_diagnosis import PrometheusDoctor, Selector, _next_run
from dashboards_as_code.doctor.report import lines, rule_lines, show, summary
from dashboards_as_code.doctor.run import _range_label
from dashboards_as_code.grafana_math import (
    builtin_intervals,
    parse_duration,
    range_seconds,
    regex_escape,
    round_interval,
    substitute,
)
from tests.conftest import REPO
from tests.doctor.stack import seed_logs
from tests.grafana_server.server import FakeGrafana
from tests.loki_server.server import loki_server


@pytest.mark.parametrize(
    ("seconds", "rounded"), [(0.9, 1), (13, 15), (21.6, 20), (27, 30), (100, 120), (400, 300), (3000, 3600)]
)
def test_round_interval_follows_grafanas_steps(seconds: float, rounded: float) -> None:
    assert round_interval(seconds) == rounded


@pytest.mark.parametrize(
    ("seconds", "rounded"),
    [
        # Grafana's roundInterval compares with a strict `<`: a value exactly on a step boundary
        # takes the larger step (45 s -> 1 m, not 30 s).
        (12.5, 15), (17.5, 20), (25, 30), (45, 60), (90, 120), (210, 300), (450, 600),
        (750, 900), (1050, 1200), (1500, 1800), (2700, 3600), (5400, 7200), (9000, 10800),
        (16200, 21600), (32400, 43200), (86400, 86400),
        # Past a day: one day, one week, 30 days, then one year (not a multiple of days).
        (2 * 86400, 86400), (604800, 604800), (1814400, 2592000), (3628800, 31536000),
    ],
)  # fmt: skip
def test_an_interval_on_a_step_boundary_takes_the_larger_step(seconds: float, rounded: float) -> None:
    assert round_interval(seconds) == rounded


def test_twenty_hours_on_a_full_width_panel_is_one_minute_as_grafana_sends_it() -> None:
    """72,000 s over 1,600 points is exactly 45 s, a rounding boundary: Grafana sends `$__interval`
    1m and `$__rate_interval` 1m + 15 s = 75 s; rounding down would make doctor ask 30 s / 60 s."""
    intervals = builtin_intervals(20 * 3600, 15, 24)
    assert (intervals["$__interval"], intervals["$__rate_interval"]) == ("60s", "75s")


def test_rate_interval_is_at_least_four_scrapes_and_one_scrape_more_than_the_interval() -> None:
    # 6 h on a full-width panel (1,600 points): 13.5 s -> 15 s; scrape 15 s -> max(15 + 15, 60) = 60 s.
    assert builtin_intervals(6 * 3600, 15, 24) == {
        "$__rate_interval": "60s",
        "$__interval": "15s",
        "$__range": "21600s",
        "$__auto": "15s",
    }
    # 7 d on a half-width panel (800 points): 756 s -> 900 s; rate = 900 + 15 = 915 s.
    intervals = builtin_intervals(7 * 86400, 15, 12)
    assert (intervals["$__interval"], intervals["$__rate_interval"]) == ("900s", "915s")


def test_variables_are_filled_in_as_grafana_does() -> None:
    builtins = builtin_intervals(3600, 15, 24)
    expr = 'rate(x{tenant_id=~"$tenant", t="${tenant}"}[$__rate_interval]) / $tenants'
    assert substitute(expr, builtins, {"tenant": "acme", "tenants": "2"}) == (
        'rate(x{tenant_id=~"acme", t="acme"}[60s]) / 2'
    )
    assert (
        regex_escape("a.b(c)") == "a\\\\.b\\\\(c\\\\)"
    )  # one backslash for the regex, doubled for the string
    assert range_seconds("now-6h") == 21600 and range_seconds("2024-01-01") == 3600
    assert parse_duration("1m30s") == 90
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        parse_duration("15 s")


@pytest.mark.parametrize(("text", "seconds"), [("500ms", 0.5), ("1s500ms", 1.5), ("2m100ms", 120.1)])
def test_a_duration_in_milliseconds_is_read_as_prometheus_reads_it(text: str, seconds: float) -> None:
    """`ms` is one of Prometheus' duration units (`<duration>` in its configuration docs: y, w, d, h,
    m, s, ms, concatenated largest first); a sub-second scrape interval is written this way."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1m30", "5min", "2h garbage", "x15s", "15s ", "1.5.5s", "-15s"])
def test_a_duration_with_anything_around_its_units_is_refused_not_read_in_part(text: str) -> None:
    """Prometheus refuses `1m30` or `5min` outright; reading the valid part (60 s, 300 s) would make
    doctor reason about an interval nobody configured, so the whole text must be a duration."""
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        parse_duration(text)


@pytest.mark.parametrize("builtin", GRAFANA_INTERVAL_VARIABLES)
def test_a_braced_built_in_interval_is_filled_in_like_the_plain_one(builtin: str) -> None:
    """Grafana accepts `${__rate_interval}` as well as `$__rate_interval` (every variable has both
    forms); doctor must send Prometheus the same duration for either, never the text `${...}`."""
    builtins = builtin_intervals(6 * 3600, 15, 12)
    braced = "${" + builtin[1:] + "}"
    plain_expr = f"sum(rate(x[{builtin}])) / {builtin}"
    sent = substitute(plain_expr.replace(builtin, braced), builtins, {})
    assert sent == substitute(plain_expr, builtins, {})
    assert sent == f"sum(rate(x[{builtins[builtin]}])) / {builtins[builtin]}"
    assert "$" not in sent


BACKEND = '{service_name="tiktickets-backend"}'


@pytest.mark.parametrize(
    ("pipeline", "failing", "asked"),
    [
        # The line filter itself lets nothing through: named as written, asked without it.
        ('| severity_number >= 17 |= "no such text"', '|= "no such text"', "| severity_number >= 17"),
        # A later stage fails: the field check is asked on the pipeline up to it, line filter included.
        ('|~ "pay.*" | severity_number >= 99', "| severity_number >= 99", '|~ "pay.*"'),
    ],
)
def test_an_empty_log_panel_with_a_line_filter_is_diagnosed_stage_by_stage(
    pipeline: str, failing: str, asked: str
) -> None:
    """Every query doctor rebuilds from a pipeline must be LogQL Loki accepts (`|=`, never `| =`,
    which Loki answers with a 400), and the stage that empties the panel is named as the user wrote it."""
    with loki_server() as (url, store):
        seed_logs(store)  # "payment failed" at severity 17 for every tenant
        doctor = LokiDoctor(LokiApi(Endpoint(url, "loki", 5), 3600), "the last 1 h")
        status, [cause] = doctor.diagnose(f"{BACKEND} {pipeline}")
    assert status is Status.EMPTY, cause
    assert cause.code is CauseCode.LOKI_NO_LINES
    assert f"none passes `{failing}`" in cause.detail
    assert cause.query == f"{BACKEND} {asked}"


@pytest.mark.parametrize("extra", [0, 1], ids=["exactly-the-shown-number", "one-more"])
def test_a_stream_value_nobody_sends_lists_the_values_loki_has(extra: int) -> None:
    """A selector on a value no stream has: the values Loki does hold are named, up to SHOWN_VALUES,
    with `, ...` only when Loki has more than the message shows."""
    names = [f"svc-{i:02d}" for i in range(SHOWN_VALUES + extra)]
    with loki_server() as (url, store):
        for name in names:
            store.push({"service_name": name}, "hello", {"severity_number": "9"})
        doctor = LokiDoctor(LokiApi(Endpoint(url, "loki", 5), 3600), "the last 1 h")
        status, [cause] = doctor.diagnose('{service_name="tiktickets-backend"}')
    assert status is Status.EMPTY and cause.code is CauseCode.LOKI_NO_STREAM, cause
    shown = ", ".join(names[:SHOWN_VALUES])
    assert cause.detail == (
        'no stream has service_name="tiktickets-backend" in the last 1 h; its values: '
        + (shown + ", ..." if extra else shown)
    )


class _RulesOnly:
    """A PrometheusApi that knows rules and nothing else: enough for the rule-state causes."""

    def __init__(self, states: list[RuleState]) -> None:
        self.recording_rules = {state.record: [state] for state in states}

    def count(self, _selector: str) -> int:
        return 0


def _state(**changes: Any) -> RuleState:
    values: dict[str, Any] = {
        "record": "tenant_id:x:sum", "query": "sum by (tenant_id) (x)", "labels": {}, "group": "g",
        "file": "rules.yml", "health": "ok", "last_error": "", "evaluated": True,
    }  # fmt: skip
    return RuleState(**{**values, **changes})


def test_a_rule_loaded_but_not_evaluated_yet() -> None:
    doctor = PrometheusDoctor(_RulesOnly([_state(health="unknown", evaluated=False)]), {}, {})  # type: ignore[arg-type]
    [cause] = doctor._selector(Selector("tenant_id:x:sum", ()), depth=0)
    assert cause.code is CauseCode.RULE_NOT_EVALUATED and "group 'g'" in cause.detail


@pytest.mark.parametrize(
    ("interval", "said"), [(30.0, "every 30 s"), (60.0, "every 1 min 0 s"), (90.0, "every 1 min 30 s")]
)
def test_a_rule_not_evaluated_yet_says_how_often_its_group_runs(interval: float, said: str) -> None:
    """The wait the message asks for is one group interval, so it must read as that interval: under a
    minute in seconds alone (not `0 min 30 s`), from a minute on in minutes and seconds."""
    rules = _RulesOnly([_state(health="unknown", evaluated=False, interval=interval)])
    doctor = PrometheusDoctor(rules, {}, {})  # type: ignore[arg-type]
    [cause] = doctor._selector(Selector("tenant_id:x:sum", ()), depth=0)
    assert f"(group 'g', {said}) is loaded but has not been evaluated yet" in cause.detail


def test_a_query_that_does_not_parse_is_an_error_not_a_traceback() -> None:
    doctor = PrometheusDoctor(_RulesOnly([]), {}, {})  # type: ignore[arg-type]
    status, [cause] = doctor.diagnose("sum(", exemplar=False)
    assert status is Status.ERROR and cause.code is CauseCode.QUERY_ERROR


def test_a_url_that_is_not_prometheus_is_named_so() -> None:
    with loki_server() as (url, _), pytest.raises(SourceError) as error:
        Endpoint(url, "prometheus", 5).get("/api/v1/status/buildinfo", BUILD_INFO)
    assert error.value.code is CauseCode.NOT_PROMETHEUS and "not a prometheus API root" in error.value.detail
    # Grafana's own API answers JSON, but not in Loki's envelope.
    with FakeGrafana() as grafana, pytest.raises(SourceError) as error:
        Endpoint(grafana.url, "loki", 5).get("/api/health", NAMES)
    assert error.value.code is CauseCode.NOT_LOKI


def test_a_datasource_that_never_answers_costs_one_timeout() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(SourceError) as error:
            Endpoint(url, "prometheus", 0.5).get("/api/v1/status/buildinfo", BUILD_INFO)
    assert error.value.code is CauseCode.UNREACHABLE and "no answer within 0.5 s" in error.value.detail


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PROMETHEUS_URL", "prometheus:9090", "is not an http:// or https:// URL"),
        ("LOKI_URL", "http://admin:secret-4711@loki:3100", "carries credentials"),
        ("DOCTOR_TIMEOUT", "0", "greater than 0"),
    ],
)
def test_bad_settings_are_named_and_exit_2(variable: str, value: str, message: str) -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "doctor"],
        env={**os.environ, variable: value}, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 2
    assert variable in completed.stderr and message in completed.stderr
    assert "Traceback" not in completed.stderr and "secret-4711" not in completed.stderr + completed.stdout


def test_a_terminal_gets_a_table_and_a_pipe_gets_plain_lines() -> None:
    report = PanelReport("overview", "Sessions")
    report.add(
        Status.EMPTY, [Cause(CauseCode.STALE, "the newest sample of `x` is 7 min 0 s old", "timestamp(x)")]
    )
    healthy = PanelReport("overview", "Latency")
    for terminal in (True, False):
        output = io.StringIO()
        show([report, healthy], Console(file=output, force_terminal=terminal, width=160, color_system=None))
        text = output.getvalue()
        assert ("┃" in text) is terminal  # rich's table border only on a terminal
        assert "stale: the newest sample of `x` is 7 min 0 s old" in text and "timestamp(x)" in text
    assert (
        "empty    overview / Sessions" in output.getvalue()
        and "ok       overview / Latency" in output.getvalue()
    )
    assert summary([report, healthy], 1, "Prometheus at p") == (
        "1 ok, 0 suspect, 1 empty, 0 error (2 panels, Prometheus at p); "
        "1 panel(s) on other datasources not checked."
    )


def test_the_terminal_table_has_a_row_for_every_ok_panel() -> None:
    """The summary under the table counts the ok panels: each must be in the table too, as one row
    with its title and `ok` and an empty cause, or a reader cannot tell which panels were checked
    (and fine) from which were never looked at."""
    empty = PanelReport("overview", "Sessions")
    empty.add(
        Status.EMPTY, [Cause(CauseCode.STALE, "the newest sample of `x` is 7 min 0 s old", "timestamp(x)")]
    )
    healthy = [PanelReport("overview", "Latency"), PanelReport("tenant", "Error ratio")]
    output = io.StringIO()
    show([empty, *healthy], Console(file=output, force_terminal=True, width=160, color_system=None))
    rows = [line for line in output.getvalue().splitlines() if line.startswith("│")]
    for report in healthy:
        row = rf"│ {report.dashboard} +│ {report.panel} +│ ok +│ +│ +│"
        assert len([line for line in rows if re.fullmatch(row, line)]) == 1, output.getvalue()
    assert len(rows) == 3, output.getvalue()  # one row per panel: the empty one has one cause


def _rule(datasource: str, **changes: Any) -> RuleReport:
    values: dict[str, Any] = {
        "datasource": datasource, "kind": "alerting", "name": "TicketsDown", "group": "g", "file": "r.yml",
        "health": "err", "last_error": "many-to-many matching not allowed", "interval_s": 60.0,
    }  # fmt: skip
    return RuleReport(**{**values, **changes})


def test_rule_lines_name_the_prometheus_only_when_there_are_several() -> None:
    """With one Prometheus the datasource is noise; with two, a line without it could be either's."""
    one = rule_lines([_rule("prom-a"), _rule("prom-a", name="Other", kind="recording")])
    assert one == [
        "rules not ok:",
        "err      group g / alert TicketsDown: many-to-many matching not allowed",
        "err      group g / record Other: many-to-many matching not allowed",
    ]
    two = rule_lines([_rule("prom-a"), _rule("prom-b")])
    assert two[1:] == [
        "err      prom-a: group g / alert TicketsDown: many-to-many matching not allowed",
        "err      prom-b: group g / alert TicketsDown: many-to-many matching not allowed",
    ]
    assert rule_lines([]) == []


def test_a_rule_in_err_without_an_error_text_says_so() -> None:
    """Prometheus may report `health: err` with an empty lastError: the line must not end in `: `."""
    [_, line] = rule_lines([_rule("p", last_error="")])
    assert line.endswith("alert TicketsDown: no lastError given")


def test_a_cause_without_a_query_gets_no_explore_line() -> None:
    """`explore:` is followed by a query to paste; a cause that has none (a datasource failure) gets no
    line inviting the user to paste nothing."""
    report = PanelReport("overview", "Sessions")
    report.add(Status.ERROR, [Cause(CauseCode.UNREACHABLE, "no answer from p within 5 s")])
    report.add(Status.EMPTY, [Cause(CauseCode.STALE, "the newest sample is old", "timestamp(x)")])
    assert lines([report]) == [
        "error    overview / Sessions",
        "         unreachable: no answer from p within 5 s",
        "         stale: the newest sample is old",
        "           explore: timestamp(x)",
    ]


@pytest.mark.parametrize(
    ("value", "escaped"),
    [(char, "\\\\" + char) for char in "$^*{}[]'+?.()|"] + [("\\", "\\\\\\\\")],
)
def test_every_regex_metacharacter_is_escaped_as_grafana_escapes_it(value: str, escaped: str) -> None:
    """Grafana escapes each of `$^*{}[]'+?.()|` (and the backslash) in a multi-value or All-able
    variable's value: one backslash for the regex, doubled for the PromQL string. A tenant id `a|b`
    left unescaped would select tenants `a` and `b`."""
    assert regex_escape(f"a{value}b") == f"a{escaped}b"


@pytest.mark.parametrize("form", ["${tenant}", "${tenant:raw}", "${tenant:regex}", "$tenant"])
def test_every_written_form_of_a_variable_is_filled_in(form: str) -> None:
    """Grafana's `${name:format}` is the same variable with a format: doctor must send its value, not the
    text `${tenant:raw}`, which Prometheus would read as a label value nobody has."""
    expr = f'sum(x{{tenant_id=~"{form}"}})'
    assert substitute(expr, {}, {"tenant": "acme"}) == 'sum(x{tenant_id=~"acme"})'


@pytest.mark.parametrize(
    ("range_s", "said"),
    [(3600, "the last 1 h"), (6 * 3600, "the last 6 h"), (5400, "the last 1.5 h"), (1800, "the last 30 min")],
)
def test_the_window_a_log_cause_names_reads_as_the_dashboards_time_range(range_s: float, said: str) -> None:
    """Log causes say which window was searched ("no line ... in the last 1 h"): a dashboard's `now-1h`
    must read as one hour, as the time picker shows it, not as 60 minutes; below an hour, minutes."""
    assert _range_label(range_s) == said


@pytest.mark.parametrize(
    ("interval", "since", "said"),
    [
        (60.0, 45.0, "Next run in 15 s."),
        (60.0, 60.0, "Next run in 0 s."),  # due now: not late yet
        (60.0, 75.0, "Its next run is overdue by 15 s"),
        (0.0, 45.0, "It records at its group's next run."),  # interval unknown: no number made up
    ],
)
def test_a_warming_up_rule_says_when_it_runs_next(interval: float, since: float, said: str) -> None:
    assert _next_run(_state(interval=interval), since).startswith(said)


@pytest.mark.parametrize(
    ("time_from", "seconds"),
    [("now-30s", 30), ("now-15m", 900), ("now-6h", 21600), ("now-7d", 604800), ("now-2w", 1209600),
     ("now-1y", 31536000)],
)  # fmt: skip
def test_every_relative_time_range_of_the_picker_is_read(time_from: str, seconds: float) -> None:
    """A dashboard saved on "Last 7 days" is asked about 7 days (its `$__range`, its interval), not
    the one hour doctor falls back to for a range it cannot read."""
    assert range_seconds(time_from) == seconds
