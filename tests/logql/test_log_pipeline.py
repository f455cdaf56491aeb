"""A log query split into its stream selector and stages by Grafana's LogQL grammar (doctor tries
each stage in turn): quotes, backticks and escapes are the grammar's business, not ours."""

from __future__ import annotations

import pytest

from dashboards_as_code.external_tools import LOGQL
from dashboards_as_code.logql.grammar import LogPipeline, Stage, log_pipeline
from tests.tooling import require_tool


@pytest.fixture(autouse=True)
def _grammar() -> None:
    require_tool(LOGQL)


def texts(pipeline: LogPipeline) -> list[str]:
    return [stage.text for stage in pipeline.stages]


def test_an_escaped_quote_in_the_selector_does_not_end_its_string() -> None:
    selector = r'{service_name="a\"}b"}'
    pipeline = log_pipeline(selector + ' |= "x"')
    assert pipeline.selector == selector and texts(pipeline) == ['|= "x"']


def test_an_escaped_quote_in_a_line_filter_does_not_end_its_string() -> None:
    pipeline = log_pipeline(r'{a="b"} |= "say \"x|y\" now" | level="error"')
    assert pipeline.selector == '{a="b"}'
    assert pipeline.stages == (
        Stage(r'|= "say \"x|y\" now"', "line-filter", ()),
        Stage('| level="error"', "label-filter", ("level",)),
    )


def test_a_backtick_string_keeps_its_pipe_and_brace() -> None:
    pipeline = log_pipeline('{a="x|}"} | b=~"c|d" |~ `x|}y` | json')
    assert pipeline.selector == '{a="x|}"}'
    assert texts(pipeline) == ['| b=~"c|d"', "|~ `x|}y`", "| json"]
    assert [stage.kind for stage in pipeline.stages] == ["label-filter", "line-filter", "format"]


def test_each_line_filter_is_a_stage_and_a_first_one_needs_no_pipe() -> None:
    """The grammar groups adjacent line filters; each is still tried on its own. A `!=` right after
    the selector has no pipe, and stays a line filter (the old hand splitter made it a label filter)."""
    pipeline = log_pipeline('{a="b"} != "x" |~ "y" | severity_number >= 17 or tenant_id=~".*"')
    assert texts(pipeline) == ['!= "x"', '|~ "y"', '| severity_number >= 17 or tenant_id=~".*"']
    assert [stage.kind for stage in pipeline.stages] == ["line-filter", "line-filter", "label-filter"]
    assert pipeline.stages[2].labels == ("severity_number", "tenant_id")
    assert pipeline.through(1) == '{a="b"} != "x"'


def test_label_format_names_the_labels_it_makes() -> None:
    (stage,) = log_pipeline('{a="b"} | label_format q="{{.x}}", s=t').stages
    assert (stage.kind, stage.labels) == ("format", ("q", "s"))


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ('sum(rate({a="b"}[1m]))', "not a log query"),
        ('{a="b" |= "x"', "does not parse at character"),
    ],
)
def test_what_is_not_a_log_pipeline_is_said(expr: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        log_pipeline(expr)
