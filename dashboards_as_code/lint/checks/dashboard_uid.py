"""dashboard-uid: every dashboard uid is one Grafana accepts and no two dashboards share one.

Grafana rejects uids over 40 characters or with characters outside `[a-zA-Z0-9_-]`, and a second
dashboard with the same uid would silently replace the first in provisioning. uids are compared
without regard to case, as Grafana's MySQL collation compares them: `Overview` and `overview` are
one dashboard there.
"""

from collections.abc import Iterator

from dashboards_as_code.kinds.dashboard import DashboardDocument
from dashboards_as_code.lint import Check, Finding, LintContext, where
from dashboards_as_code.uids import uid_key, uid_problem

ID = "dashboard-uid"


def _named(board: DashboardDocument) -> str:
    return board.definition.source or repr(board.definition.title)


def run(context: LintContext) -> Iterator[Finding]:
    seen: dict[str, DashboardDocument] = {}
    for board in context.dashboards:
        problem = uid_problem(board.uid)
        if problem:
            yield Finding(where(board), ID, problem)
        first = seen.setdefault(uid_key(board.uid), board)
        if first is board:
            continue
        if first.uid == board.uid:
            yield Finding(where(board), ID, f"uid {board.uid!r} is also used by {_named(first)}")
        else:
            yield Finding(
                where(board),
                ID,
                f"uid {board.uid!r} and uid {first.uid!r} of {_named(first)} differ only in case; "
                "Grafana compares uids without regard to case, so they are one dashboard there",
            )


CHECK = Check(ID, __doc__ or "", run, fatal=True)
