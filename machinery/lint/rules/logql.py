"""logql: Loki queries parse with Grafana's LogQL grammar and use only labels Loki really has.

Loki's OTLP endpoint indexes a fixed set of resource attributes; everything else (trace_id,
tenant_id, severity) is structured metadata, filtered with `| name="value"`. A stream selector
on a non-indexed label matches nothing, and `| json` on an OTLP text body marks every line
with a parser error.
"""

import re
from collections.abc import Iterator

from machinery.lint import Finding, LintContext, Rule, where
from machinery.lint.logql import inspect
from machinery.settings import settings
from machinery.tools import ToolMissingError
from telemetry.contract import CONTRACT

ID = "logql"
INDEX_LABELS = {label for log in CONTRACT.logs for label in log.index_labels}
METADATA = {field for log in CONTRACT.logs for field in log.structured_metadata}


def _pointer(expr: str, offset: int) -> str:
    start = max(0, offset - 30)
    return f"{expr[start:offset]}<here>{expr[offset : offset + 20]}"


def check(context: LintContext) -> Iterator[Finding]:
    targets = list(context.targets("loki"))
    if not targets:
        return
    queries = {str(i): str(target.get("expr", "")) for i, (_, _, target) in enumerate(targets)}
    try:
        results = inspect(queries)
    except ToolMissingError as missing:
        definition, panel, _ = targets[0]
        yield Finding(
            where(definition, panel),
            ID,
            f"Loki queries not checked: {missing}",
            "error" if settings().ci else "warning",
        )
        return
    for key, (definition, panel, target) in zip(queries, targets, strict=True):
        expr, syntax, label = queries[key], results[key], f"query {target.get('refId')}"
        if syntax.errors:
            offset = syntax.errors[0]
            yield Finding(
                where(definition, panel),
                ID,
                f"{label} does not parse at column {offset + 1}: {_pointer(expr, offset)}",
            )
            continue
        for name in sorted(set(syntax.selector_labels) - INDEX_LABELS):
            yield Finding(
                where(definition, panel),
                ID,
                f"{label}: stream selector uses {name!r}, which Loki does not index for OTLP logs "
                f"(index labels: {', '.join(sorted(INDEX_LABELS))})",
            )
        for parser in syntax.parsers:
            yield Finding(
                where(definition, panel),
                ID,
                f"{label}: `| {parser}` on OTLP log bodies marks every line with a parser error; "
                "filter structured metadata directly",
            )
        if not syntax.parsers:
            made_here = set(re.findall(r"label_format\s+(\w+)=", expr))
            for name in sorted(set(syntax.filter_labels) - INDEX_LABELS - METADATA - made_here):
                yield Finding(
                    where(definition, panel), ID, f"{label}: filters on {name!r}, which no log signal carries"
                )


RULE = Rule(ID, __doc__ or "", check)
