"""alert-routes: every alert rule's severity has a route in the project's Alertmanager routing.

An alert whose `severity` no route handles reaches Alertmanager's root route, whose receiver
(`unrouted`) drops it: it fires, Prometheus and Grafana show it, and nobody is told. That happens
the day someone writes `severity="critical"` beside routes for `page` and `ticket`, and nothing
else would notice. Only a project that defines ALERT_ROUTING is checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from dashboards_as_code.defaults import RULES_HOME
from dashboards_as_code.errors import Location
from dashboards_as_code.lint import Check, Finding, LintContext
from dashboards_as_code.render.files import ROUTING_SOURCE

ID = "alert-routes"


def run(context: LintContext) -> Iterator[Finding]:
    routing = context.project.alert_routing
    if routing is None:
        return
    routed = sorted(routing.severities)
    for group in context.project.rule_groups:
        for rule in group.alerts:
            if rule.severity in routing.severities:
                continue
            yield Finding(
                Location(file=RULES_HOME),
                ID,
                f"rule group {group.name!r}, alert {rule.alert}: severity {rule.severity!r} has no route in "
                f"{ROUTING_SOURCE} (routed: {', '.join(routed) or 'none'}), so Alertmanager would drop "
                "it: use a routed severity or add a SeverityRoute for it",
            )


CHECK = Check(ID, __doc__ or "", run)
