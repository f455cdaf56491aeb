"""Why a LogQL panel is empty: the stream selector first, then each pipeline stage in turn.

Loki's OTLP endpoint turns only a fixed list of resource attributes into index labels; everything
else (trace_id, severity_number, tenant_id) is structured metadata, read with a label filter. So an
empty log panel is one of: no stream at all, a selector on a label Loki does not index, a filter on
a field no line carries, or lines that exist but none that pass the filter (no error in the window).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dashboards_as_code.defaults import TENANT_LABEL
from dashboards_as_code.doctor.causes import Cause, CauseCode, Status
from dashboards_as_code.doctor.http import SourceError
from dashboards_as_code.doctor.loki_api import LokiApi

_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_FIELD = re.compile(r'(?<![\w"])([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|>=|<=|==|=|>|<)')
_FORMAT_STAGES = {"json", "logfmt", "regexp", "pattern", "unpack", "line_format", "label_format", "drop",
                  "keep", "decolorize", "unwrap"}  # fmt: skip
SHOWN_VALUES = 5


def _selector_end(text: str) -> int:
    """Index of the `}` that closes the stream selector (quotes and backticks respected), or -1."""
    depth, quote = 0, ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote and text[index - 1] != "\\" else quote
        elif char in '"`':
            quote = char
        elif char in "{}":
            depth += 1 if char == "{" else -1
            if depth == 0:
                return index
    return -1


def _stages(pipeline: str) -> list[str]:
    """`| a | b` -> ["a", "b"]: split on the `|` outside quotes; `|=` keeps its `=` as the stage's start."""
    stages, current, quote, previous = [], "", "", ""
    for char in pipeline:
        if quote:
            quote = "" if char == quote and previous != "\\" else quote
        elif char in '"`':
            quote = char
        elif char == "|":
            stages.append(current.strip())
            current, previous = "", char
            continue
        current, previous = current + char, char
    return [stage for stage in [*stages, current.strip()] if stage]


def split_pipeline(expr: str) -> tuple[str, list[str]]:
    """`{a="b"} | x="y" |= "z"` -> ('{a="b"}', ['x="y"', '= "z"'])."""
    text = expr.strip()
    end = _selector_end(text) if text.startswith("{") else -1
    if end < 0:
        raise ValueError(f"not a log query (no stream selector first): {expr!r}")
    return text[: end + 1], _stages(text[end + 1 :])


def _stage_kind(stage: str) -> str:
    if stage[:1] in "=~":
        return "line-filter"
    word = re.match(r"[a-z_]+", stage)
    return "format" if word and word.group(0) in _FORMAT_STAGES else "label-filter"


def _produced(stage: str) -> set[str]:
    """Labels a `label_format` stage creates (so a later filter on them is not a missing field)."""
    if not stage.startswith("label_format"):
        return set()
    return {name for name, _, _ in _MATCHER.findall(stage.removeprefix("label_format"))}


def _piped(stage: str) -> str:
    """One stage as LogQL writes it: a line filter (`|=`, `|~`) keeps its pipe glued to its operator."""
    return f"|{stage}" if stage[:1] in "=~" else f"| {stage}"


def _pipe(selector: str, stages: list[str]) -> str:
    """The stages joined back, each as LogQL writes it."""
    return selector + "".join(f" {_piped(s)}" for s in stages)


@dataclass
class LokiDoctor:
    api: LokiApi
    range_label: str
    """The window looked at, for messages ("the last 6 h")."""

    def diagnose(self, expr: str) -> tuple[Status, list[Cause]]:
        try:
            selector, stages = split_pipeline(expr)
        except ValueError as error:
            return Status.ERROR, [Cause(CauseCode.QUERY_ERROR, str(error), expr)]
        try:
            if self.api.lines(expr):
                causes = self._rule_4(selector, expr)
                return (Status.SUSPECT if causes else Status.OK), causes
            return Status.EMPTY, self._why_empty(selector, stages)
        except SourceError as error:
            return Status.ERROR, [Cause(error.code, error.detail, expr)]

    def _why_empty(self, selector: str, stages: list[str]) -> list[Cause]:
        if not self.api.lines(selector):
            return self._no_stream(selector)
        produced: set[str] = set()
        for index, stage in enumerate(stages):
            before = _pipe(selector, stages[:index])
            if self.api.lines(_pipe(selector, stages[: index + 1])):
                produced |= _produced(stage)
                continue
            if _stage_kind(stage) == "label-filter":
                for name in dict.fromkeys(_FIELD.findall(stage)):
                    if name in produced or name in ("or", "and"):
                        continue
                    if not self.api.lines(f'{before} | {name}!=""'):
                        return [
                            Cause(
                                CauseCode.LOKI_FIELD_MISSING,
                                f"no line of {selector} in {self.range_label} carries `{name}` (structured "
                                "metadata from the log record's attributes): the emitter does not set it, "
                                "or the Collector drops it",
                                before,
                            )
                        ]
            return [
                Cause(
                    CauseCode.LOKI_NO_LINES,
                    f"{selector} has lines in {self.range_label}, but none passes `{_piped(stage)}`",
                    before,
                )
            ]
        return [Cause(CauseCode.LOKI_NO_LINES, f"no line of {selector} in {self.range_label}", selector)]

    def _no_stream(self, selector: str) -> list[Cause]:
        indexed = self.api.labels
        if not indexed:
            return [
                Cause(
                    CauseCode.LOKI_NO_STREAM,
                    f"Loki holds no log stream at all in {self.range_label}: nothing delivers logs (the "
                    "Collector's logs pipeline and its exporter to Loki's /otlp endpoint)",
                    selector,
                )
            ]
        causes = []
        for label, op, value in _MATCHER.findall(selector):
            if label not in indexed:
                causes.append(
                    Cause(
                        CauseCode.LOKI_LABEL_NOT_INDEXED,
                        f"the selector uses `{label}`, which Loki does not index (indexed: "
                        f"{', '.join(indexed)}): for OTLP logs only listed resource attributes become "
                        f'labels; filter structured metadata with `| {label}{op}"{value}"` instead',
                        "{" + f'{indexed[0]}=~".+"' + "}",
                    )
                )
            elif op == "=" and value not in (values := self.api.label_values(label)):
                shown = ", ".join(values[:SHOWN_VALUES]) + (", ..." if len(values) > SHOWN_VALUES else "")
                causes.append(
                    Cause(
                        CauseCode.LOKI_NO_STREAM,
                        f'no stream has {label}="{value}" in {self.range_label}; its values: {shown}',
                        "{" + f'{label}=~".+"' + "}",
                    )
                )
        return causes or [
            Cause(CauseCode.LOKI_NO_STREAM, f"no stream matches {selector} in {self.range_label}", selector)
        ]

    def _rule_4(self, selector: str, expr: str) -> list[Cause]:
        if TENANT_LABEL not in expr:
            return []
        unlabelled = f'{selector} | {TENANT_LABEL}=""'
        if not self.api.lines(unlabelled):
            return []
        return [
            Cause(
                CauseCode.LABEL_MISSING,
                f"lines of {selector} carry no {TENANT_LABEL}: rule 4 "
                f"(every log record carries {TENANT_LABEL})",
                unlabelled,
            )
        ]
