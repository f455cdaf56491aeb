"""Grafana's provisioning expansion rule, and the escaping that makes our values survive it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboards_as_code.render.provisioning_escape import escape, escape_tree, expand

# Written value -> what Grafana stores, from shared/reference/grafana.md §1.1 and Appendix A.
REFERENCE_EXAMPLES = [
    ("${__value.raw}", ""),
    ("$${__value.raw}", "${__value.raw}"),
    ('{service_name="${__span.tags["service.name"]}"}', '{service_name=""}'),
    ("sum(rate(x{$__tags}[5m]))", "sum(rate(x{}[5m]))"),
    ("sum(rate(x{$$__tags}[5m]))", "sum(rate(x{$__tags}[5m]))"),
    ("^trace_id$", "^trace_id$"),
    ("(?:\\s|$)", "(?:\\s|$)"),
    ("a$1b", "ab"),
    ("a${b", "ab"),
    ("x${}y", "xy"),
    ("cost: $ 5", "cost: $ 5"),
]


@pytest.mark.parametrize(("written", "stored"), REFERENCE_EXAMPLES)
def test_expand_follows_grafanas_rule(written: str, stored: str) -> None:
    assert expand(written) == stored


def test_defined_variables_are_substituted() -> None:
    assert expand("http://$HOST:${PORT}/x", {"HOST": "grafana", "PORT": "3000"}) == "http://grafana:3000/x"


@given(st.lists(st.sampled_from([*'${}_.ab1 #?-\\"', "__value.raw", "$$"])).map("".join))
def test_escaped_values_survive_expansion(value: str) -> None:
    assert expand(escape(value)) == value


def test_escape_tree_escapes_strings_only() -> None:
    assert escape_tree({"a": ["$x", 1, True, None], "$k": "${y}"}) == {
        "a": ["$$x", 1, True, None],
        "$k": "$${y}",
    }
