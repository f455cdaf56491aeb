"""panel-unit: a unit that does not display what the query returns is refused, with the units that do;
a recording rule that declares a unit its expression does not return is refused, so a wrong unit cannot
pass through a recorded series."""

from __future__ import annotations

import dataclasses

import pytest

from dashboards_as_code import queries as q
from dashboards_as_code.definitions.prometheus_rule import RecordingRule, RuleGroup
from dashboards_as_code.definitions.types import DashboardDefinition
from dashboards_as_code.lint import Finding, LintContext
from dashboards_as_code.lint.checks.panel_unit import CHECK
from dashboards_as_code.panels.style import prom, timeseries
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from dashboards_as_code.units import COUNT, PER_SECOND, RATIO, SECONDS, Quantity
from datasources import PROMETHEUS
from telemetry.contract import SPAN_CALLS, SPAN_DURATION, WHATSAPP_MESSAGES_SENT
from tests.lint.builders import board, check, context, document, findings, panel, project, raw


def test_overview_units_fit(overview) -> None:  # type: ignore[no-untyped-def]
    """Its panels, and every rule it reads (hand-written and derived from its q.tenant_sum calls)."""
    assert findings(CHECK, overview) == []


def _suggested(finding: Finding) -> list[str]:
    return finding.message.split("units that fit: ", 1)[1].split(", ")


def _with_unit(overview: DashboardDefinition, title: str, unit: str) -> list[Finding]:
    lint = context(overview)
    target = next(p for p in document(lint, overview)["panels"] if p["title"] == title)
    target["fieldConfig"]["defaults"]["unit"] = unit
    return [f for f in check(CHECK, lint) if f.location.panel == title]


@pytest.mark.parametrize(
    ("title", "unit", "quantity", "reason"),
    [
        ("Latency P50 / P95 / P99", "ms", SECONDS, "a quantile of a histogram in 's'"),
        ("Error rate", "reqps", RATIO, "a ratio of one series to itself"),
        ("Error rate", "percent", RATIO, "a ratio of one series to itself"),  # 0-100: 5 % shown as 0.05 %
        ("Request rate per route", "s", PER_SECOND, "a per-second rate"),
        ("Active WhatsApp sessions", "percentunit", COUNT, "a count"),
    ],
)
def test_a_changed_unit_is_caught_with_the_units_that_fit(  # type: ignore[no-untyped-def]
    overview, title: str, unit: str, quantity: Quantity, reason: str
) -> None:
    result = _with_unit(overview, title, unit)
    assert result, f"{unit!r} passed on {title!r}"
    assert f"unit {unit!r} does not fit query A: it returns {reason}" in result[0].message
    assert _suggested(result[0]) == list(quantity.units)
    for fitting in _suggested(result[0]):  # each unit the message offers is one the check then accepts
        assert _with_unit(overview, title, fitting) == [], fitting


def _messages_panel(unit: str) -> DashboardDefinition:
    """The newcomer's panel: WhatsApp messages sent per second, through the tenant recipe."""
    expr = q.tenant_sum(WHATSAPP_MESSAGES_SENT)
    return board(
        timeseries("Sent", description="d", unit=unit, datasource=PROMETHEUS.ref, targets=[prom(expr)])
    )


def test_a_unit_that_is_no_per_second_unit_is_told_which_are() -> None:
    """`mps` is no Grafana unit (its Throughput units are cps, ops, reqps, rps, wps, iops): the
    message says the series is a recorded per-second rate and lists them, and `cps` passes."""
    (finding,) = findings(CHECK, _messages_panel("mps"))
    assert "it returns a per-second rate" in finding.message
    assert "tenant_id:tiktickets_whatsapp_messages_sent:rate5m is recorded in 'reqps'" in finding.message
    assert {"reqps", "cps", "ops"} <= set(_suggested(finding))
    assert findings(CHECK, _messages_panel("cps")) == []


