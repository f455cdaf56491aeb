"""What a text a person reads states (durations, numbers, quantiles), and what a query really has.

The alert-text and panel-text tests read both sides with these: the words are parsed from the text,
the truth from the PromQL (windows, comparisons, quantiles, the labels a result carries), never from
the output the text sits in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import promql_parser

from dashboards_as_code.grafana_math import parse_duration
from dashboards_as_code.promql import tree

UNIT_SECONDS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "week": 604800.0,
    "weeks": 604800.0,
}
DURATION = re.compile(
    r"(?<![\w.$])(?:(?P<n>\d+(?:\.\d+)?)\s?(?P<unit>"
    + "|".join(sorted(UNIT_SECONDS, key=len, reverse=True))
    + r")"
    r"|(?P<article>the last|last|an|one|a)\s(?P<word>hour|minute|day|week))\b(?!\s*\+)"
)
"""`10m`, `1h`, `6 h`, `5 minutes`, `30 days`, `the last hour`: a number and a unit, in Prometheus' form or
in words. `an hour` is a duration too; the callers decide whether it is a rate's unit (`100+ an hour`)."""

TEMPLATE = re.compile(r"\{\{.*?\}\}")


def without_templates(text: str) -> str:
    """The text a person reads, with Go-template actions (`{{ $value | humanize }}`) left out."""
    return TEMPLATE.sub("…", text)


@dataclass(frozen=True)
class StatedDuration:
    seconds: float
    words: str
    before: str
    """The text before it in its sentence, to tell `for 10m` from `the last 10m` from `over 30 days`."""
    end: int
    """Where it ends in the text."""


STATUS_PLURAL = re.compile(r"[1-5]\d\ds")
"""`404s`, `500s`: HTTP status codes in the plural, not seconds."""


def stated_durations(text: str) -> Iterator[StatedDuration]:
    """Every duration a text states, in seconds."""
    for match in DURATION.finditer(text):
        if STATUS_PLURAL.fullmatch(match.group(0)):
            continue
        if match.group("n") is not None:
            seconds = float(match.group("n")) * UNIT_SECONDS[match.group("unit")]
        else:
            seconds = UNIT_SECONDS[match.group("word")]
        sentence_start = max(text.rfind(". ", 0, match.start()), text.rfind(": ", 0, match.start()), 0)
        before = text[sentence_start : match.start()]
        if match.group("article") in ("the last", "last"):
            before += "last "
        yield StatedDuration(seconds, match.group(0), before, match.end())


RATE_UNIT = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\+?\s+[\w ]{0,40}?\b(?:an|a|per)\s+(hour|minute|day|second)\b"
)
"""`100+ requests an hour`: a rate stated per hour, whose `an hour` is a unit, not a duration."""


def percent(text: str) -> float:
    return float(text) / 100


def stated_thresholds(text: str) -> list[tuple[str, set[tuple[str, float]]]]:
    """Each threshold the text states, and the comparisons of the expression any one of which is it.

    `at least N` is `>= N`; `more than N` / `more than N%` is `> N` / `> N/100`; `N+ ... an hour` is
    `>= N` (the per-second rate times 3600, checked apart); `half` is `> 0.5`; `less than ... (N h)`
    is `< N` in seconds; `allows N%` (an SLO's budget) is the budget each burn factor multiplies, `> (F *
    N/100)`."""
    found: list[tuple[str, set[tuple[str, float]]]] = []
    for match in re.finditer(r"\bat least (\d+(?:\.\d+)?)(%?)", text):
        value = float(match.group(1)) / (100 if match.group(2) else 1)
        found.append((match.group(0), {(">=", value)}))
    for match in re.finditer(r"\bmore than (\d+(?:\.\d+)?)(%?)", text):
        value = float(match.group(1)) / (100 if match.group(2) else 1)
        found.append((match.group(0), {(">", value)}))
    for match in re.finditer(r"\b(\d+)\+", text):
        found.append((match.group(0), {(">=", float(match.group(1)))}))
    for match in re.finditer(r"\bhalf\b", text):
        found.append((match.group(0), {(">", 0.5)}))
    for match in re.finditer(r"\ballows (\d+(?:\.\d+)?)%", text):
        found.append((match.group(0), {(">", percent(match.group(1)))}))
    for match in re.finditer(r"\bless than\b[^.:]*?\((\d+(?:\.\d+)?)\s?([a-z]+)\)", text):
        value = float(match.group(1)) * UNIT_SECONDS[match.group(2)]
        found.append((match.group(0), {("<", value)}))
    return found


def seconds(duration: str) -> float:
    """A Prometheus duration (`5m`, `1h30m`) in seconds."""
    return parse_duration(duration)


def _seconds_of(delta: object) -> float:
    total = getattr(delta, "total_seconds", None)
    assert total is not None, delta
    return float(total())


GRAFANA_CHOSEN = "1ms"
"""What `$__rate_interval`, `$__range` and the like are read as here: Grafana chooses them, so they are
no window a text may state (`windows` leaves them out)."""


def parse(expr: str) -> Any:
    """The expression's tree, Grafana's interval variables as GRAFANA_CHOSEN."""
    return promql_parser.parse(tree.as_prometheus_receives(expr, interval=GRAFANA_CHOSEN))


def windows(expr: str, recorded: Mapping[str, list[str]] | None = None) -> set[float]:
    """Every range the expression reads, in seconds: range vectors, subqueries, and (through `recorded`,
    a recorded series' name -> the expressions that write it) the ranges of the recorded series it reads.
    """
    found: set[float] = set()
    for node, _ in tree.walk(parse(expr)):
        if isinstance(node, promql_parser.MatrixSelector | promql_parser.SubqueryExpr):
            found.add(_seconds_of(node.range))
        if isinstance(node, promql_parser.VectorSelector) and recorded and (node.name or "") in recorded:
            for source in recorded[node.name or ""]:
                found |= windows(source, recorded)
    return found - {seconds(GRAFANA_CHOSEN)}


