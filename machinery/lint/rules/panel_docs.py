"""panel-docs: every panel says what it shows (a description) and in what unit.

The description is the on-call engineer's only documentation at 3 a.m.; a missing unit turns
0.05 seconds into "0.05" and a ratio into a bare number.
"""

from collections.abc import Iterator

from machinery.lint import Finding, LintContext, Rule, where

ID = "panel-docs"
NO_UNIT_PANELS = {"row", "logs", "text", "news", "dashlist"}


def check(context: LintContext) -> Iterator[Finding]:
    for definition, panel in context.panels():
        if panel.get("type") == "row":
            continue
        if not str(panel.get("description") or "").strip():
            yield Finding(where(definition, panel), ID, "has no description")
        unit = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("unit")
        if panel.get("type") not in NO_UNIT_PANELS and not unit:
            yield Finding(where(definition, panel), ID, "has no unit (fieldConfig.defaults.unit)")


RULE = Rule(ID, __doc__ or "", check)
