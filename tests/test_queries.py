"""Query builders: correct PromQL/LogQL from contract signals, and refusal of what cannot work."""

from __future__ import annotations

import re

import promql_parser
import pytest

from dashboards_as_code import queries as q
from dashboards_as_code.contract.model import ContractError
from dashboards_as_code.defaults import ALL_TENANTS, RECORDING_RATE_WINDOW
from dashboards_as_code.promql.tree import matchers as selector_matchers
from dashboards_as_code.promql.tree import parse, vector_selectors
from telemetry.contract import (
    BACKEND_LOGS,
    SERVER_SPANS_ONLY,
    SOCKETIO_CONNECTIONS,
    SPAN_CALLS,
    SPAN_DURATION,
    STATUS_CODE_ERROR,
    TENANT_SPAN_CALLS,
    WHATSAPP_MESSAGES_SENT,
    WHATSAPP_SESSIONS_ACTIVE,
)


def matchers(expr: str) -> dict[str, list[tuple[str, str, str]]]:
    """series name -> [(label, op, value)] for every selector in a parsed expression."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for selector in vector_selectors(parse(expr)):
        found.setdefault(selector.name, []).extend(
            (m.name, str(m.op), m.value) for m in selector.matchers.matchers
        )
    return found


def test_select_adds_identity_and_tenant_filter_for_tenant_signals() -> None:
    expr = q.select(SOCKETIO_CONNECTIONS).text
    assert (
        expr == 'tiktickets_socketio_connections{job="tiktickets/tiktickets-backend", tenant_id=~"$tenant"}'
    )


def test_select_has_no_tenant_filter_where_the_series_has_no_tenant() -> None:
    assert "tenant_id" not in q.select(SPAN_CALLS).text
    with pytest.raises(ContractError, match="carries no tenant_id"):
        q.select(SPAN_CALLS, tenant_filter=True)


def test_select_refuses_a_label_the_signal_does_not_carry() -> None:
    with pytest.raises(ContractError, match="has no label 'http_route'"):
        q.select(TENANT_SPAN_CALLS, q.ne("http_route", ""))


def test_select_escapes_label_values() -> None:
    expr = q.select(SPAN_CALLS, q.eq("http_route", 'a"b\\c')).text
    assert matchers(expr)["traces_span_metrics_calls_total"][-1] == ("http_route", "MatchOp.Equal", 'a"b\\c')


def test_rate_over_a_gauge_is_refused() -> None:
    with pytest.raises(ContractError, match="gauge"):
        q.rate(q.select(WHATSAPP_SESSIONS_ACTIVE))


def test_rate_needs_a_selector() -> None:
    with pytest.raises(ContractError, match="needs a series selector"):
        q.rate(q.sum_by(q.rate(q.select(SPAN_CALLS))))


def test_sum_by_a_label_the_expression_lost_is_refused() -> None:
    by_route = q.sum_by(q.rate(q.select(SPAN_CALLS)), "http_route")
    with pytest.raises(ContractError, match="cannot sum by"):
        q.sum_by(by_route, "span_kind")


def test_histogram_quantile_aggregates_buckets_by_le() -> None:
    expr = q.histogram_quantile(0.95, SPAN_DURATION, q.eq("span_kind", "SPAN_KIND_SERVER"))
    tree = parse(expr.text)
    assert isinstance(tree, promql_parser.Call)
    assert tree.func.name == "histogram_quantile"
    aggregate = tree.args[1]
    assert isinstance(aggregate, promql_parser.AggregateExpr)
    assert "le" in str(aggregate.modifier)
    assert list(matchers(expr.text)) == ["traces_span_metrics_duration_seconds_bucket"]
    with pytest.raises(ContractError):
        q.histogram_quantile(95, SPAN_DURATION)


def test_label_values_query() -> None:
    assert (
        q.label_values(TENANT_SPAN_CALLS, "tenant_id")
        == 'label_values(tenant_span_metrics_calls_total{service_name="tiktickets-backend"}, tenant_id)'
    )
    with pytest.raises(ContractError):
        q.label_values(SPAN_CALLS, "tenant_id")


def test_error_logs_query_uses_structured_metadata_without_json() -> None:
    expr = q.log_lines(BACKEND_LOGS, errors_only=True).text
    assert expr == (
        '{service_namespace="tiktickets", service_name="tiktickets-backend"}'
        ' | severity_number >= 17 | tenant_id=~"$tenant"'
    )


def test_trace_logs_query_filters_on_trace_id_metadata() -> None:
    assert q.logs_of_trace(BACKEND_LOGS) == '{${__tags}} | trace_id="${__trace.traceId}"'


def test_a_correlations_log_query_selects_index_labels_and_filters_metadata() -> None:
    expr = q.correlated_logs(BACKEND_LOGS, stream={"service_name": "${a}"}, metadata={"trace_id": "${b}"})
    assert expr == '{service_name="${a}"} | trace_id="${b}"'
    with pytest.raises(ContractError, match="no index label 'tenant_id'"):
        q.correlated_logs(BACKEND_LOGS, stream={"tenant_id": "x"}, metadata={})
    with pytest.raises(ContractError, match="no structured metadata field 'service_name'"):
        q.correlated_logs(BACKEND_LOGS, stream={}, metadata={"service_name": "x"})


def test_recorded_series_builders_check_labels() -> None:
    labels = frozenset({"tenant_id", "status_code"})
    assert (
        q.select_recorded("a:b:c", labels, q.eq("status_code", "X")).text
        == 'a:b:c{status_code="X", tenant_id=~"$tenant"}'
    )
    assert q.select_recorded("a:b:c", frozenset({"le"})).text == "a:b:c"
    with pytest.raises(ContractError, match="has no label 'route'"):
        q.select_recorded("a:b:c", labels, q.eq("route", "/"))
    with pytest.raises(ContractError, match="no `le` label"):
        q.recorded_quantile(0.5, "a:b:c", labels)
    with pytest.raises(ContractError, match="no tenant_id"):
        q.top_tenants(5, "a:b:c", frozenset({"le"}))


def test_recorded_series_offset_follows_the_whole_selector() -> None:
    """PromQL's `offset` modifies a selector after its braces; a bare name takes it too."""
    labels = frozenset({"tenant_id"})
    assert (
        q.select_recorded("a:b:c", labels, offset="$__range").text
        == 'a:b:c{tenant_id=~"$tenant"} offset $__range'
    )
    assert q.select_recorded("a:b:c", frozenset({"le"}), offset="1h").text == "a:b:c offset 1h"


