"""panel-ids: panel ids are unique in a dashboard and query refIds are unique in a panel.

Two panels with one id break links, "view panel" and the JSON model; two queries with one refId
make Grafana drop one of them.
"""

from collections.abc import Iterator

from machinery.lint import Finding, LintContext, Rule, where

ID = "panel-ids"


def check(context: LintContext) -> Iterator[Finding]:
    seen: dict[tuple[str, object], str] = {}
    for definition, panel in context.panels():
        key = (definition.uid, panel.get("id"))
        if panel.get("id") is None:
            yield Finding(where(definition, panel), ID, "has no id")
        elif key in seen:
            yield Finding(
                where(definition, panel), ID, f"id {panel['id']} is also the id of panel {seen[key]!r}"
            )
        seen.setdefault(key, str(panel.get("title")))
        ref_ids = [str(t.get("refId", "")) for t in panel.get("targets", []) or []]
        for ref_id in sorted({r for r in ref_ids if ref_ids.count(r) > 1 or not r}):
            yield Finding(
                where(definition, panel), ID, f"refId {ref_id!r} is empty or used by several queries"
            )


RULE = Rule(ID, __doc__ or "", check)
