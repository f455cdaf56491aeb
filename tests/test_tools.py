"""A missing external tool is a skip with an install hint on a laptop and a failure in CI."""

from __future__ import annotations

import pytest

from engine.external_tools import Tool, ToolMissingError
from engine.lint.checks import logql
from tests.lint.builders import check, context
from tests.tooling import require_tool

ABSENT = Tool("tiktickets-no-such-tool", "apt-get install tiktickets-no-such-tool")


def test_missing_tool_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="apt-get install tiktickets-no-such-tool"):
        require_tool(ABSENT)


def test_missing_tool_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and tiktickets-no-such-tool is not installed"):
        require_tool(ABSENT)


@pytest.mark.parametrize(("ci", "severity"), [("true", "error"), ("false", "warning")])
def test_logql_rule_without_node(overview, monkeypatch: pytest.MonkeyPatch, ci: str, severity: str) -> None:  # type: ignore[no-untyped-def]
    def missing(*_: object) -> object:
        raise ToolMissingError(ABSENT)

    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(logql, "inspect", missing)
    (finding,) = check(logql.CHECK, context(overview))
    assert finding.severity == severity
    assert "Loki queries not checked" in finding.message and "apt-get install" in finding.message
