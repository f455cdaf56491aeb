"""The schedules the promtool rule tests run under: every committed group interval, in both group orders.

Prometheus runs each group at its own interval and offset, so an alert may run just before or just
after the group whose series it reads. promtool evaluates every group at the test file's one
`evaluation_interval`, in the order `group_eval_order` gives. So every test runs at each interval the
committed groups use, once with the groups as prometheus_rules/ lists them (here: writers first) and
once reversed (readers first). Readers first at an interval is Prometheus' worst case for a group
running at that interval: the alert reads the sample of the previous turn, exactly one interval old.
A group at Prometheus' 5 m lookback then gives its readers nothing (a sample exactly 5 m old is out),
and the tests that expect an alert fail, as the alert does in Prometheus when it runs a moment early.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import RuleGroup
from dashboards_as_code.grafana_math import parse_duration
from tests.conftest import REPO


@dataclass(frozen=True)
class Schedule:
    every: str
    """promtool's `evaluation_interval`: one of the committed groups' intervals."""
    order: tuple[str, ...]
    """promtool's `group_eval_order`: every group's name."""
    readers_first: bool

    def __str__(self) -> str:
        return f"every {self.every}, {'reversed' if self.readers_first else 'as listed'}"


def schedules(groups: Sequence[RuleGroup]) -> list[Schedule]:
    intervals = sorted({group.interval for group in groups}, key=parse_duration)
    names = tuple(group.name for group in groups)
    return [
        Schedule(every, order, readers_first)
        for every in intervals
        for order, readers_first in ((names, False), (names[::-1], True))
    ]


RULE_GROUPS = load_project(REPO).rule_groups
"""Every group the project writes, hand-written and derived: promtool orders them all."""

SCHEDULES = schedules(RULE_GROUPS)

LAG_SECONDS = 2 * max(parse_duration(group.interval) for group in RULE_GROUPS) + 60
"""How long a recorded series and an alert's state may trail the data under any schedule: one
interval for the recording, one for the alert that reads it a turn later, and a minute more."""

GRID_SECONDS = math.lcm(*(round(parse_duration(group.interval)) for group in RULE_GROUPS))
"""A time on this grid is an evaluation time under every schedule."""


def on_grid(seconds: float) -> float:
    """The first evaluation time of every schedule at or after `seconds`.

    promtool loads the input only up to its latest evaluation, so an expression checked between two
    evaluations reads a window whose newest samples are missing: expression checks go on the grid."""
    return math.ceil(seconds / GRID_SECONDS) * GRID_SECONDS
