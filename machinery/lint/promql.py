"""Reading PromQL the way Prometheus does, after Grafana has filled in its variables."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import promql_parser

# Grafana's built-in interval variables, replaced by a plausible duration before parsing.
GRAFANA_INTERVALS = ("$__rate_interval", "$__interval", "$__range", "$__auto")


def substitute(expr: str, variables: Mapping[str, str] | None = None) -> str:
    """`expr` as Prometheus receives it: built-in intervals as `5m`, `$name`/`${name}` as given."""
    for builtin in GRAFANA_INTERVALS:
        expr = expr.replace(builtin, "5m")
    for name, value in (variables or {}).items():
        expr = re.sub(r"\$\{" + re.escape(name) + r"\}|\$" + re.escape(name) + r"\b", value, expr)
    return expr


def parse(expr: str, variables: Mapping[str, str] | None = None) -> Any:
    """The AST, or ValueError with the parser's message."""
    return promql_parser.parse(substitute(expr, variables))


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
