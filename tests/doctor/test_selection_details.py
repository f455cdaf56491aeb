"""Which selections a `doctor` run tries and how it asks for a variable's values, against a fake
Prometheus: three real values besides the opening one by default, never the All value itself, the
variable's own selector over the dashboard's range; and which variables a left-out datasource blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from dashboards_as_code.doctor.causes import Cause, CauseCode, PanelReport, Status
from dashboards_as_code.doctor.http import Endpoint
from dashboards_as_code.doctor.run import DoctorRun, Reached, Selection, _left_out_variable, _range_label

NOW = 1_800_000_000.0
TENANTS = ["acme", "globex", "initech", "umbrella", "wayne"]


@dataclass
class FakePrometheus:
    values: list[str]
    now: float = NOW
    asked: list[tuple[str, str | None, float | None]] = field(default_factory=list)

    def label_values(self, label: str, selector: str | None = None, start: float | None = None) -> list[str]:
        self.asked.append((label, selector, start))
        return self.values


def _variable(**changes: Any) -> dict[str, Any]:
    variable = {
        "name": "tenant",
        "type": "query",
        "datasource": {"type": "prometheus", "uid": "prom"},
        "query": {"query": 'label_values(up{job="tickets"}, tenant_id)'},
        "includeAll": True,
        "multi": False,
        "allValue": "__all__",
    }
    return {**variable, **changes}


def _run(api: FakePrometheus) -> DoctorRun:
    run = DoctorRun(documents=None, endpoint_for=lambda kind, uid: Endpoint("http://p", kind, 5))  # type: ignore[arg-type]
    run.reached[("prometheus", "prom")] = Reached(Endpoint("http://p", "prometheus", 5), None, api, True)  # type: ignore[arg-type]
    return run


def _tried(run: DoctorRun, *variables: dict[str, Any], range_s: float = 3600) -> list[str]:
    board = SimpleNamespace(uid="d", document={"templating": {"list": list(variables)}})
    return [s.label for s in run._selections(board, range_s)]  # type: ignore[arg-type]


def test_three_real_values_are_tried_besides_all_by_default() -> None:
    assert _tried(_run(FakePrometheus(TENANTS)), _variable()) == [
        "$tenant = All (`__all__`)",
        "$tenant = acme",
        "$tenant = globex",
        "$tenant = initech",
    ]


def test_the_all_value_is_not_tried_as_a_tenant() -> None:
    """A series may carry the All row's own value (`tenant_id="__all__"`): it is All, not a tenant."""
    tried = _tried(_run(FakePrometheus(["__all__", "acme"])), _variable())
    assert tried == ["$tenant = All (`__all__`)", "$tenant = acme"]
    without_all = _variable(includeAll=False)
    tried = _tried(_run(FakePrometheus(["__all__", "acme", "globex"])), without_all)
    assert tried == ["$tenant = acme", "$tenant = globex"]


def test_a_variables_values_are_asked_with_its_selector_over_the_dashboards_range() -> None:
    api = FakePrometheus(TENANTS)
    _tried(_run(api), _variable(), range_s=6 * 3600)
    assert api.asked == [("tenant_id", 'up{job="tickets"}', NOW - 6 * 3600)]


def test_a_variable_that_is_not_a_query_is_tried_at_its_options() -> None:
    interval = {"name": "window", "type": "interval", "options": [{"value": "1m"}, {"value": "5m"}]}
    api = FakePrometheus(TENANTS)
    assert _tried(_run(api), interval) == ["$window = 1m", "$window = 5m"]
    assert api.asked == []


def test_a_range_of_an_hour_or_more_reads_in_hours_and_a_shorter_one_in_minutes() -> None:
    assert _range_label(3600) == "the last 1 h"
    assert _range_label(6 * 3600) == "the last 6 h"
    assert _range_label(1800) == "the last 30 min"


def _loki_board(**variable: Any) -> Any:
    tenant = {"name": "tenant", "type": "query", "datasource": {"type": "loki", "uid": "l"}, **variable}
    return SimpleNamespace(document={"templating": {"list": [tenant]}})


def test_every_written_form_of_a_variable_from_a_left_out_datasource_blocks_its_panel() -> None:
    skip = {"loki": "LOKI_URL is empty"}
    for written in ("$tenant", "${tenant}", "${tenant:regex}", "[[tenant]]"):
        panel = {"targets": [{"expr": f'x{{tenant_id="{written}"}}'}]}
        assert _left_out_variable(_loki_board(), panel, skip) == "loki", written
    assert _left_out_variable(_loki_board(), {"targets": [{"expr": 'x{a="$tenants"}'}]}, skip) is None


