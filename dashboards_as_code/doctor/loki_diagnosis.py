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
from dashboards_as_code.external_tools import ToolMissingError
from dashboards_as_code.logql.grammar import LogPipeline, log_pipeline

_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
SHOWN_VALUES = 5


@dataclass
class LokiDoctor:
    api: LokiApi
    range_label: str
    """The window looked at, for messages ("the last 6 h")."""

    def diagnose(self, expr: str) -> tuple[Status, list[Cause]]:
        try:
            pipeline = log_pipeline(expr)
        except (ValueError, ToolMissingError) as error:
            return Status.ERROR, [Cause(CauseCode.QUERY_ERROR, str(error), expr)]
        try:
            if self.api.lines(expr):
                causes = self._rule_4(pipeline.selector, expr)
                return (Status.SUSPECT if causes else Status.OK), causes
            return Status.EMPTY, self._why_empty(pipeline)
        except SourceError as error:
            return Status.ERROR, [Cause(error.code, error.detail, expr)]

    def _why_empty(self, pipeline: LogPipeline) -> list[Cause]:
        """The first stage after which no line is left, and why: a field no line carries, or a filter
        nothing passes. Stages are delimited by Grafana's LogQL grammar, never by hand."""
        selector = pipeline.selector
        if not self.api.lines(selector):
            return self._no_stream(selector)
        produced: set[str] = set()
        for index, stage in enumerate(pipeline.stages):
            before = pipeline.through(index)
            if self.api.lines(pipeline.through(index + 1)):
                if stage.kind == "format":
                    produced |= set(stage.labels)
                continue
            if stage.kind == "label-filter":
                for name in dict.fromkeys(stage.labels):
                    if name in produced:
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
                    f"{selector} has lines in {self.range_label}, but none passes `{stage.text}`",
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