def test_raw_queries_are_checked_too() -> None:
    assert (
        findings(CHECK, board(panel("Sessions", expr=raw("sum(tiktickets_whatsapp_sessions_active)")))) == []
    )
    quantile = raw(
        "histogram_quantile(0.9, sum by (le) (rate(traces_span_metrics_duration_seconds_bucket[5m])))"
    )
    (finding,) = findings(CHECK, board(panel("Raw latency", expr=quantile)))  # test panels claim `short`
    assert "unit 'short' does not fit query A: it returns a quantile of a histogram in 's'" in finding.message
    counted = raw("count(rate(traces_span_metrics_calls_total[5m]))")  # how many series: a count
    assert findings(CHECK, board(panel("Series", expr=counted))) == []


RECORD = "job:traces_span_metrics_calls:rate5m"


def _rule(unit: str) -> RecordingRule:
    """A hand-written rule recording a per-second rate, declaring `unit`."""
    return RecordingRule(
        record=RECORD, expr=q.sum_by(q.rate(q.select(SPAN_CALLS), "5m"), "job"), grafana_unit=unit
    )


def _reading(rule: RecordingRule, unit: str) -> LintContext:
    """A panel in `unit` reading the rule's series, with the rule in the project's rule groups."""
    expr = q.sum_by(q.select_recorded(rule.record, rule.series_labels))
    definition = board(
        timeseries("Calls", description="d", unit=unit, datasource=PROMETHEUS.ref, targets=[prom(expr)])
    )
    full = project(definition)
    full = dataclasses.replace(
        full, rule_groups=[*full.rule_groups, RuleGroup(name="extra", interval="30s", recording=(rule,))]
    )
    documents = dataclasses.replace(build_documents(dataclasses.replace(full, rule_groups=[])), project=full)
    return LintContext(documents, render_outputs(documents))


@pytest.mark.parametrize("declared", ["percentunit", "short", "s"])
def test_a_rule_that_declares_another_unit_than_it_records_is_caught(declared: str) -> None:
    """A rate declared `percentunit` would let a percent panel over it pass; declared `short` it would
    read as a count and refuse the `reqps` panel that is right. Either way the rule is named."""
    result = check(CHECK, _reading(_rule(declared), "reqps" if declared == "short" else declared))
    (finding,) = [f for f in result if f.location.panel is None]
    assert finding.location.file == "prometheus_rules/"
    assert f"recording rule {RECORD} (group 'extra') declares grafana_unit={declared!r}" in finding.message
    assert "it records a per-second rate: declare 'reqps'" in finding.message


def test_through_a_rule_that_declares_its_unit_the_panel_is_checked() -> None:
    assert check(CHECK, _reading(_rule("reqps"), "cps")) == []
    (finding,) = check(CHECK, _reading(_rule("reqps"), "percentunit"))
    assert finding.location.panel == "Calls"
    assert f"{RECORD} is recorded in 'reqps'" in finding.message


def test_irate_is_a_per_second_rate_like_rate() -> None:
    """irate() divides the last increase by its seconds, as rate() does over the window: per second."""
    irate = raw("sum(irate(traces_span_metrics_calls_total[5m]))")
    seconds = timeseries(
        "Instant calls", description="d", unit="s", datasource=PROMETHEUS.ref, targets=[prom(irate)]
    )
    (finding,) = findings(CHECK, board(seconds))
    assert "unit 's' does not fit query A: it returns a per-second rate" in finding.message
    assert _suggested(finding) == list(PER_SECOND.units)


@pytest.mark.parametrize("counted", ["increase({}[1h])", "{}"])
def test_a_histograms_bucket_over_its_count_is_a_ratio(counted: str) -> None:
    """A bucket's series over the histogram's `_count`: the share of observations within `le` (here
    the spans under 0.5 s), a ratio in 0..1 that fits `percentunit` and not `short`."""
    histogram = SPAN_DURATION.prometheus_name
    within = counted.format(f'{histogram}_bucket{{le="0.5"}}')
    share = raw(f"sum({within}) / sum({counted.format(f'{histogram}_count')})")

    def within_panel(unit: str) -> DashboardDefinition:
        return board(
            timeseries("Within", description="d", unit=unit, datasource=PROMETHEUS.ref, targets=[prom(share)])
        )

    assert findings(CHECK, within_panel("percentunit")) == []
    (finding,) = findings(CHECK, within_panel("short"))
    assert "unit 'short' does not fit query A" in finding.message
    assert "percentunit" in _suggested(finding)
