"""panel-unit: a panel's unit displays what its queries return; a recording rule declares what it records.

Quantiles of a seconds histogram are seconds, an error ratio is a ratio (percentunit), a rate is
per second, a gauge has the unit of its signal. A panel in `ms` over a seconds histogram is off
by a factor of a thousand and nobody notices until an incident. The finding lists the units that
fit (one table, `dashboards_as_code/units.py`, which the tests read too). A panel that reads a recorded series
gets the unit its rule declares, so every recording rule's declared unit (`grafana_unit`) must fit
its own expression as well, hand-written or derived from a `q.tenant_sum` query: otherwise a wrong
unit would pass through the rule unseen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser

from dashboards_as_code.defaults import RULES_HOME
from dashboards_as_code.errors import Location
from dashboards_as_code.lint import Check, Finding, LintContext, Query, where
from dashboards_as_code.promql.series_catalog import SeriesInfo
from dashboards_as_code.promql.tree import function_name, parse, vector_selectors
from dashboards_as_code.units import (
    BUDGET_LEFT,
    BURN_RATE,
    COUNT,
    PER_SECOND,
    RATE_CHANGE,
    RATIO,
    Quantity,
    declared_by,
)

ID = "panel-unit"

Series = Callable[[str | None], SeriesInfo | None]


@dataclass(frozen=True)
class Returns:
    """What an expression returns: its quantity (when the table knows it), the units that fit, and why."""

    quantity: Quantity | None
    units: tuple[str, ...]
    reason: str


def _unwrapped(tree: Any) -> Any:
    """The part of the expression whose values come out: aggregations, parentheses and set
    operations keep the unit of what they hold, and so does adding or subtracting a number (`1 - x`)."""
    while True:
        if isinstance(tree, promql_parser.AggregateExpr) and str(tree.op) in ("count", "count_values"):
            return tree
        if isinstance(tree, promql_parser.AggregateExpr | promql_parser.ParenExpr):
            tree = tree.expr
        elif isinstance(tree, promql_parser.BinaryExpr) and str(tree.op) in ("and", "or", "unless"):
            tree = tree.lhs
        elif isinstance(tree, promql_parser.BinaryExpr) and str(tree.op) in ("+", "-"):
            if isinstance(tree.lhs, promql_parser.NumberLiteral):
                tree = tree.rhs
            elif isinstance(tree.rhs, promql_parser.NumberLiteral):
                tree = tree.lhs
            else:
                return tree
        else:
            return tree


def _is_budget_left(tree: Any, series: Series) -> bool:
    """`1 - <ratio> / <budget>`, seen before `_unwrapped` drops the `1 -` (which keeps a ratio a ratio)."""
    while isinstance(tree, promql_parser.ParenExpr):
        tree = tree.expr
    if not (isinstance(tree, promql_parser.BinaryExpr) and str(tree.op) == "-"):
        return False
    if not (isinstance(tree.lhs, promql_parser.NumberLiteral) and tree.lhs.val == 1):
        return False
    found = returns(tree.rhs, series)
    return found is not None and found.quantity is BURN_RATE


def _family(name: str) -> str:
    """A histogram's bucket and count series are one family: bucket/count is the share below `le`."""
    return name.removesuffix("_bucket").removesuffix("_count")


def _of(quantity: Quantity | None, unit: str, reason: str) -> Returns:
    return Returns(quantity, quantity.units if quantity else (unit,), reason)


