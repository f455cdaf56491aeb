import pytest

from dashboards_as_code.lint.checks.variables import CHECK
from dashboards_as_code.panels.grafanalib_ext import QueryVariable
from datasources import PROMETHEUS
from tests.lint.builders import board, check, context, document, findings, panel, raw


def test_real_overview_passes(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(CHECK, overview) == []


def test_undefined_variable() -> None:
    expr = raw('sum(tiktickets_socketio_connections{tenant_id=~"$tenant", region="${region}"})')
    result = findings(CHECK, board(panel("Regional", expr=expr)))
    messages = {(f.location.panel, f.message) for f in result}
    assert ("Regional", "uses $region, which the dashboard does not define") in messages
    assert ("Regional", "uses $tenant, which the dashboard does not define") in messages


def test_unused_variable() -> None:
    definition = board(panel("a", expr=raw("sum(tiktickets_socketio_connections)")))
    lint = context(definition)
    variable = QueryVariable(
        name="env", label="Env", query="label_values(up, env)", datasource=PROMETHEUS.ref
    )
    document(lint, definition)["templating"]["list"].append(variable.to_json_data())
    (finding,) = check(CHECK, lint)
    assert finding.message == "variable $env is defined but no query uses it"


def _with_env_variable(title: str) -> list[str]:
    """The findings for a board whose one panel, titled `title`, reads no variable, plus a `$env`."""
    definition = board(panel(title, expr=raw("sum(tiktickets_socketio_connections)")))
    lint = context(definition)
    variable = QueryVariable(
        name="env", label="Env", query="label_values(up, env)", datasource=PROMETHEUS.ref
    )
    document(lint, definition)["templating"]["list"].append(variable.to_json_data())
    return [finding.message for finding in check(CHECK, lint)]


@pytest.mark.parametrize("title", ["Connections in $env", "Connections in ${env}", "Connections in [[env]]"])
def test_a_variable_used_only_in_a_panel_title_is_used(title: str) -> None:
    """Grafana fills variables into panel titles: the dropdown changes what the title says."""
    assert _with_env_variable(title) == []


def test_a_title_naming_another_variable_does_not_use_this_one() -> None:
    assert _with_env_variable("Connections in $region") == ["variable $env is defined but no query uses it"]


def _env_board(expr: str, env_query: str = "label_values(up, env)") -> list[str]:
    """The findings for a board with one panel reading `expr`, and a variable `$env` with `env_query`."""
    definition = board(panel("a", expr=raw(expr)))
    lint = context(definition)
    variable = QueryVariable(name="env", label="Env", query=env_query, datasource=PROMETHEUS.ref)
    document(lint, definition)["templating"]["list"].append(variable.to_json_data())
    return [finding.message for finding in check(CHECK, lint)]


@pytest.mark.parametrize("form", ["${env:regex}", "${env:pipe}", "[[env]]", "${env}", "$env"])
def test_every_form_of_a_reference_uses_the_variable(form: str) -> None:
    """`${env:regex}` (a format) and `[[env]]` (Grafana's old syntax) are uses of `$env` like `$env`."""
    assert _env_board(f'sum(tiktickets_socketio_connections{{env=~"{form}"}})') == []


def test_a_variable_that_only_its_own_query_names_is_unused() -> None:
    """A variable's query naming itself changes no panel: the dropdown still does nothing."""
    messages = _env_board(
        "sum(tiktickets_socketio_connections)", env_query='label_values(up{env=~"$env"}, env)'
    )
    assert messages == ["variable $env is defined but no query uses it"]


@pytest.mark.parametrize(
    "builtin",
    ["$__interval_ms", "$__rate_interval_ms", "$__range_s", "$__range_ms", "${__from}", "${__to}", "$__auto"],
)
def test_grafanas_built_in_variables_need_no_definition(builtin: str) -> None:
    expr = raw(f"sum(tiktickets_socketio_connections) * {builtin}")
    assert findings(CHECK, board(panel("Built-in", expr=expr))) == []


def _nested(expr: str) -> list[str]:
    """The findings for a board whose only query panel, reading `expr`, sits in a collapsed row, with a
    variable `$env`."""
    definition = board(panel("Held", expr=raw(expr)))
    lint = context(definition)
    board_json = document(lint, definition)
    held = [p for p in board_json["panels"] if p.get("type") != "row"]
    row = {"type": "row", "title": "Details", "collapsed": True, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}}
    board_json["panels"] = [{**row, "panels": held}]
    variable = QueryVariable(
        name="env", label="Env", query="label_values(up, env)", datasource=PROMETHEUS.ref
    )
    board_json["templating"]["list"].append(variable.to_json_data())
    return [f"{finding.location.panel}: {finding.message}" for finding in check(CHECK, lint)]


def test_a_variable_used_only_inside_a_collapsed_row_is_used() -> None:
    assert _nested('sum(tiktickets_socketio_connections{env=~"$env"})') == []


def test_an_undefined_variable_inside_a_collapsed_row_is_found() -> None:
    found = _nested('sum(tiktickets_socketio_connections{env=~"$env", region="$region"})')
    assert found == ["Held: uses $region, which the dashboard does not define"]
