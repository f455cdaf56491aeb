import pytest

from dashboards_as_code.external_tools import LOGQL
from dashboards_as_code.lint.checks.logql import CHECK
from tests.lint.builders import check, context, document
from tests.tooling import require_tool


@pytest.fixture(autouse=True)
def _grammar() -> None:
    require_tool(LOGQL)


def _logs_panel(lint, overview):  # type: ignore[no-untyped-def]
    """The Overview's first logs panel, as its document (the test's copy), whatever its title."""
    return next(p for p in document(lint, overview)["panels"] if p["type"] == "logs")


def logs_panel_title(overview) -> str:  # type: ignore[no-untyped-def]
    return str(_logs_panel(context(overview), overview)["title"])


def with_expr(overview, expr: str):  # type: ignore[no-untyped-def]
    lint = context(overview)
    _logs_panel(lint, overview)["targets"][0]["expr"] = expr
    return check(CHECK, lint)


def test_overview_logs_query_parses(overview) -> None:  # type: ignore[no-untyped-def]
    assert check(CHECK, context(overview)) == []


def test_syntax_error_with_position(overview) -> None:  # type: ignore[no-untyped-def]
    (finding,) = with_expr(overview, '{service_name="tiktickets-backend" |= "error"')
    assert finding.location.panel == logs_panel_title(overview)
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


@pytest.mark.parametrize(
    ("expr", "said"),
    [
        # After `| json` the fields are whatever the body held: only the parser is named, not its filters.
        ('{service_namespace="tiktickets"} | json | level="error"', ["`| json` on OTLP log bodies"]),
        # Two parse errors: one finding, at the first (column 4), and nothing read past it.
        ("{a=} | b=", ["does not parse at column 4: {a=<here>} | b="]),
        # A broken query is not read further: a label it names is not also blamed.
        ('{tenant_id="acme" |= "x"', ["does not parse at column"]),
        # A field label_format makes is carried by the lines from there on.
        ('{service_namespace="tiktickets"} | label_format level="{{.severity_text}}" | level="error"', []),
        # Every name one label_format makes, not only its first.
        (
            '{service_namespace="tiktickets"} | label_format who="{{.x}}", level="{{.severity_text}}" '
            '| level="error"',
            [],
        ),
        # Near miss of the above: a field it does not make is still looked for.
        (
            '{service_namespace="tiktickets"} | label_format level="{{.severity_text}}" | lvl="error"',
            ["filters on 'lvl', which no log signal carries"],
        ),
    ],
    ids=[
        "json-then-a-filter",
        "first-of-two-errors",
        "broken-then-a-bad-label",
        "made-field",
        "second-made-field",
        "not-made-field",
    ],
)
def test_what_the_logql_check_says_of_a_near_miss(overview, expr: str, said: list[str]) -> None:  # type: ignore[no-untyped-def]
    findings = with_expr(overview, expr)
    assert len(findings) == len(said), [f.message for f in findings]
    for finding, text in zip(findings, said, strict=True):
        assert text in finding.message
        assert finding.message.startswith("query A")
        assert finding.location.dashboard  # the dashboard is named, with its panel
        assert finding.location.panel == logs_panel_title(overview)
