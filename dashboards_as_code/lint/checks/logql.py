"""logql: Loki queries parse with Grafana's LogQL grammar and use only labels Loki really has.

Loki's OTLP endpoint indexes a fixed set of resource attributes; everything else (trace_id,
tenant_id, severity) is structured metadata, filtered with `| name="value"`. A stream selector
on a non-indexed label matches nothing, and `| json` on an OTLP text body marks every line
with a parser error.
"""

from collections.abc import Iterator

from dashboards_as_code.external_tools import ToolMissingError
from dashboards_as_code.lint import Check, Finding, LintContext, missing_tool_severity, where
from dashboards_as_code.logql.grammar import inspect

ID = "logql"


def _pointer(expr: str, offset: int) -> str:
    start = max(0, offset - 30)
    return f"{expr[start:offset]}<here>{expr[offset : offset + 20]}"


def run(context: LintContext) -> Iterator[Finding]:
    queries = list(context.queries("loki"))
    if not queries:
        return
    logs = context.project.contract.logs
    index_labels = {label for log in logs for label in log.index_labels}
    metadata = {field for log in logs for field in log.structured_metadata}
    try:
        results = inspect({str(i): query.expr for i, query in enumerate(queries)}, context.project.root)
    except ToolMissingError as missing:
        yield Finding(
            where(queries[0].board, queries[0].panel),
            ID,
            f"Loki queries not checked: {missing}",
            missing_tool_severity(context),
            tool_missing=True,
        )
        return
    for i, query in enumerate(queries):
        syntax, place = results[str(i)], where(query.board, query.panel)
        if syntax.errors:
            offset = syntax.errors[0]
            yield Finding(
                place,
                ID,
                f"{query.name} does not parse at column {offset + 1}: {_pointer(query.expr, offset)}",
            )
            continue
        for name in sorted(set(syntax.selector_labels) - index_labels):
            yield Finding(
                place,
                ID,
                f"{query.name}: stream selector uses {name!r}, which Loki does not index for OTLP logs "
                f"(index labels: {', '.join(sorted(index_labels))})",
            )
        for parser in syntax.parsers:
            yield Finding(
                place,
                ID,
                f"{query.name}: `| {parser}` on OTLP log bodies marks every line with a parser error; "
                "filter structured metadata directly",
            )
        if not syntax.parsers:
            made_here = set(syntax.format_labels)
            for name in sorted(set(syntax.filter_labels) - index_labels - metadata - made_here):
                yield Finding(place, ID, f"{query.name}: filters on {name!r}, which no log signal carries")


CHECK = Check(ID, __doc__ or "", run)
