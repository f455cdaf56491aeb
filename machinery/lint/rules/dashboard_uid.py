"""dashboard-uid: every dashboard uid is one Grafana accepts and no two dashboards share one.

Grafana rejects uids over 40 characters or with characters outside `[a-zA-Z0-9_-]`, and a second
dashboard with the same uid would silently replace the first in provisioning.
"""

from collections.abc import Iterator

from machinery.lint import Finding, LintContext, Rule, where
from machinery.uids import uid_problem

ID = "dashboard-uid"


def check(context: LintContext) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for definition in context.dashboards:
        problem = uid_problem(definition.uid)
        if problem:
            yield Finding(where(definition), ID, problem)
        if definition.uid in seen:
            yield Finding(
                where(definition), ID, f"uid {definition.uid!r} is also used by {seen[definition.uid]}"
            )
        seen.setdefault(definition.uid, definition.source or definition.title)


RULE = Rule(ID, __doc__ or "", check)
