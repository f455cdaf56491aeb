import pytest

from dashboards_as_code.external_tools import LOGQL
from dashboards_as_code.lint.checks.logql import CHECK
from tests.lint.builders import check, context, document
from tests.tooling import require_tool


@pytest.fixture(autouse=True)
def _grammar() -> None:
    require_tool(LOGQL)


def with_expr(overview, expr: str):  # type: ignore[no-untyped-def]
    lint = context(overview)
    logs_panel = next(p for p in document(lint, overview)["panels"] if p["type"] == "logs")
    logs_panel["targets"][0]["expr"] = expr
    return check(CHECK, lint)


def test_overview_logs_query_parses(overview) -> None:  # type: ignore[no-untyped-def]
    assert check(CHECK, context(overview)) == []


def test_syntax_error_with_position(overview) -> None:  # type: ignore[no-untyped-def]
    (finding,) = with_expr(overview, '{service_name="tiktickets-backend" |= "error"')
    assert finding.location.panel == "Recent error logs"
    assert "does not parse at column" in finding.message and "<here>" in finding.message


def test_stream_label_loki_does_not_index(overview) -> None:  # type: ignore[no-untyped-def]
    (finding,) = with_expr(overview, '{tenant_id="acme"} | severity_number >= 17')
    assert "stream selector uses 'tenant_id', which Loki does not index" in finding.message


def test_json_stage_on_otlp_logs(overview) -> None:  # type: ignore[no-untyped-def]
    (finding,) = with_expr(overview, '{service_namespace="tiktickets"} | json | trace_id != ""')
    assert "`| json` on OTLP log bodies" in finding.message


def test_filter_on_a_field_no_signal_has(overview) -> None:  # type: ignore[no-untyped-def]
    (finding,) = with_expr(overview, '{service_namespace="tiktickets"} | level="error"')
    assert "filters on 'level', which no log signal carries" in finding.message


def test_grafana_interval_in_a_range_is_substituted(overview) -> None:  # type: ignore[no-untyped-def]
    stream = '{service_namespace="tiktickets"} | severity_number >= 17'
    expr = f"sum by (tenant_id) (count_over_time({stream} [$__auto]))"
    assert with_expr(overview, expr) == []


def test_a_braced_grafana_interval_in_a_range_is_substituted(overview) -> None:  # type: ignore[no-untyped-def]
    """`${__auto}` is Grafana's other spelling of `$__auto`: the LogQL sent to Loki has a duration there."""
    stream = '{service_namespace="tiktickets"} | severity_number >= 17'
    for builtin in ("${__auto}", "${__interval}", "${__rate_interval}", "${__range}"):
        expr = f"sum by (tenant_id) (count_over_time({stream} [{builtin}]))"
        assert with_expr(overview, expr) == [], builtin


def test_the_column_of_a_syntax_error_counts_from_one_as_editors_do(overview) -> None:  # type: ignore[no-untyped-def]
    """The stray `)` is where the query breaks: the column names it as an editor's status bar would,
    and the pointer shows the 30 characters before it, then `<here>`, then the rest."""
    expr = '{service_name="tiktickets-backend"} | severity_number >= )'
    stray = expr.index(")")
    (finding,) = with_expr(overview, expr)
    assert finding.message == (
        f"query A does not parse at column {stray + 1}: {expr[stray - 30 : stray]}<here>{expr[stray:]}"
    )
