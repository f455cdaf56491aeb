"""A fatal finding (two dashboards with one uid) is reported alone, without the cascade behind it."""

import grafanalib.core as g

from dashboards_as_code.errors import Location
from dashboards_as_code.lint import Check, Finding, run_checks
from tests.lint.builders import board, context, panel


def test_duplicate_uid_hides_the_follow_on_findings() -> None:
    overlapping = [
        panel("One", grid=g.GridPos(h=8, w=12, x=0, y=1)),
        panel("Two", grid=g.GridPos(h=8, w=12, x=4, y=2)),
    ]
    lint = context(board(*overlapping, uid="same"), board(panel("a"), uid="same"))
    assert {f.check for f in run_checks(lint)} == {"dashboard-uid"}


def test_without_a_fatal_finding_everything_is_reported() -> None:
    overlapping = [
        panel("One", grid=g.GridPos(h=8, w=12, x=0, y=1)),
        panel("Two", grid=g.GridPos(h=8, w=12, x=4, y=2)),
    ]
    assert "grid-layout" in {f.check for f in run_checks(context(board(*overlapping)))}


def test_a_fatal_checks_warning_does_not_hide_the_other_findings() -> None:
    """Only a fatal check's *error* makes the rest unreliable; its warning (a tool missing on a laptop)
    says nothing about the definitions, so every other check's findings are still reported."""
    somewhere = Location(dashboard="test-board")
    warned = Check(
        "warns",
        "warns: fatal, but only warns",
        lambda _: [Finding(somewhere, "warns", "w", "warning")],
        fatal=True,
    )
    other = Check("other", "other: an ordinary check", lambda _: [Finding(somewhere, "other", "e")])
    found = run_checks(context(board(panel("a"))), [warned, other])
    assert {(f.check, f.severity) for f in found} == {("warns", "warning"), ("other", "error")}