def test_top_tenants_reads_every_tenant_only_when_all_is_selected() -> None:
    expr = q.top_tenants(20, "s:x:sum", frozenset({"tenant_id"})).text
    found = matchers(expr)["s:x:sum"]
    assert ("tenant_id", "MatchOp.Equal", ALL_TENANTS) in found  # the gate: exists only at All
    assert ("tenant_id", "MatchOp.NotEqual", ALL_TENANTS) in found  # never the aggregate row itself
    assert str(parse(expr).op) == "topk"


def test_exemplar_anchor_names_the_raw_histogram_and_is_never_true() -> None:
    expr = q.with_exemplars_from(q.PromQL("x", ()), SPAN_DURATION).text
    assert expr.startswith("x unless on () (sum(rate(traces_span_metrics_duration_seconds_bucket{")
    assert "[5m] @ end())) < 0)" in expr
    parse(expr)


def test_all_sentinel_in_logql() -> None:
    expr = q.log_lines(BACKEND_LOGS, all_value=ALL_TENANTS).text
    assert f'label_format tenant_selection="{ALL_TENANTS}"' in expr
    assert '| tenant_id=~"$tenant" or tenant_selection=~"$tenant" | drop tenant_selection' in expr


def test_or_zero() -> None:
    assert q.or_zero(q.sum_by(q.select(WHATSAPP_SESSIONS_ACTIVE))).text.endswith(" or vector(0))")


def _rules(expr: q.PromQL) -> dict[str, q.Recording]:
    """The recordings a query carries, keyed "per tenant" / "all" by the twin's label."""
    found = {
        ("all" if dict(r.labels).get("tenant_id") == ALL_TENANTS else "per tenant"): r
        for r in expr.recordings
    }
    assert len(found) == len(expr.recordings) == 2, expr.recordings
    return found


def _grouping(expr: str) -> list[str]:
    tree = parse(expr)
    assert isinstance(tree, promql_parser.AggregateExpr) and str(tree.op) == "sum", expr
    match = re.match(r"by\s*\((.*)\)", str(tree.modifier).strip()) if tree.modifier else None
    return [label.strip() for label in match.group(1).split(",")] if match else []


