"""LogQL split into its stream selector and stages where a quoted string holds the characters that
delimit them: an escaped quote does not end the string, so a `}` or `|` inside it stays inside."""

from __future__ import annotations

from dashboards_as_code.doctor.loki_diagnosis import split_pipeline


def test_an_escaped_quote_in_the_selector_does_not_end_its_string() -> None:
    selector = r'{service_name="a\"}b"}'
    assert split_pipeline(selector + ' |= "x"') == (selector, ['= "x"'])


def test_an_escaped_quote_in_a_line_filter_does_not_end_its_string() -> None:
    assert split_pipeline(r'{a="b"} |= "say \"x|y\" now" | level="error"') == (
        '{a="b"}',
        [r'= "say \"x|y\" now"', 'level="error"'],
    )


def test_a_backtick_string_keeps_its_pipe_and_brace() -> None:
    assert split_pipeline('{a="b"} |~ `x|}y` | json') == ('{a="b"}', ["~ `x|}y`", "json"])
