"""PromQL trees, read the way Prometheus does after Grafana has filled in its variables."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import promql_parser

from dashboards_as_code.grafana_math import literal_intervals, substitute
from dashboards_as_code.queries import MatchOp


def as_prometheus_receives(
    expr: str, variables: Mapping[str, str] | None = None, interval: str = "5m"
) -> str:
    """`expr` as Prometheus receives it: built-in intervals as `interval`, `$name`/`${name}` as given."""
    return substitute(expr, literal_intervals(interval), variables or {})


def parse(expr: str, variables: Mapping[str, str] | None = None) -> Any:
    """The AST, or ValueError with the parser's message."""
    return promql_parser.parse(as_prometheus_receives(expr, variables))


_CHILDREN = ("lhs", "rhs", "expr", "param", "args", "vector_selector")


def vector_selectors(node: Any) -> Iterator[Any]:
    """Every VectorSelector in the tree (inside rate(), sum(), binary operators, subqueries...)."""
    if isinstance(node, promql_parser.VectorSelector):
        yield node
        return
    for name in _CHILDREN:
        child = getattr(node, name, None)
        if child is None:
            continue
        for item in child if isinstance(child, list) else [child]:
            yield from vector_selectors(item)


def walk(node: Any, parents: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Every node with its ancestors (outermost first)."""
    yield node, parents
    for name in _CHILDREN:
        child = getattr(node, name, None)
        if child is None:
            continue
        for item in child if isinstance(child, list) else [child]:
            yield from walk(item, (*parents, node))


_OPERATOR_TEXT: dict[str, MatchOp] = {
    str(promql_parser.MatchOp.Equal): "=",
    str(promql_parser.MatchOp.NotEqual): "!=",
    str(promql_parser.MatchOp.Re): "=~",
    str(promql_parser.MatchOp.NotRe): "!~",
}
"""The parser's matcher operators as PromQL writes them; keyed by the operator's name (the parser's
MatchOp is neither hashable nor a string)."""


def operator(matcher: Any) -> MatchOp:
    """A label matcher's operator as PromQL writes it: `=`, `!=`, `=~` or `!~`."""
    return _OPERATOR_TEXT[str(matcher.op)]


def matchers(selector: Any) -> set[tuple[str, str, str]]:
    """A vector selector's label matchers as (label, operator as written, value)."""
    return {(m.name, operator(m), m.value) for m in selector.matchers.matchers}


def function_name(node: Any) -> str | None:
    return str(node.func.name) if isinstance(node, promql_parser.Call) else None


def grouping_labels(node: Any) -> tuple[str, list[str]] | None:
    """For `sum by (a, b) (...)`: ("by", ["a", "b"]); ("without", [...]); None without a modifier."""
    modifier = getattr(node, "modifier", None)
    if modifier is None:
        return None
    text = str(modifier).strip()
    match = re.match(r"(by|without)\s*\((.*)\)", text)
    if not match:
        return None
    return match.group(1), [label.strip() for label in match.group(2).split(",") if label.strip()]
