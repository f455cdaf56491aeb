"""Reading LogQL with Grafana's own grammar, through Node (`tools/logql/check.js`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dashboards_as_code.external_tools import LOGQL
from dashboards_as_code.grafana_math import literal_intervals, substitute
from dashboards_as_code.lint.checker_cache import ask_node_checker


@dataclass(frozen=True)
class LogQLSyntax:
    errors: tuple[int, ...]
    """Character offsets of parse errors in the expression as given."""
    selector_labels: tuple[str, ...]
    filter_labels: tuple[str, ...]
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
            parsers=tuple(item["parsers"]),
        )
        for item in json.loads(answer)
    }