def test_a_variable_with_all_falls_back_on_all_rather_than_blocking_its_panel() -> None:
    panel = {"targets": [{"expr": 'x{tenant_id=~"$tenant"}'}]}
    assert _left_out_variable(_loki_board(includeAll=True), panel, {"loki": "LOKI_URL is empty"}) is None


ALL_ROW = Selection(True, "$tenant = All (`__all__`)", {"tenant": "__all__"}, (("tenant", "__all__"),))
ACME = Selection(False, "$tenant = acme", {"tenant": "acme"}, (("tenant", "acme"),))


def _panel_at(answers: dict[str, tuple[Status, list[Cause]]]) -> PanelReport:
    """One panel diagnosed at All, then at acme: each selection's diagnosis as `answers` gives it."""
    run = _run(FakePrometheus(TENANTS))
    run.selections["d"] = [ALL_ROW, ACME]

    def target(kind: str, **asked: Any) -> tuple[Status, list[Cause]]:
        return answers[asked["variables"]["tenant"]]

    run._target = target  # type: ignore[method-assign]
    board = SimpleNamespace(uid="d", document={"time": {"from": "now-1h"}})
    panel = {"title": "p", "targets": [{"expr": "x", "datasource": {"type": "prometheus", "uid": "prom"}}]}
    return run._panel(board, panel)  # type: ignore[arg-type]


def test_a_panel_empty_at_all_names_no_tenant_as_the_cause() -> None:
    """ "Empty at All: say so, so that nobody looks for the cause at one tenant": a panel empty for
    everyone is reported with the causes found at All only, not also with what each tenant found."""
    at_all = Cause(CauseCode.SERIES_MISSING, "no series `x`", "x")
    at_acme = Cause(CauseCode.LABEL_MISMATCH, 'no `x` series has tenant_id="acme"', "x")
    report = _panel_at({"__all__": (Status.EMPTY, [at_all]), "acme": (Status.EMPTY, [at_acme])})
    assert report.status is Status.EMPTY
    assert report.causes == [ALL_ROW.name(at_all)]


def test_a_query_that_fails_for_one_tenant_only_makes_the_panel_suspect_at_that_tenant() -> None:
    """Data at All, a failing query at `$tenant = acme` (a value that breaks the query once filled
    in): the panel lies about acme just as if it were empty there, so it is suspect, with the failure
    said of that selection; it is not the panel-wide error a failure at All would be."""
    failure = Cause(CauseCode.QUERY_ERROR, "bad regex", "x")
    report = _panel_at({"__all__": (Status.OK, []), "acme": (Status.ERROR, [failure])})
    assert report.status is Status.SUSPECT
    assert report.causes == [ACME.name(failure)]
    assert report.causes[0].detail == "with $tenant = acme: bad regex"


def test_a_suspect_panel_at_all_keeps_its_causes_unattached_to_a_selection() -> None:
    """Only emptiness at All is said of the selection ("with $tenant = All ..."); a panel that shows
    data at All but breaks the contract (series without tenant_id) is suspect whatever is selected,
    so its cause carries no selection, as `Cause.selection` documents for causes that do not depend
    on it."""
    untenanted = Cause(CauseCode.LABEL_MISSING, "3 `x` series carry no tenant_id", 'x{tenant_id=""}')
    report = _panel_at({"__all__": (Status.SUSPECT, [untenanted]), "acme": (Status.OK, [])})
    assert report.status is Status.SUSPECT
    assert report.causes == [untenanted]


def test_a_sampled_value_of_a_single_select_variable_with_all_is_regex_escaped() -> None:
    """Grafana regex-escapes the value of any variable that offers All (its value lands in `=~`), not
    only of a multi-value one: tenant `a.b` is sent as `a\\\\.b`, and still named `a.b` to a person."""
    selections = list(_run(FakePrometheus(["a.b"]))._selections(_board(_variable()), 3600))
    assert [(s.variables, s.chosen) for s in selections if not s.at_all] == [
        ({"tenant": "a\\\\.b"}, (("tenant", "a.b"),))
    ]


def _board(*variables: dict[str, Any]) -> Any:
    return SimpleNamespace(uid="d", document={"templating": {"list": list(variables)}})
