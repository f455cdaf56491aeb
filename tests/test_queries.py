"""Query builders: correct PromQL/LogQL from contract signals, and refusal of what cannot work."""

from __future__ import annotations

import promql_parser
import pytest

from engine import queries as q
from engine.contract.model import ContractError
from engine.defaults import ALL_TENANTS
from engine.lint.promql_ast import parse, vector_selectors
from telemetry.contract import (
    BACKEND_LOGS,
    SOCKETIO_CONNECTIONS,
    SPAN_CALLS,
    SPAN_DURATION,
    TENANT_SPAN_CALLS,
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
