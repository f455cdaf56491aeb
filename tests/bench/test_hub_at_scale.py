"""The hub benchmark's pure parts: reading what the programs print, and the arithmetic of its figures.

The benchmark itself runs for minutes on real programs (bench/hub_at_scale.py); what it computes from
their output is checked here, with inputs written as the programs and the kernel document them.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bench.hub_at_scale import (
    FINDINGS,
    LOAD_RUNS,
    VIEWS,
    DemoStatus,
    Prediction,
    RingCoverage,
    _dashboard,
    _instance_cost,
    _rss_growth,
    combined_status,
    dashboard_load,
    demo_instances,
    last_demo_status,
    machine_cpu_ticks,
    parse_exposition,
    per_thousand,
    proc_cpu_seconds,
    proc_status_kib,
    real_tenants,
    recorded_rows_per_tenant,
    relative_error,
    ring_coverage,
    run_key,
    share_of,
    tenant_budgets,
    tenant_recorded,
    tenant_signals,
    write_results,
)
from dashboards_as_code.defaults import ALL_TENANTS, TENANT_LABEL
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import RecordingRule
from dashboards_as_code.queries import PromQL
from monitoring.local_stack import DEMO_SERVICE, Program
from tests.conftest import REPO
from tests.local_http import QuietHandler, serving

STATUS = (
    "demo: {sent} requests sent, {errors} errors, {seen}/{tenants} tenants, {failures} export failures "
    "(OTLP http/protobuf to http://127.0.0.1:4318)\n"
)
"""monitoring/demo/demo.js, status(): the line the demo prints every DEMO_STATUS_INTERVAL."""


def test_the_newest_demo_status_line_is_read() -> None:
    log = (
        "demo: backend on 127.0.0.1:40001, 3000 tenants, 150 requests/s, 0.1 % fail with a 5xx\n"
        + STATUS.format(sent=750, errors=1, seen=700, tenants=3000, failures=0)
        + STATUS.format(sent=45210, errors=38, seen=2999, tenants=3000, failures=2)
    )
    status = last_demo_status(log)
    assert status is not None
    assert (status.sent, status.errors, status.tenants_seen, status.tenants, status.export_failures) == (
        45210,
        38,
        2999,
        3000,
        2,
    )
    assert last_demo_status("demo: backend on 127.0.0.1:40001, 3000 tenants\n") is None


def test_an_exposition_is_read_as_series_and_values() -> None:
    text = (
        "# HELP prometheus_tsdb_head_series Total number of series in the head block.\n"
        "# TYPE prometheus_tsdb_head_series gauge\n"
        "prometheus_tsdb_head_series 31337\n"
        "prometheus_tsdb_exemplar_last_exemplars_timestamp_seconds 1.764731e+09\n"
        'prometheus_http_requests_total{code="200",handler="/metrics"} 12\n'
        "go_gc_gogc_percent NaN\n"
    )
    found = parse_exposition(text)
    assert found["prometheus_tsdb_head_series"] == 31337
    assert found["prometheus_tsdb_exemplar_last_exemplars_timestamp_seconds"] == 1_764_731_000
    assert found['prometheus_http_requests_total{code="200",handler="/metrics"}'] == 12
    assert len(found) == 4  # comments are no series


def test_cpu_time_is_utime_plus_stime_whatever_the_process_name() -> None:
    # proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    # utime stime ..., in clock ticks; comm may hold spaces and parentheses.
    stat = "4242 (otel (odd) name) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 150 0 0 20 0 30 0"
    assert proc_cpu_seconds(stat, ticks_per_second=100) == 4.0
    assert proc_status_kib("Name:\tprometheus\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n", "VmRSS") == 102400
    assert proc_status_kib("Name:\tzombie\n", "VmRSS") == 0


def test_busy_ticks_leave_out_idle_and_iowait() -> None:
    # proc(5): cpu user nice system idle iowait irq softirq steal guest guest_nice
    busy, total = machine_cpu_ticks("cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\n")
    assert (busy, total) == (160, 1000)


def test_only_real_tenants_count() -> None:
    found = [
        {TENANT_LABEL: "tenant-001"},
        {TENANT_LABEL: "tenant-001", "status_code": "STATUS_CODE_ERROR"},
        {TENANT_LABEL: "tenant-002"},
        {TENANT_LABEL: ALL_TENANTS},
        {TENANT_LABEL: "unknown"},
        {"otel_metric_overflow": "true"},
    ]
    assert real_tenants(found) == {"tenant-001", "tenant-002"}


def test_the_prediction_adds_budgets_and_recorded_rows_per_tenant_to_what_does_not_grow() -> None:
    assert Prediction(
        raw_per_tenant=5, recorded_per_tenant=4, tenants=3000, tenant_independent=700
    ).series == (9 * 3000 + 700)
    assert relative_error(predicted=110, measured=100) == pytest.approx(0.10)
    assert relative_error(predicted=80, measured=100) == pytest.approx(-0.20)
    with pytest.raises(ValueError, match="nothing measured"):
        relative_error(predicted=1, measured=0)


def test_recorded_rows_per_tenant_follow_the_labels_each_rule_keeps() -> None:
    contract = load_project(REPO).contract
    widest = max(tenant_signals(contract), key=lambda s: s.tenant_budget.series if s.tenant_budget else 0)
    assert widest.tenant_budget is not None
    tenant_only = RecordingRule(
        record="tenant_id:a:sum",
        expr=PromQL("sum by (tenant_id) (a)", (widest,), labels=frozenset({TENANT_LABEL})),
        grafana_unit="short",
    )
    with_status = RecordingRule(
        record="tenant_id_status_code:b:rate5m",
        expr=PromQL(
            "sum by (tenant_id, status_code) (b)", (widest,), labels=frozenset({TENANT_LABEL, "status_code"})
        ),
        grafana_unit="reqps",
    )
    all_row = RecordingRule(
        record="tenant_id_status_code:b:rate5m",
        expr=PromQL("sum by (status_code) (b)", (widest,), labels=frozenset({"status_code"})),
        grafana_unit="reqps",
        labels={TENANT_LABEL: ALL_TENANTS},
    )
    assert recorded_rows_per_tenant([tenant_only, with_status, all_row]) == 1 + widest.tenant_budget.series
    assert recorded_rows_per_tenant([all_row]) == 0
    unbudgeted = next(s for s in contract.metrics if s.tenant_budget is None)
    orphan = RecordingRule(
        record="tenant_id_route:c:rate5m",
        expr=PromQL(
            "sum by (tenant_id, route) (c)", (unbudgeted,), labels=frozenset({TENANT_LABEL, "route"})
        ),
        grafana_unit="reqps",
    )
    with pytest.raises(ValueError, match="tenant_id_route:c:rate5m"):
        recorded_rows_per_tenant([orphan])


def test_the_projects_per_tenant_recorded_series_are_the_tenant_scoped_records() -> None:
    project = load_project(REPO)
    recorded = tenant_recorded(project.rule_groups)
    expected = {r.record for g in project.rule_groups for r in g.recording if TENANT_LABEL in r.series_labels}
    assert set(recorded) == expected and expected
    for name, rules in recorded.items():
        assert {r.record for r in rules} == {name}


def test_the_ring_reaches_back_to_its_oldest_exemplar_once_full_and_is_extrapolated_before() -> None:
    assert ring_coverage(100_000, 100_000, 50.0, oldest=1_000.0, now=2_800.0) == RingCoverage(1_800.0, False)
    assert ring_coverage(100_000, 4_000, 50.0, oldest=1_000.0, now=1_080.0) == RingCoverage(2_000.0, True)
    assert ring_coverage(100_000, 0, 0.0, oldest=0.0, now=10.0) is None
    assert share_of(1_800, 3_600) == 0.5
    assert share_of(7_200, 3_600) == 1.0


def test_memory_per_thousand_tenants_and_its_growth_over_the_smallest_run() -> None:
    assert per_thousand(600, 3000) == 200
    small = {"label": "x", "tenants": 1000, "rss_peak_mib": {"prometheus": 300.0}}
    large = {"label": "x", "tenants": 3000, "rss_peak_mib": {"prometheus": 500.0}}
    other = {"label": "y", "tenants": 500, "rss_peak_mib": {"prometheus": 100.0}}
    cell = _rss_growth([small, large, other])
    assert cell(large).startswith("100 MiB")  # 200 MiB more for 2,000 more tenants
    assert cell(small).startswith("—")


def test_the_hand_written_findings_survive_a_new_table(tmp_path: Path) -> None:
    results = tmp_path / "hub.md"
    run = {"tenants": 1000, "label": "i21", "versions": {"node": "20.20.2"}}
    write_results(results, {"1000 | i21": run})
    results.write_text(results.read_text() + f"\n{FINDINGS}\n\nThe ring fills in 20 minutes.\n")
    write_results(results, {"1000 | i21": run, "3000 | i21": {**run, "tenants": 3000}})
    text = results.read_text()
    assert "The ring fills in 20 minutes." in text and text.count(FINDINGS) == 1
    assert "| 1,000 tenants<br>i21 | 3,000 tenants<br>i21 |" in text


def test_each_raw_tenant_series_is_shown_with_its_signals_budget() -> None:
    contract = load_project(REPO).contract
    budgets = tenant_budgets(contract)
    signals = tenant_signals(contract)
    assert signals and set(budgets) == {name for signal in signals for name in signal.series_names}
    for signal in signals:
        assert signal.tenant_budget is not None
        assert all(budgets[name] == signal.tenant_budget.series for name in signal.series_names)


def test_instances_status_lines_add_up_and_the_fewest_tenants_seen_count() -> None:
    first, second = DemoStatus(100, 1, 3000, 3000, 0), DemoStatus(90, 2, 2998, 3000, 1)
    assert combined_status([first, second]) == DemoStatus(190, 3, 2998, 3000, 1)
    assert combined_status([first, None]) is None  # an instance without a status line: nothing to add up


def _program(service: str, env: dict[str, str] | None = None) -> Program:
    return Program(service, service, ["x"], env or {}, None, "", "")


def test_the_demo_becomes_n_instances_each_told_which_it_is() -> None:
    collector, demo = _program("collector"), _program(DEMO_SERVICE, {"DEMO_TENANTS": "5"})
    assert demo_instances([collector, demo], 1) == [collector, demo]
    found = demo_instances([collector, demo], 3)
    assert [p.service for p in found] == ["collector", DEMO_SERVICE, f"{DEMO_SERVICE}-2", f"{DEMO_SERVICE}-3"]
    assert [p.env.get("DEMO_INSTANCE") for p in found[1:]] == ["1/3", "2/3", "3/3"]
    assert all(p.env["DEMO_TENANTS"] == "5" for p in found[1:])
    assert "DEMO_INSTANCE" not in demo.env  # the found program is left as it was


def test_a_further_instance_is_measured_against_one_instance_with_the_same_traffic() -> None:
    traffic = {"tenants": 1000, "rps": 150.0, "error_ratio": 0.3, "socket_tenants": 1000, "minutes": 5.0}
    one = {**traffic, "label": "a", "instances": 1, "head_series": 9_600, "tenant_independent": 600}
    two = {**traffic, "label": "a", "instances": 2, "head_series": 11_700, "tenant_independent": 700}
    other = {**one, "error_ratio": 0.001, "head_series": 50_000}  # other traffic: not a base
    cell = _instance_cost([other, one, two])
    assert cell(two).startswith("2.00")  # (11,000 - 9,000) series over 1,000 tenants
    three = {**two, "instances": 3, "head_series": 13_700, "tenant_independent": 700}
    assert cell(three).startswith("2.00")  # 4,000 more over two further instances
    assert cell(one).startswith("—")
    assert _instance_cost([other, two])(two).startswith("— (no one-instance column")


def test_a_run_replaces_only_the_stored_column_of_the_same_tenants_checkout_and_setup() -> None:
    base: dict[str, Any] = {"tenants": 1000, "label": "main abc", "instances": 1, "error_ratio": 0.001}
    assert run_key(base) == "1000 | main abc"  # as stored before the setup was part of the key
    assert run_key({"tenants": 1000, "label": "main abc"}) == run_key(base)  # a column from before
    two = {**base, "instances": 2}
    full = {**base, "error_ratio": 0.3, "socket_tenants": 1000}
    assert len({run_key(base), run_key(two), run_key(full), run_key({**full, "instances": 2})}) == 4
    # The worst case of the per-tenant latency SLO (--slow-ratio) is its own column, named so.
    slow = {**full, "slow_ratio": 0.5}
    assert run_key(slow) != run_key(full) and "50% slow" in run_key(slow)
    assert run_key({**base, "slow_ratio": 0.0}) == run_key(base)  # 0, as a run from before the knob


class _RecordingPrometheus(QuietHandler):
    """Answers every query with an empty success, and keeps what was asked."""

    asked: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        url = urllib.parse.urlsplit(self.path)
        self.asked.append({"path": url.path, **dict(urllib.parse.parse_qsl(url.query))})
        self.reply(200, b'{"status": "success", "data": {"resultType": "vector", "result": []}}')


def test_a_dashboard_opens_with_each_panels_intervals_and_each_variables_opening_value() -> None:
    """What Grafana sends when the dashboard opens: collapsed rows' panels too, `$__range` as the view,
    `$__interval` from the panel's width, a single-select tenant at the first of the picker's values
    and an All-able one at its All value; other datasources are not Prometheus' business."""

    def target(expr: str, *, instant: bool = False, kind: str = "prometheus") -> dict[str, Any]:
        return {"refId": "A", "expr": expr, "instant": instant, "datasource": {"type": kind, "uid": "x"}}

    document = {
        "templating": {
            "list": [
                {"name": "tenant", "type": "query", "includeAll": False, "current": {}},
                {"name": "plan", "type": "query", "includeAll": True, "allValue": ".*"},
            ]
        },
        "panels": [
            {"title": "wide", "gridPos": {"w": 24}, "targets": [target('rate(x{t="$tenant"}[$__interval])')]},
            {
                "title": "a collapsed row",
                "type": "row",
                "panels": [
                    {
                        "title": "inside",
                        "gridPos": {"w": 6},
                        "targets": [target('y{p=~"$plan"} offset $__range')],
                    }
                ],
            },
            {"title": "logs", "gridPos": {"w": 24}, "targets": [target('{t="$tenant"}', kind="loki")]},
        ],
    }
    _RecordingPrometheus.asked = []
    with serving(_RecordingPrometheus) as url:
        load = dashboard_load(url, 1_000_000.0, document, ["tenant-001", "tenant-002"])
    assert load["variables"] == {"tenant": "tenant-001", "plan": ".*"}
    hour = [a for a in _RecordingPrometheus.asked if a["start"] == str(1_000_000.0 - 3600)]
    assert len(_RecordingPrometheus.asked) == LOAD_RUNS * 2 * len(VIEWS)  # two Prometheus targets per load
    queries = {a["query"]: a for a in hour}
    # 1 h over a 24-wide panel: 3600 s / ~1,900 points rounds to 2 s, under the 15 s scrape: 15 s.
    assert queries['rate(x{t="tenant-001"}[15s])']["step"] == "15"
    assert 'y{p=~".*"} offset 3600s' in queries
    assert load["1h"]["queries"] == 2 and load["7d"]["queries"] == 2
    # The table shows each dashboard's load at each view, with the values it opened on.
    cell = _dashboard("TikTickets - Tenant", "1h")({"dashboards": {"TikTickets - Tenant": load}})
    assert "(2 queries;" in cell and "$tenant = 'tenant-001'" in cell, cell