def test_tenant_sum_reads_a_recorded_series_and_carries_its_rule_and_all_twin() -> None:
    expr = q.tenant_sum(WHATSAPP_MESSAGES_SENT)
    rules = _rules(expr)
    (record,) = {r.record for r in rules.values()}
    # The panel reads the record, filtered on $tenant, never the raw counter.
    assert matchers(expr.text) == {record: [("tenant_id", "MatchOp.Re", "$tenant")]}
    assert record.count(":") == 2 and record.startswith("tenant_id:")  # level:metric:operations
    per_tenant, everyone = rules["per tenant"], rules["all"]
    assert _grouping(per_tenant.expr.text) == ["tenant_id"]
    assert _grouping(everyone.expr.text) == []  # the All row sums every tenant
    assert per_tenant.labels == ()
    for rule in (per_tenant, everyone):
        # A counter is recorded as its rate over the project's window, from the signal's own series.
        call = parse(rule.expr.text).expr
        assert isinstance(call, promql_parser.Call) and call.func.name == "rate"
        assert str(call.args[0].range) in ("5m", "0:05:00")
        assert list(matchers(rule.expr.text)) == ["tiktickets_whatsapp_messages_sent_total"]
        assert ("job", "MatchOp.Equal", "tiktickets/tiktickets-backend") in matchers(rule.expr.text)[
            "tiktickets_whatsapp_messages_sent_total"
        ]
        assert rule.record == record and rule.grafana_unit == "reqps"
    assert record.endswith(f":rate{RECORDING_RATE_WINDOW}")


def test_tenant_sum_of_a_gauge_sums_without_rate() -> None:
    rules = _rules(q.tenant_sum(WHATSAPP_SESSIONS_ACTIVE))
    for rule in rules.values():
        assert "rate(" not in rule.expr.text
        assert rule.grafana_unit == WHATSAPP_SESSIONS_ACTIVE.grafana_unit
        assert rule.record.endswith(":sum")


def test_tenant_sum_keeps_the_labels_its_matchers_and_by_name() -> None:
    failed = q.eq("status_code", STATUS_CODE_ERROR)
    expr = q.tenant_sum(TENANT_SPAN_CALLS, failed, by=("service_name",), where=(SERVER_SPANS_ONLY,))
    rules = _rules(expr)
    assert _grouping(expr.text) == ["service_name"]
    assert sorted(_grouping(rules["per tenant"].expr.text)) == ["service_name", "status_code", "tenant_id"]
    assert sorted(_grouping(rules["all"].expr.text)) == ["service_name", "status_code"]
    (record,) = matchers(expr.text)
    # matchers select on the recorded series; `where` filters inside the rule.
    assert ("status_code", "MatchOp.Equal", STATUS_CODE_ERROR) in matchers(expr.text)[record]
    assert ("span_kind", "MatchOp.Equal", "SPAN_KIND_SERVER") not in matchers(expr.text)[record]
    raw = matchers(rules["per tenant"].expr.text)["tenant_span_metrics_calls_total"]
    assert ("span_kind", "MatchOp.Equal", "SPAN_KIND_SERVER") in raw
    assert ("status_code", "MatchOp.Equal", STATUS_CODE_ERROR) not in raw
    # The name does not depend on the order labels were given in.
    other = q.tenant_sum(TENANT_SPAN_CALLS, keep=("status_code", "service_name"), where=(SERVER_SPANS_ONLY,))
    assert other.recordings == expr.recordings


def test_tenant_sum_refuses_what_cannot_work() -> None:
    with pytest.raises(ContractError, match="carries no tenant_id"):
        q.tenant_sum(SPAN_CALLS)
    for tenant_label in ({"by": ("tenant_id",)}, {"where": (q.eq("tenant_id", "acme"),)}):
        with pytest.raises(ContractError, match="tenant_topk"):
            q.tenant_sum(SOCKETIO_CONNECTIONS, **tenant_label)
    with pytest.raises(ContractError, match="has no label 'http_route'"):
        q.tenant_sum(TENANT_SPAN_CALLS, by=("http_route",))
    with pytest.raises(ContractError, match="has no label 'route'"):
        q.tenant_sum(TENANT_SPAN_CALLS, where=(q.eq("route", "/"),))
    with pytest.raises(ContractError, match="Prometheus duration"):
        q.tenant_sum(TENANT_SPAN_CALLS, window="$__rate_interval")


