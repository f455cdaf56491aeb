"""Reading LogQL with Grafana's own grammar, through Node (`tools/logql/check.js`): the labels and
parsers a query uses (lint), and a log query's stream selector and pipeline stages (doctor)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dashboards_as_code.checker_cache import ask_node_checker
from dashboards_as_code.external_tools import LOGQL
from dashboards_as_code.grafana_math import literal_intervals, substitute


@dataclass(frozen=True)
class LogQLSyntax:
    errors: tuple[int, ...]
    """Character offsets of parse errors in the expression as given."""
    selector_labels: tuple[str, ...]
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
