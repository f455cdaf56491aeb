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


def test_a_long_promtool_complaint_is_shown_by_its_end(overview) -> None:  # type: ignore[no-untyped-def]
    """promtool lists every broken rule in file order, and a finding keeps only 1,500 characters of it:
    the end is kept (the last errors, and promtool's closing line), not the start, so a user fixing
    rules one run after the other sees the errors still left, not the same first ones each time. Here
    80 broken rules make about 3,000 characters: the last rule is named, the first is not."""
    lint = context(overview)
    rules = "".join(f"  - record: a:b:c{i}\n    expr: sum(rate(x[5m])) by (\n" for i in range(80))
    last = "  - record: LAST:b:c\n    expr: rate(x[5m]\n"
    bad = f"# {uuid.uuid4()}\ngroups:\n- name: g\n  rules:\n{rules}{last}"
    lint.outputs = [Output(CONFIG.rules_file, bad.encode())]
    (finding,) = check(CHECK, lint)
    assert finding.message.startswith("promtool check rules failed: ")
    assert '"LAST:b:c"' in finding.message, f"the last broken rule is not named: {finding.message[-300:]!r}"
    assert '"a:b:c0"' not in finding.message, finding.message[:300]
    assert len(finding.message) <= len("promtool check rules failed: ") + 1500
