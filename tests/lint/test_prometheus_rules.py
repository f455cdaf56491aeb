import pytest

from machinery.lint.rules.prometheus_rules import RULE
from machinery.render import RULES_FILE, Output
from machinery.tools import PROMTOOL
from tests.lint.builders import check, context
from tests.tooling import require_tool


@pytest.fixture(autouse=True)
def _promtool() -> None:
    require_tool(PROMTOOL)


def test_generated_rules_pass(overview) -> None:  # type: ignore[no-untyped-def]
    assert check(RULE, context(overview)) == []


def test_a_broken_expression_is_reported_with_promtools_message(overview) -> None:  # type: ignore[no-untyped-def]
    lint = context(overview)
    bad = b"groups:\n- name: g\n  rules:\n  - record: a:b:c\n    expr: sum(rate(x[5m])) by (\n"
    lint.__dict__["outputs"] = [Output(RULES_FILE, bad)]
    (finding,) = check(RULE, lint)
    assert finding.location.file == RULES_FILE
    assert "promtool check rules failed" in finding.message and "parse error" in finding.message
