"""Reading LogQL with Grafana's own grammar, through Node (`tools/logql/check.js`): the labels and
parsers a query uses (lint), and a log query's stream selector and pipeline stages (doctor)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dashboards_as_code.checker_cache import ask_node_checker
from dashboards_as_code.external_tools import LOGQL
from dashboards_as_code.grafana_math import literal_intervals, substitute

_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)\s*')


@dataclass(frozen=True)
class StreamMatcher:
    """One matcher of a stream selector, `name op "value"`, as Loki reads it."""

    name: str
    op: str
    value: str

    @classmethod
    def read(cls, text: str) -> StreamMatcher | None:
        """A matcher as the grammar delimited it, its value unquoted as LogQL strings are (Go
        syntax); None for a broken one (`a=` in a query that does not parse), which the `logql`
        check reports: leaving it out only widens what the selector may match."""
        found = _MATCHER.fullmatch(text)
        if found is None:
            return None
        name, op, quoted = found.groups()
        try:
            value = quoted[1:-1] if quoted.startswith("`") else str(json.loads(quoted))
        except ValueError:  # a Go escape JSON lacks (`\x41`): compare the text as written
            value = quoted[1:-1]
        return cls(name, op, value)

    def may_match(self, stream: Mapping[str, str]) -> bool:
        """Whether a stream whose known labels are `stream` can pass: a label the stream's known
        labels do not name may hold any value, and so may a value holding a template variable: only a
        contradiction rules the stream out.
        Regexes are fully anchored, as Loki's (and Prometheus') label matchers are."""
        if self.name not in stream or "$" in self.value:  # a template variable may take any value
            return True
        actual = stream[self.name]
        if self.op in ("=", "!="):
            return (actual == self.value) == (self.op == "=")
        try:
            hit = re.fullmatch(self.value, actual, re.DOTALL) is not None
        except re.error:
            return True
        return hit == (self.op == "=~")


@dataclass(frozen=True)
class LogQLSyntax:
    errors: tuple[int, ...]
    """Character offsets of parse errors in the expression as given."""
    selector_labels: tuple[str, ...]
    selectors: tuple[tuple[StreamMatcher, ...], ...]
    """Each stream selector's matchers (a metric query may hold several selectors)."""
    filter_labels: tuple[str, ...]
    format_labels: tuple[str, ...]
    """The names `label_format` stages make (every one of a stage's, not just its first)."""
    parsers: tuple[str, ...]


def with_literal_intervals(expr: str) -> str:
    """LogQL ranges need a literal duration; Grafana's interval variables become `5m`."""
    return substitute(expr, literal_intervals("5m"), {})


def inspect(expressions: Mapping[str, str], project_root: Path | None = None) -> dict[str, LogQLSyntax]:
    """Parse every expression in one Node process. Raises ToolMissingError without Node or the grammar."""
    payload = json.dumps(
        [{"id": key, "expr": with_literal_intervals(expr)} for key, expr in expressions.items()]
    )
    return ask_node_checker(LOGQL, project_root, payload, parse=_syntaxes)


def _syntaxes(answer: str) -> dict[str, LogQLSyntax]:
    """The grammar's answer read; raises on anything else, so a damaged cache entry is a miss."""
    return {
        item["id"]: LogQLSyntax(
            errors=tuple(error["from"] for error in item["errors"]),
            selector_labels=tuple(item["selectorLabels"]),
            selectors=tuple(
                tuple(m for m in map(StreamMatcher.read, matchers) if m is not None)
                for matchers in item["selectors"]
            ),
            filter_labels=tuple(item["filterLabels"]),
            format_labels=tuple(item["formatLabels"]),
            parsers=tuple(item["parsers"]),
        )
        for item in json.loads(answer)
    }


@dataclass(frozen=True)
class Stage:
    """One stage of a log pipeline, as the grammar delimits it."""

    text: str
    """Exactly as written, its pipe included: `| json`, `|= "x"`, or a first line filter `!= "x"`."""
    kind: Literal["line-filter", "label-filter", "format"]
    labels: tuple[str, ...]
    """The labels a label filter reads, or the names a `label_format` makes."""


@dataclass(frozen=True)
class LogPipeline:
    """A log query's stream selector and its stages; each line filter is a stage of its own."""

    selector: str
    stages: tuple[Stage, ...]

    def through(self, count: int) -> str:
        """The query with only its first `count` stages."""
        return " ".join([self.selector, *(stage.text for stage in self.stages[:count])])


def log_pipeline(expr: str, project_root: Path | None = None) -> LogPipeline:
    """`expr` split by the grammar. ValueError if it does not parse or is not a log query (a metric
    query, say); ToolMissingError without Node or the grammar. The expression is read as given (its
    intervals are not replaced), so the grammar's offsets are offsets into it."""
    answer = ask_node_checker(LOGQL, project_root, json.dumps([{"id": "q", "expr": expr}]), parse=_answer_of)
    if answer["errors"]:
        offset = answer["errors"][0]["from"]
        raise ValueError(f"the LogQL does not parse at character {offset}: {expr!r}")
    found = answer["pipeline"]
    if found is None:
        raise ValueError(f"not a log query (no stream selector first): {expr!r}")
    stages = tuple(
        Stage(expr[stage["from"] : stage["to"]], stage["kind"], tuple(stage["labels"]))
        for stage in found["stages"]
    )
    return LogPipeline(expr[found["selector"]["from"] : found["selector"]["to"]], stages)


def _answer_of(answer: str) -> dict[str, Any]:
    """The grammar's one answer, checked for the keys read above (a damaged cache entry is a miss)."""
    (item,) = json.loads(answer)
    pipeline = item["pipeline"]
    if pipeline is not None:
        for stage in pipeline["stages"]:
            if stage["kind"] not in ("line-filter", "label-filter", "format"):
                raise ValueError(f"unknown stage kind {stage['kind']!r}")
            if not (isinstance(stage["from"], int) and isinstance(stage["to"], int)):
                raise TypeError("a stage's offsets are not numbers")
    found: dict[str, Any] = item
    return found
