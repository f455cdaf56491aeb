"""dashboard-uid: every dashboard uid is one Grafana accepts and no two dashboards share one.

Grafana rejects uids over 40 characters or with characters outside `[a-zA-Z0-9_-]`, and a second
dashboard with the same uid would silently replace the first in provisioning.
"""

from collections.abc import Iterator

from engine.lint import Check, Finding, LintContext, where
from engine.uids import uid_problem

ID = "dashboard-uid"


def run(context: LintContext) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for board in context.dashboards:
        definition = board.definition
        problem = uid_problem(board.uid)
        if problem:
            yield Finding(where(board), ID, problem)
        if board.uid in seen:
            yield Finding(where(board), ID, f"uid {board.uid!r} is also used by {seen[board.uid]}")
        seen.setdefault(board.uid, definition.source or definition.title)


CHECK = Check(ID, __doc__ or "", run, fatal=True)
