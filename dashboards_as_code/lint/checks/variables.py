"""variables: every `$variable` a query uses is defined, and every defined variable is used.

Grafana leaves an undefined `$name` in the query text, which then matches nothing; an unused
variable is a dropdown that changes nothing.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

from dashboards_as_code.dashboard_panels import every_panel
from dashboards_as_code.kinds.dashboard import DashboardDocument
from dashboards_as_code.lint import LintContext, dashboard_check

ID = "variables"
# `$name`, `${name}`, `${name:format}`, `[[name]]` (legacy).
REFERENCE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]")
BUILTINS = {
    "__interval",
    "__interval_ms",
    "__rate_interval",
    "__rate_interval_ms",
    "__range",
    "__range_s",
    "__range_ms",
    "__auto",
    "__from",
    "__to",
    "__dashboard",
    "__org",
    "__user",
    "__name",
    "__timeFilter",
    "__all",
    "__value",
    "__field",
    "__series",
    "__data",
    "__url_time_range",
    "timeFilter",
}


def _names(text: str) -> set[str]:
    return {next(g for g in match.groups() if g) for match in REFERENCE.finditer(text)}


def problems(context: LintContext, board: DashboardDocument) -> Iterator[tuple[dict[str, Any] | None, str]]:
    document = board.document
    variables = document.get("templating", {}).get("list", [])
    defined = {str(v.get("name")) for v in variables}
    used: set[str] = set()
    for panel in every_panel(document):
        texts = [str(t.get("expr", "")) for t in panel.get("targets", []) or []]
        panel_used = set().union(*(_names(text) for text in texts)) if texts else set()
        used |= panel_used | _names(json.dumps(panel.get("title", "")))
        for name in sorted(panel_used - defined - BUILTINS):
            yield panel, f"uses ${name}, which the dashboard does not define"
    for variable in variables:
        used |= _names(json.dumps(variable.get("query", ""))) - {variable.get("name")}
    for name in sorted(defined - used):
        yield None, f"variable ${name} is defined but no query uses it"


CHECK = dashboard_check(ID, __doc__, problems)
