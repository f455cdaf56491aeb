"""tenant-filter: every query over a tenant-labelled signal filters on `$tenant`.

A panel that ignores the tenant picker shows every tenant's data while the user believes they
are looking at one: the worst kind of wrong in a multi-tenant product.
"""

from collections.abc import Iterator

from dashboards_as_code.defaults import ALL_TENANTS, TENANT_LABEL, TENANT_VARIABLE
from dashboards_as_code.external_tools import ToolMissingError
from dashboards_as_code.lint import Check, Finding, LintContext, where
from dashboards_as_code.logql.grammar import inspect
from dashboards_as_code.promql.tree import matchers, vector_selectors
from dashboards_as_code.queries import tenant_matcher

ID = "tenant-filter"
PICKED = (TENANT_LABEL, "=~", f"${TENANT_VARIABLE}")
AGGREGATE_ROW = (TENANT_LABEL, "=", ALL_TENANTS)
EVERY_TENANT = (TENANT_LABEL, "!=", ALL_TENANTS)


def _prometheus(context: LintContext) -> Iterator[Finding]:
    for query in context.parsed_prometheus_queries:
        selectors = [(s, matchers(s)) for s in vector_selectors(query.tree)]
        # The top-k construct: "every tenant" is allowed when it is gated on All being selected.
        gated = any({PICKED, AGGREGATE_ROW} <= found for _, found in selectors)
        for selector, found in selectors:
            info = context.series(selector.name)
            if info is None or not info.tenant_scoped:
                continue
            if gated and EVERY_TENANT in found:
                continue
            if PICKED not in found:
                yield Finding(
                    where(query.board, query.panel),
                    ID,
                    f"{query.name} reads {selector.name} without {tenant_matcher().render()}",
                )


def _loki(context: LintContext) -> Iterator[Finding]:
    """A log query reads a tenant-scoped log when one of its stream selectors can match that log's
    stream: every matcher on a label the contract gives a value for agrees with it (a selector on
    `service_namespace` alone reads the backend's logs too). Without the grammar the `logql` check
    already reports the missing tool; nothing is guessed here."""
    tenant_streams = [
        dict(log.stream) for log in context.project.contract.logs if TENANT_LABEL in log.structured_metadata
    ]
    queries = list(context.queries("loki"))
    if not tenant_streams or not queries:
        return
    try:
        syntaxes = inspect({str(i): query.expr for i, query in enumerate(queries)}, context.project.root)
    except ToolMissingError:
        return
    for i, query in enumerate(queries):
        reads_tenant_logs = any(
            all(matcher.may_match(stream) for matcher in selector)
            for selector in syntaxes[str(i)].selectors
            for stream in tenant_streams
        )
        if reads_tenant_logs and f"| {tenant_matcher().render()}" not in query.expr:
            yield Finding(
                where(query.board, query.panel),
                ID,
                f"{query.name} reads tenant logs without `| {tenant_matcher().render()}`",
            )


def run(context: LintContext) -> Iterator[Finding]:
    yield from _prometheus(context)
    yield from _loki(context)


CHECK = Check(ID, __doc__ or "", run)
