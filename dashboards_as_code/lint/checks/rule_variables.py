"""rule-variables: no Prometheus rule holds a Grafana variable (`$tenant`, `${__range}`, `[[x]]`).

A dashboard query's `$tenant` is replaced by Grafana before Prometheus sees it; a rule goes to
Prometheus as written. There `tenant_id=~"$tenant"` is a regex matching the literal text `$tenant`:
promtool accepts it, Prometheus evaluates it, and the rule records nothing and the alert never fires,
for ever, without an error anywhere. It happens easily, because the query builders add the tenant
filter by default to every tenant-labelled signal (`q.select(...)`): a rule module must say
`tenant_filter=False`. Prometheus' own alert templating (`{{ $value }}`, `{{ $labels.x }}`) lives in
annotations, which this check does not read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dashboards_as_code.defaults import RULES_HOME
from dashboards_as_code.errors import Location
from dashboards_as_code.lint import Check, Finding, LintContext

ID = "rule-variables"
GRAFANA_VARIABLE = re.compile(r"\$\{?[A-Za-z_]\w*|\[\[[A-Za-z_]\w*")
"""`$name`, `${name...}` or `[[name`: Grafana's three spellings of a variable reference. A name starts
with a letter or `_`, so label_replace's `$1` (a regex group, for Prometheus) is not one."""


def run(context: LintContext) -> Iterator[Finding]:
    for group in context.project.rule_groups:
        rules = [(rule.record, rule.expr.text) for rule in group.recording]
        rules += [(f"alert {rule.alert}", rule.expr) for rule in group.alerts]
        for name, expr in rules:
            found = GRAFANA_VARIABLE.search(expr)
            if found:
                yield Finding(
                    Location(file=RULES_HOME),
                    ID,
                    f"rule group {group.name!r}, {name}: the expression holds the Grafana variable "
                    f"{found.group(0)!r}, which Prometheus reads as literal text (the rule then matches "
                    "nothing); select every tenant in a rule (`q.select(..., tenant_filter=False)`)",
                )


CHECK = Check(ID, __doc__ or "", run, fatal=True)
