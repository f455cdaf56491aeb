"""tenant-filter: every query over a tenant-labelled signal filters on `$tenant`.

A panel that ignores the tenant picker shows every tenant's data while the user believes they
are looking at one: the worst kind of wrong in a multi-tenant product.
"""

from collections.abc import Iterator

from machinery.lint import Finding, LintContext, Rule, where
from machinery.lint.promql import vector_selectors
from machinery.queries import ALL_TENANTS, TENANT_LABEL, TENANT_VARIABLE, tenant_matcher
from telemetry.contract import CONTRACT

ID = "tenant-filter"


def check(context: LintContext) -> Iterator[Finding]:
    picked = (TENANT_LABEL, "MatchOp.Re", f"${TENANT_VARIABLE}")
    aggregate_row = (TENANT_LABEL, "MatchOp.Equal", ALL_TENANTS)
    every_tenant = (TENANT_LABEL, "MatchOp.NotEqual", ALL_TENANTS)
    for definition, panel, target, tree in context.parsed_prometheus_targets():
        selectors = [
            (s, {(m.name, str(m.op), m.value) for m in s.matchers.matchers}) for s in vector_selectors(tree)
        ]
        # The top-k construct: "every tenant" is allowed when it is gated on All being selected.
        gated = any({picked, aggregate_row} <= matchers for _, matchers in selectors)
        for selector, matchers in selectors:
            info = context.series(selector.name)
            if info is None or not info.tenant_scoped:
                continue
            if gated and every_tenant in matchers:
                continue
            if picked not in matchers:
                yield Finding(
                    where(definition, panel),
                    ID,
                    f"query {target.get('refId')} reads {selector.name} without {tenant_matcher().render()}",
                )
    tenant_logs = [log for log in CONTRACT.logs if TENANT_LABEL in log.structured_metadata]
    for definition, panel, target in context.targets("loki"):
        expr = str(target.get("expr", ""))
        reads_tenant_logs = any(all(f'{k}="{v}"' in expr for k, v in log.stream) for log in tenant_logs)
        if reads_tenant_logs and f"| {tenant_matcher().render()}" not in expr:
            yield Finding(
                where(definition, panel),
                ID,
                f"query {target.get('refId')} reads tenant logs without `| {tenant_matcher().render()}`",
            )


RULE = Rule(ID, __doc__ or "", check)
