"""panel-docs: every panel says what it shows (a description) and in what unit.

The description is the on-call engineer's only documentation at 3 a.m.; a missing unit turns
0.05 seconds into "0.05" and a ratio into a bare number.
"""

from collections.abc import Iterator
from typing import Any

from dashboards_as_code.lint import LintContext, panel_check

ID = "panel-docs"
NO_UNIT_PANELS = {"row", "logs", "text", "news", "dashlist"}


def problems(context: LintContext, panel: dict[str, Any]) -> Iterator[str]:
    if not str(panel.get("description") or "").strip():
        yield "has no description"
    unit = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
    if panel.get("type") not in NO_UNIT_PANELS and not unit:
        yield "has no unit (fieldConfig.defaults.unit)"


CHECK = panel_check(ID, __doc__, problems)