def test_tenant_topk_reads_every_tenant_only_at_all_and_carries_the_rules() -> None:
    expr = q.tenant_topk(20, SOCKETIO_CONNECTIONS)
    (record,) = {r.record for r in _rules(expr).values()}
    assert expr.text == q.top_tenants(20, record, frozenset({"tenant_id"})).text
    assert expr.recordings == q.tenant_sum(SOCKETIO_CONNECTIONS).recordings
    with pytest.raises(ContractError, match="at least 1"):
        q.tenant_topk(0, SOCKETIO_CONNECTIONS)


def test_tenant_topk_with_matchers_sums_back_to_one_series_per_tenant() -> None:
    expr = q.tenant_topk(5, WHATSAPP_SESSIONS_ACTIVE, q.eq("whatsapp_id", "wa-1"))
    tree = parse(expr.text)
    assert str(tree.op) == "topk"
    assert _grouping(q.PromQL(str(tree.expr), ()).text) == ["tenant_id"]
    (record,) = matchers(expr.text)
    gate = [m for m in matchers(expr.text)[record] if m == ("tenant_id", "MatchOp.Equal", ALL_TENANTS)]
    assert gate  # the All gate is there, and it does not depend on the matcher (no rows yet would empty it)


def test_recordings_survive_every_combinator() -> None:
    errors = q.tenant_sum(TENANT_SPAN_CALLS, q.eq("status_code", STATUS_CODE_ERROR))
    sessions = q.tenant_sum(WHATSAPP_SESSIONS_ACTIVE)
    combined = q.with_exemplars_from(q.topk(3, q.ratio(q.or_zero(errors), sessions)), SPAN_DURATION)
    assert combined.recordings == errors.recordings + sessions.recordings
    assert q.ratio(errors, errors).recordings == errors.recordings  # each rule once


@pytest.mark.parametrize("written", ["=", "!=", "=~", "!~"])
def test_a_parsed_matcher_reads_back_as_the_operator_it_was_written_with(written: str) -> None:
    """dashboards_as_code/promql/tree.py is the one place the parser's operator objects are read: lint and
    doctor compare `=~`, never the parser's own names."""
    (selector,) = vector_selectors(parse(f'up{{job{written}"x"}}'))
    assert selector_matchers(selector) == {("job", written, "x")}


BUCKETS = frozenset({"le", "tenant_id", "route"})


@pytest.mark.parametrize("quantile", [0, 1, -0.5, 1.5, 95])
def test_a_quantile_outside_the_open_interval_is_refused_by_both_builders(quantile: float) -> None:
    """histogram_quantile(0, ...) and (1, ...) return a bucket's edge (0, or +Inf for the last
    bucket), never a percentile a panel means: only 0 < q < 1 is a quantile (Prometheus' docs)."""
    with pytest.raises(ContractError, match="quantile must be between 0 and 1"):
        q.histogram_quantile(quantile, SPAN_DURATION)
    with pytest.raises(ContractError, match="quantile must be between 0 and 1"):
        q.recorded_quantile(quantile, "a:b:c", BUCKETS)


@pytest.mark.parametrize("quantile", [0.001, 0.5, 0.999])
def test_a_quantile_near_either_end_is_accepted(quantile: float) -> None:
    assert q.histogram_quantile(quantile, SPAN_DURATION).text.startswith(f"histogram_quantile({quantile}, ")
    assert q.recorded_quantile(quantile, "a:b:c", BUCKETS).text.startswith(f"histogram_quantile({quantile}, ")


def test_a_quantile_keeps_exactly_the_labels_it_is_summed_by() -> None:
    """The labels a query's result carries are what lint reads for legends and repeats: a quantile
    by route has `route` (and not `le`, which histogram_quantile consumes), one without `by` none."""
    assert q.histogram_quantile(0.95, SPAN_DURATION, by=("http_route",)).labels == {"http_route"}
    assert q.histogram_quantile(0.95, SPAN_DURATION).labels == frozenset()
    assert q.recorded_quantile(0.95, "a:b:c", BUCKETS, by=("route",)).labels == {"route"}
    assert q.recorded_quantile(0.95, "a:b:c", BUCKETS).labels == frozenset()


def test_the_top_tenants_keep_the_recorded_series_labels() -> None:
    """topk keeps each series whole: the tenant's rows carry every label the recording has."""
    assert q.top_tenants(5, "a:b:c", BUCKETS).labels == BUCKETS