def returns(tree: Any, series: Series) -> Returns | None:
    """What the expression returns, or None when nothing says (no known series in it)."""
    if _is_budget_left(tree, series):
        return _of(BUDGET_LEFT, BUDGET_LEFT.declared, "one minus a burn rate: the share of a budget left")
    tree = _unwrapped(tree)
    if isinstance(tree, promql_parser.AggregateExpr):  # count(...)
        return _of(COUNT, COUNT.declared, "a count of series")
    infos = [info for info in (series(s.name) for s in vector_selectors(tree)) if info is not None]
    names = sorted({info.name for info in infos})
    if function_name(tree) == "histogram_quantile":
        units = sorted({info.histogram_unit for info in infos if info.histogram_unit})
        if len(units) != 1:
            return None
        return _of(declared_by(units[0]), units[0], f"a quantile of a histogram in {units[0]!r}")
    if (
        isinstance(tree, promql_parser.BinaryExpr)
        and str(tree.op) == "/"
        and len({_family(name) for name in names}) == 1
        and not any(name.endswith("_sum") for name in names)
    ):
        return _of(RATIO, RATIO.declared, "a ratio of one series to itself")
    if isinstance(tree, promql_parser.BinaryExpr) and str(tree.op) in ("*", "/", "-"):
        top, bottom = returns(tree.lhs, series), returns(tree.rhs, series)
        by_number = isinstance(tree.rhs, promql_parser.NumberLiteral)
        if str(tree.op) == "/" and by_number and top and top.quantity is RATIO:
            return _of(BURN_RATE, BURN_RATE.declared, "a ratio over a budget")
        if str(tree.op) == "/" and top and bottom and top.quantity is PER_SECOND is bottom.quantity:
            return _of(RATIO, RATIO.declared, "a ratio of two per-second rates")
        if str(tree.op) == "-" and top and bottom and top.quantity is PER_SECOND is bottom.quantity:
            return _of(RATE_CHANGE, RATE_CHANGE.declared, "a difference of two per-second rates")
        if any(isinstance(side, promql_parser.NumberLiteral) for side in (tree.lhs, tree.rhs)):
            return None  # scaled by some other number (a per-minute count...): nothing the table knows
    if function_name(tree) in {"rate", "irate"}:
        return _of(PER_SECOND, PER_SECOND.declared, "a per-second rate")
    units = sorted({info.grafana_unit for info in infos})
    if len(units) != 1:
        return Returns(None, tuple(units), f"the units of {', '.join(names)}") if units else None
    recorded = any(info.recorded for info in infos)
    quantity = declared_by(units[0])
    said = f"{', '.join(names)} {'is recorded' if recorded else 'is'} in {units[0]!r}"
    return _of(quantity, units[0], f"{quantity.name} ({said})" if quantity else f"what {said}")


def _panel(context: LintContext, query: Query) -> Iterator[str]:
    unit = ((query.panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
    if not unit:
        return  # panel-docs reports it
    found = returns(query.tree, context.series)
    if found is not None and unit not in found.units:
        yield (
            f"unit {unit!r} does not fit {query.name}: it returns {found.reason}; "
            f"units that fit: {', '.join(found.units)}"
        )


def _rules(context: LintContext) -> Iterator[Finding]:
    """Each recording rule once (the `__all__` twin records the same quantity as its tenant rows).

    The declared unit must stand for what the rule records (`dashboards_as_code.units.declared_by`), not
    merely display it: `short` can show a rate, but declared it says "a count", and a panel reading the
    series in `reqps` would then be refused.
    """
    seen: set[str] = set()
    for group in context.project.rule_groups:
        for rule in group.recording:
            if rule.record in seen:
                continue
            seen.add(rule.record)
            try:
                found = returns(parse(rule.expr.text), context.series)
            except ValueError:
                continue  # prometheus-rules reports it (promtool)
            if found is None:
                continue
            quantity = found.quantity
            if quantity is not None:
                choices = [unit for unit in quantity.units if declared_by(unit) is quantity]
                right = declared_by(rule.grafana_unit) is quantity
            else:
                choices, right = list(found.units), rule.grafana_unit in found.units
            if not right:
                others = f" (or {', '.join(repr(u) for u in choices[1:])})" if choices[1:] else ""
                yield Finding(
                    Location(file=RULES_HOME),
                    ID,
                    f"recording rule {rule.record} (group {group.name!r}) declares grafana_unit="
                    f"{rule.grafana_unit!r}, but it records {found.reason}: declare {choices[0]!r}{others}; "
                    "a panel reading the series is held to the unit declared here",
                )


def run(context: LintContext) -> Iterator[Finding]:
    for query in context.parsed_prometheus_queries:
        for message in _panel(context, query):
            yield Finding(where(query.board, query.panel), ID, message)
    yield from _rules(context)


CHECK = Check(ID, __doc__ or "", run)
