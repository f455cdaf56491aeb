import uuid

import pytest

from config import CONFIG
from dashboards_as_code.external_tools import PROMTOOL
from dashboards_as_code.lint.checks.prometheus_rules import CHECK
from dashboards_as_code.render.formats import Output
from tests.lint.builders import check, context
from tests.tooling import require_tool


@pytest.fixture(autouse=True)
def _promtool() -> None:
    require_tool(PROMTOOL)


def test_generated_rules_pass(overview) -> None:  # type: ignore[no-untyped-def]
    assert check(CHECK, context(overview)) == []


def test_a_broken_expression_is_reported_with_promtools_message(overview) -> None:  # type: ignore[no-untyped-def]
    lint = context(overview)
    # A fresh comment each run: promtool's verdict on this content must not come from the answer cache.
    bad = f"# {uuid.uuid4()}\ngroups:\n- name: g\n  rules:\n  - record: a:b:c\n"
    bad_bytes = (bad + "    expr: sum(rate(x[5m])) by (\n").encode()
    lint.outputs = [Output(CONFIG.rules_file, bad_bytes)]
    (finding,) = check(CHECK, lint)
    assert finding.location.file == CONFIG.rules_file
    assert "promtool check rules failed" in finding.message and "parse error" in finding.message
    # promtool read a temporary copy: the message names the project's file instead, at promtool's line.
    assert f"{CONFIG.rules_file}: 6:" in finding.message and "/tmp" not in finding.message
