"""tenant-all-row: a `$tenant` filter reads a series with a `tenant_id="__all__"` row when All is `__all__`.

When a dashboard's tenant variable sends `__all__` for All (`dashboards_as_code.defaults.ALL_TENANTS`, so that
All reads one pre-summed row instead of every tenant), the tenant matcher selects only that row. A
raw contract series, or a recorded one whose rule has no `__all__` twin, has no such row: the panel
is empty at All, which is what a user opens first, and correct for every single tenant, so nothing
else notices. The fix is `q.tenant_sum` (or `q.tenant_topk`), whose query reads a recorded series and
brings the per-tenant rule and its `__all__` twin with it. The other way round is refused too: a
series that has an `__all__` row, filtered on a variable whose All value is a regex such as `.*`,
counts every tenant twice at All (their rows and the `__all__` row).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import promql_parser

from dashboards_as_code.contract.model import MetricSignal
from dashboards_as_code.defaults import ALL_TENANTS, TENANT_LABEL
from dashboards_as_code.definitions.prometheus_rule import recorded_series
from dashboards_as_code.lint import Check, Finding, LintContext, Query, where
from dashboards_as_code.promql.tree import grouping_labels, operator, walk

ID = "tenant-all-row"
VARIABLE_REFERENCE = re.compile(r"^\$(\w+)$|^\$\{(\w+)(?::[^}]*)?\}$|^\[\[(\w+)\]\]$")
"""`$name`, `${name}`, `${name:format}` or `[[name]]` as a matcher's whole value."""
TENANT_OPS = {"=~", "="}


def _all_values(board_document: dict[str, Any]) -> dict[str, str]:
    """Variable name -> what Grafana sends for All, for the variables that offer All with a custom value."""
    found = {}
    for variable in (board_document.get("templating") or {}).get("list", []) or []:
        name, value = variable.get("name"), variable.get("allValue")
        if variable.get("includeAll") and isinstance(name, str) and isinstance(value, str) and value:
            found[name] = value
    return found


def _tenant_variable(selector: Any) -> str | None:
    """The variable a tenant matcher of this selector filters on (`tenant_id=~"$tenant"`), if any."""
    for matcher in selector.matchers.matchers:
        if matcher.name == TENANT_LABEL and operator(matcher) in TENANT_OPS:
            reference = VARIABLE_REFERENCE.match(matcher.value)
            if reference:
                return next(group for group in reference.groups() if group)
    return None


def _excludes_all_row(selector: Any) -> bool:
    return any(
        m.name == TENANT_LABEL and operator(m) == "!=" and m.value == ALL_TENANTS
        for m in selector.matchers.matchers
    )


def _matches_all_row(all_value: str) -> bool:
    """Whether the All value, used as Grafana uses it in `=~`, selects the `__all__` row (`.*` does)."""
    try:
        return re.fullmatch(all_value, ALL_TENANTS) is not None
    except re.error:
        return False


def _python_name(context: LintContext, signal: MetricSignal) -> str:
    """The name the contract module gives the signal (`WHATSAPP_MESSAGES_SENT`), for a fix to paste:
    recorded by the loader when it imported the module (a later load replaces sys.modules' objects)."""
    name = context.project.signal_names.get(signal.key)
    if name is not None:
        return name
    return f"<the {signal.key!r} signal of {context.project.contract_source}>"


def _quoted(text: str) -> str:
    """A Python string literal in double quotes, as the definitions write them."""
    return json.dumps(text)


def _argument(matcher: Any) -> str:
    label, value, op = _quoted(matcher.name), _quoted(matcher.value), operator(matcher)
    if op == "=":
        return f"q.eq({label}, {value})"
    if op == "!=":
        return f"q.ne({label}, {value})"
    return f"q.Matcher({label}, {_quoted(op)}, {value})"


