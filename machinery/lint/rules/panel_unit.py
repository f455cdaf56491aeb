"""panel-unit: the unit a panel claims is the unit its queries return, given the telemetry contract.

Quantiles of a seconds histogram are seconds, an error ratio is a ratio (percentunit), a rate is
per second, a gauge has the unit of its signal. A panel in `ms` over a seconds histogram is off
by a factor of a thousand and nobody notices until an incident.
"""

from collections.abc import Iterator
from typing import Any

import promql_parser

from machinery.lint import Finding, LintContext, Rule, where
from machinery.lint.promql import function_name, parse, vector_selectors
from telemetry.contract import CONTRACT

ID = "panel-unit"
PER_SECOND_UNITS = {"reqps", "rps", "ops", "cps", "wps", "short"}


def expected_units(tree: Any) -> tuple[set[str], str]:
    """Units that fit the query's result, and why."""
    while isinstance(tree, promql_parser.AggregateExpr | promql_parser.ParenExpr):
        tree = tree.expr  # topk/sum/(...) keep the unit of what they aggregate
    signals = {CONTRACT.metric_for_series(s.name or "") for s in vector_selectors(tree)} - {None}
    if function_name(tree) == "histogram_quantile":
        units = {s.grafana_unit for s in signals if s is not None}
        return units, "a quantile of a histogram in " + ", ".join(sorted(units))
    if isinstance(tree, promql_parser.BinaryExpr) and str(tree.op) == "/" and len(signals) == 1:
        return {"percentunit"}, "a ratio of one signal to itself"
    if function_name(tree) in {"rate", "irate"}:
        return PER_SECOND_UNITS, "a per-second rate"
    units = {s.grafana_unit for s in signals if s is not None}
    return units, "the signal's unit " + ", ".join(sorted(units))


def check(context: LintContext) -> Iterator[Finding]:
    for definition, panel, target in context.targets("prometheus"):
        unit = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
        if not unit:
            continue  # panel-docs reports it
        try:
            tree = parse(str(target.get("expr", "")))
        except ValueError:
            continue  # query-metrics reports it
        allowed, reason = expected_units(tree)
        if allowed and unit not in allowed:
            yield Finding(
                where(definition, panel),
                ID,
                f"unit {unit!r} does not fit query {target.get('refId')}: it returns {reason}",
            )


RULE = Rule(ID, __doc__ or "", check)
