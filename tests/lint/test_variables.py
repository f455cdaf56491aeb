import pytest

from datasources import PROMETHEUS
from engine.lint.checks.variables import CHECK
from engine.panels.grafanalib_ext import QueryVariable
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