def _fix(context: LintContext, signal: MetricSignal, selector: Any, parents: tuple[Any, ...]) -> str:
    """The builder call that reads the same data through a recorded series with an `__all__` row."""
    identity = dict(signal.identity)
    arguments = [
        _argument(m)
        for m in selector.matchers.matchers
        if m.name not in (TENANT_LABEL, "__name__") and identity.get(m.name) != m.value
    ]
    series = selector.name
    part = next((p for p in ("bucket", "count", "sum") if series == f"{signal.prometheus_name}_{p}"), None)
    aggregates = [p for p in reversed(parents) if isinstance(p, promql_parser.AggregateExpr)]
    grouping = grouping_labels(aggregates[0]) if aggregates else None
    by = [label for label in grouping[1] if label != TENANT_LABEL] if grouping and grouping[0] == "by" else []
    ranked = next((a for a in aggregates if str(a.op) in ("topk", "bottomk")), None)
    per_tenant = ranked is not None or (grouping is not None and TENANT_LABEL in grouping[1])
    name = _python_name(context, signal)
    extra = [f"part={_quoted(part)}"] if part else []
    if per_tenant:
        k = str(ranked.param) if ranked is not None else "10"
        return f"q.tenant_topk({', '.join([k, name, *arguments, *extra])})"
    if by:
        extra.insert(0, f"by=({', '.join(_quoted(label) for label in by)},)")
    return f"q.tenant_sum({', '.join([name, *arguments, *extra])})"


def _source_signal(context: LintContext, series: str) -> MetricSignal | None:
    """The contract signal a series is (raw) or is recorded from (a rule reading one signal)."""
    signal = context.project.contract.metric_for_series(series)
    if signal is not None:
        return signal
    rule = recorded_series(context.project.rule_groups).get(series)
    signals = {s.key: s for s in rule.expr.signals} if rule is not None else {}
    return next(iter(signals.values())) if len(signals) == 1 else None


def _problems(context: LintContext, query: Query, all_values: dict[str, str]) -> Iterator[str]:
    reported: set[str] = set()
    for node, parents in walk(query.tree):
        if not isinstance(node, promql_parser.VectorSelector) or not node.name or node.name in reported:
            continue
        series: str = node.name
        variable = _tenant_variable(node)
        info = context.series(series)
        if variable is None or variable not in all_values or info is None:
            continue
        all_value = all_values[variable]
        if all_value == ALL_TENANTS and not info.all_row:
            reported.add(series)
            what = (
                f'the recorded series {node.name}, whose rule has no {TENANT_LABEL}="{ALL_TENANTS}" twin'
                if info.recorded
                else f'the raw series {node.name}, which has no {TENANT_LABEL}="{ALL_TENANTS}" row'
            )
            signal = _source_signal(context, series)
            fix = (
                f"read it with {_fix(context, signal, node, parents)} "
                "from dashboards_as_code.define's queries, which records "
                f"the per-tenant series and its {ALL_TENANTS} row for you (build writes the rules)"
                if signal is not None and signal.tenant_scoped and not info.recorded
                else f"record its {ALL_TENANTS} twin (the same rule summed without {TENANT_LABEL}, "
                f'labels={{"{TENANT_LABEL}": "{ALL_TENANTS}"}}), or read '
                + (
                    f"the signal with {_fix(context, signal, node, parents)}"
                    if signal is not None and signal.tenant_scoped
                    else "a tenant-scoped signal with q.tenant_sum(...)"
                )
            )
            yield (
                f'{query.name} applies {TENANT_LABEL}=~"${variable}" to {what}: with All selected Grafana '
                f"sends ${variable} = {ALL_TENANTS} and the panel is empty; {fix}"
            )
        elif all_value != ALL_TENANTS and info.all_row and _matches_all_row(all_value):
            if _excludes_all_row(node):
                continue
            reported.add(series)
            yield (
                f'{query.name} applies {TENANT_LABEL}=~"${variable}" to {node.name}, which has a '
                f'{TENANT_LABEL}="{ALL_TENANTS}" row, but ${variable}\'s All value is {all_value!r}: at '
                f"All it adds the {ALL_TENANTS} row to every tenant's, twice the total; give the "
                "variable all_value=ALL_TENANTS (from dashboards_as_code.define)"
            )


def run(context: LintContext) -> Iterator[Finding]:
    for query in context.parsed_prometheus_queries:
        all_values = _all_values(query.board.document)
        if not all_values:
            continue
        for message in _problems(context, query, all_values):
            yield Finding(where(query.board, query.panel), ID, message)


CHECK = Check(ID, __doc__ or "", run)
