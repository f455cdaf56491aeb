"""panel-unit: the unit a panel claims is the unit its queries return, given the telemetry contract.

Quantiles of a seconds histogram are seconds, an error ratio is a ratio (percentunit), a rate is
per second, a gauge has the unit of its signal. A panel in `ms` over a seconds histogram is off
by a factor of a thousand and nobody notices until an incident.
"""

from collections.abc import Iterator
from typing import Any

import promql_parser

from engine.lint import LintContext, Query, promql_check
from engine.lint.promql_ast import function_name, vector_selectors

ID = "panel-unit"
PER_SECOND_UNITS = {"reqps", "rps", "ops", "cps", "wps", "short"}


def expected_units(tree: Any, context: LintContext) -> tuple[set[str], str]:
    """Units that fit the query's result, and why."""
    while True:
        if isinstance(tree, promql_parser.AggregateExpr | promql_parser.ParenExpr):
            tree = tree.expr  # topk/sum/(...) keep the unit of what they aggregate
        elif isinstance(tree, promql_parser.BinaryExpr) and str(tree.op) in ("and", "or", "unless"):
            tree = tree.lhs  # set operations keep the left side's samples
        else:
            break
    series = {context.series(s.name) for s in vector_selectors(tree)} - {None}
    infos = [s for s in series if s is not None]
    if function_name(tree) == "histogram_quantile":
        units = {s.histogram_unit for s in infos if s.histogram_unit}
        return units, "a quantile of a histogram in " + ", ".join(sorted(units))
    if (
        isinstance(tree, promql_parser.BinaryExpr)
        and str(tree.op) == "/"
        and len({s.name for s in infos}) == 1
    ):
        return {"percentunit"}, "a ratio of one series to itself"
    if function_name(tree) in {"rate", "irate"}:
        return PER_SECOND_UNITS, "a per-second rate"
    units = {s.grafana_unit for s in infos}
    if units and units <= {"reqps"}:
        return PER_SECOND_UNITS, "a recorded per-second rate"
    return units, "the unit of " + ", ".join(sorted(s.name for s in infos))


def problems(context: LintContext, query: Query) -> Iterator[str]:
    unit = ((query.panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
    if not unit:
        return  # panel-docs reports it
    allowed, reason = expected_units(query.tree, context)
    if allowed and unit not in allowed:
        yield f"unit {unit!r} does not fit {query.name}: it returns {reason}"


CHECK = promql_check(ID, __doc__, problems)
