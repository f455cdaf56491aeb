"""What a `doctor` run decides before and after it asks anything: which panels it checks (nested in rows
too), which datasource a query goes to, how a selection names its cause, when a datasource counts as
down, and the facts the exit code is taken from (nothing reachable, nothing asked, what was left out)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from dashboards_as_code.doctor.causes import Cause, CauseCode, Skipped, Status
from dashboards_as_code.doctor.http import Endpoint, SourceError
from dashboards_as_code.doctor.run import (
    DoctorRun,
    Reached,
    Selection,
    _datasource,
    _opening_text,
    _panels,
    _range_of,
)
from dashboards_as_code.grafana_math import range_seconds
from tests.loki_server.server import LokiStore, loki_server

ENDPOINT = Endpoint("http://p", "prometheus", 5)


def test_every_panel_with_queries_is_checked_rows_only_for_what_they_hold() -> None:
    document: dict[str, Any] = {
        "panels": [
            {"id": 1, "type": "stat", "targets": [{"expr": "up"}]},
            {"id": 2, "type": "text"},  # no query: nothing to ask
            {"id": 3, "type": "row", "targets": [{"expr": "x"}], "panels": [
                {"id": 4, "type": "timeseries", "targets": [{"expr": "y"}]},
                {"id": 5, "type": "text", "targets": []},
            ]},
            {"id": 6, "type": "row", "panels": None},
        ]
    }  # fmt: skip
    assert [panel["id"] for panel in _panels(document)] == [1, 4]


def test_a_querys_own_datasource_wins_over_its_panels() -> None:
    panel = {"datasource": {"type": "prometheus", "uid": "prom"}}
    assert _datasource(panel, {"datasource": {"type": "loki", "uid": "logs"}}) == {
        "type": "loki",
        "uid": "logs",
    }
    assert _datasource(panel, {}) == {"type": "prometheus", "uid": "prom"}
    assert _datasource({}, {}) == {"type": "", "uid": ""}


def test_a_selection_names_its_cause_and_attaches_its_values() -> None:
    cause = Cause(CauseCode.STALE, "old", "timestamp(x)")
    chosen = (("tenant", "acme"),)
    named = Selection(False, "$tenant = acme", {"tenant": "acme"}, chosen).name(cause)
    assert named == Cause(CauseCode.STALE, "with $tenant = acme: old", "timestamp(x)", chosen)
    plain = Selection(True, "", {}, ()).name(cause)
    assert plain == cause  # no variables: no "with : " prefix


def test_the_opening_value_reads_as_all_only_where_the_variable_has_all() -> None:
    assert _opening_text({"includeAll": True}, "__all__") == "All (`__all__`)"
    assert _opening_text({}, "acme") == "acme"


def test_the_range_asked_about_is_the_dashboards_or_grafanas_opening_one() -> None:
    board = SimpleNamespace(document={"time": {"from": "now-7d", "to": "now"}})
    assert _range_of(board) == 7 * 86400  # type: ignore[arg-type]
    assert _range_of(SimpleNamespace(document={"time": None})) == range_seconds("now-6h")  # type: ignore[arg-type]


def test_the_first_unreachable_answer_marks_a_datasource_down_and_only_that() -> None:
    reached = Reached(ENDPOINT)
    reached.learn([Cause(CauseCode.QUERY_ERROR, "bad query"), Cause(CauseCode.BAD_ANSWER, "odd")])
    assert reached.failure is None
    reached.learn([Cause(CauseCode.UNREACHABLE, "first timeout")])
    reached.learn([Cause(CauseCode.UNREACHABLE, "second timeout")])
    assert reached.failure is not None and reached.failure.detail == "first timeout"


def _run(**fields: Any) -> DoctorRun:
    return DoctorRun(None, lambda kind, uid: ENDPOINT, **fields)  # type: ignore[arg-type]


def test_nothing_is_reachable_only_when_every_datasource_asked_failed() -> None:
    down = Reached(ENDPOINT, failure=SourceError(CauseCode.UNREACHABLE, "p: cannot connect"))
    up = Reached(ENDPOINT, answered=True)
    assert not _run().nothing_reachable  # nothing asked is not "nothing reachable"
    assert _run(reached={("prometheus", "a"): down}).nothing_reachable
    assert not _run(reached={("prometheus", "a"): down, ("loki", "b"): up}).nothing_reachable


def test_nothing_was_asked_when_every_datasource_was_left_out() -> None:
    assert _run(left_out={"loki": ["d / p"]}).nothing_asked
    assert not _run().nothing_asked  # no panel on any datasource: nothing left out either
    up = Reached(ENDPOINT, answered=True)
    assert not _run(left_out={"loki": ["d / p"]}, reached={("prometheus", "a"): up}).nothing_asked


def test_a_datasource_left_out_is_listed_only_with_its_panels() -> None:
    run = _run(skip={"loki": "LOKI_URL is empty", "prometheus": "PROMETHEUS_URL is empty"},
               left_out={"loki": ["d / logs"], "prometheus": []})  # fmt: skip
    assert run.skipped_sources == [Skipped("loki", "LOKI_URL is empty", ("d / logs",))]


def test_failures_are_one_per_datasource_then_the_rule_lists() -> None:
    refused = SourceError(CauseCode.UNAUTHORIZED, "l: refused")
    rules = SourceError(CauseCode.BAD_ANSWER, "p/api/v1/rules: odd")
    run = _run(
        reached={
            ("prometheus", "a"): Reached(ENDPOINT, answered=True),
            ("loki", "b"): Reached(ENDPOINT, refused),
        },
        rule_failures=[rules],
    )
    assert run.failures == [refused, rules]


def test_a_log_panel_is_asked_over_the_dashboards_range_not_the_probes_minute() -> None:
    """doctor probes Loki over the last minute, but a panel is diagnosed over the dashboard's range: a
    stream whose only line is ten minutes old shows that line on a 6 h dashboard, so the panel is ok
    (asked over one minute it would be reported empty while Grafana shows the line)."""
    store = LokiStore()
    store.push({"service_name": "tiktickets-backend"}, "an old line", ns=time.time_ns() - 10 * 60 * 10**9)
    with loki_server(store) as (url, _):
        status, causes = _run()._target(
            "loki",
            reached=Reached(Endpoint(url, "loki", 5)),
            panel={"gridPos": {"w": 24}},
            target={"expr": '{service_name="tiktickets-backend"}'},
            range_s=range_seconds("now-6h"),
            variables={},
        )
    assert status is Status.OK, causes