def selected_series(expr: str, recorded: Mapping[str, list[str]] | None = None) -> set[str]:
    """The series names the expression selects, and those its recorded series are computed from."""
    found: set[str] = set()
    for selector in tree.vector_selectors(parse(expr)):
        name = selector.name or next(
            (m.value for m in selector.matchers.matchers if m.name == "__name__"), ""
        )
        if name:
            found.add(name)
        if recorded and name in recorded:
            for source in recorded[name]:
                found |= selected_series(source, recorded)
    return found


COMPARISONS = {">", ">=", "<", "<=", "==", "!="}


def threshold_numbers(node: object) -> Iterator[float]:
    """The number literals of a threshold (`(14.4 * 0.005)`, `0.01 * count(...)`), not those of a
    comparison nested inside it (they are their own)."""
    if isinstance(node, promql_parser.NumberLiteral):
        yield float(node.val)
        return
    if isinstance(node, promql_parser.BinaryExpr) and str(node.op) in COMPARISONS:
        return
    if isinstance(node, promql_parser.ParenExpr):
        yield from threshold_numbers(node.expr)
    elif isinstance(node, promql_parser.BinaryExpr):
        yield from threshold_numbers(node.lhs)
        yield from threshold_numbers(node.rhs)


def comparisons(expr: str) -> set[tuple[str, float]]:
    """Every (operator, number) of the expression's comparisons, the number on the threshold side:
    `x * 3600 >= 100` gives (">=", 100); `ratio > (14.4 * 0.005)` gives (">", 14.4) and (">", 0.005)."""
    found: set[tuple[str, float]] = set()
    for node, _ in tree.walk(parse(expr)):
        if isinstance(node, promql_parser.BinaryExpr) and str(node.op) in COMPARISONS:
            found |= {(str(node.op), value) for value in threshold_numbers(node.rhs)}
    return found


def literals(expr: str) -> set[float]:
    """Every number literal anywhere in the expression (a multiplier such as `* 3600` included)."""
    return {
        float(node.val) for node, _ in tree.walk(parse(expr)) if isinstance(node, promql_parser.NumberLiteral)
    }


def quantiles(expr: str) -> set[float]:
    """The quantiles `histogram_quantile(q, ...)` computes in the expression."""
    return {
        float(str(node.args[0]))
        for node, _ in tree.walk(parse(expr))
        if tree.function_name(node) == "histogram_quantile"
    }


ANY: frozenset[str] = frozenset({"*"})
"""A result whose labels the test cannot know (a series outside the catalog): any label may be there."""


def _selector_labels(node: Any, catalog: Mapping[str, frozenset[str]]) -> frozenset[str]:
    if node.name is None or node.name not in catalog:
        return ANY
    equal = {m.name for m in node.matchers.matchers if tree.operator(m) == "=" and m.value}
    return catalog[node.name] | equal


def _aggregation_labels(node: Any, catalog: Mapping[str, frozenset[str]]) -> frozenset[str]:
    grouping = tree.grouping_labels(node)
    if grouping is None:  # topk/bottomk keep their series; sum() and count() keep no label
        return result_labels(node.expr, catalog) if str(node.op) in ("topk", "bottomk") else frozenset()
    how, labels = grouping
    if how == "by":
        return frozenset(labels)
    inner = result_labels(node.expr, catalog)
    return inner if inner == ANY else inner - set(labels)


def _call_labels(node: Any, catalog: Mapping[str, frozenset[str]]) -> frozenset[str]:
    name = tree.function_name(node)
    if name == "label_replace":
        inner = result_labels(node.args[0], catalog)
        return inner if inner == ANY else inner | {str(node.args[1].val)}
    if name in ("absent", "absent_over_time", "vector", "time", "scalar"):
        return frozenset()
    scalars = (promql_parser.NumberLiteral, promql_parser.StringLiteral)
    vectors = [arg for arg in node.args if not isinstance(arg, scalars)]
    return result_labels(vectors[-1], catalog) if vectors else frozenset()


def _binary_labels(node: Any, catalog: Mapping[str, frozenset[str]]) -> frozenset[str]:
    lhs, rhs = result_labels(node.lhs, catalog), result_labels(node.rhs, catalog)
    if str(node.op) == "or":  # a series of either side: only what both sides carry is sure
        return ANY if ANY in (lhs, rhs) else lhs & rhs
    return rhs if isinstance(node.lhs, promql_parser.NumberLiteral) else lhs


def result_labels(node: Any, catalog: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """The labels every series of the result carries, as Prometheus computes them: a selector's
    catalog labels (the contract's, with `job` and `instance`; a recorded series' own) and its equality
    matchers, `by (...)` of an aggregation, the left side of a comparison, an arithmetic operator or
    `and`/`unless`, what both sides share for `or`, `label_replace`'s new label."""
    if isinstance(node, promql_parser.ParenExpr | promql_parser.SubqueryExpr):
        return result_labels(node.expr, catalog)
    if isinstance(node, promql_parser.MatrixSelector):
        return result_labels(node.vector_selector, catalog)
    if isinstance(node, promql_parser.VectorSelector):
        return _selector_labels(node, catalog)
    if isinstance(node, promql_parser.AggregateExpr):
        return _aggregation_labels(node, catalog)
    if isinstance(node, promql_parser.Call):
        return _call_labels(node, catalog)
    if isinstance(node, promql_parser.BinaryExpr):
        return _binary_labels(node, catalog)
    return frozenset()
