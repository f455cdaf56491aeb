"""grid-integers: every gridPos value is a whole number.

Grafana's grid has 24 whole columns and whole rows; a `"w": 4.5` or `"x": "12"` is coerced or
dropped differently by each version, and the panel lands somewhere else than the definition says.
"""

from collections.abc import Iterator
from typing import Any

from dashboards_as_code.lint import LintContext, panel_check

ID = "grid-integers"


def problems(context: LintContext, panel: dict[str, Any]) -> Iterator[str]:
    grid = panel.get("gridPos") or {}
    for key in ("x", "y", "w", "h"):
        value = grid.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            yield f"gridPos {key}={value!r} is not a whole number"


CHECK = panel_check(ID, __doc__, problems)
