"""Grafana units by the quantity they display: the one table `panel-unit` and the tests read.

A Grafana unit only formats a number: `reqps` appends "req/s", `percentunit` multiplies by 100 and
appends "%", `s` reads the number as seconds. So a unit is right when the query returns the
quantity the unit expects, in the scale it expects: a per-second rate in any per-second unit, a
ratio from 0 to 1 in `percentunit` (not `percent`, which expects 0 to 100), seconds in `s` (not
`ms`, a factor of a thousand off). Each quantity lists the Grafana unit ids that show it as it is
(ids from Grafana's `valueFormats/categories.ts`; the per-minute units of its Throughput category
are left out: they label a per-second number per minute), and the values it can take, which the
tests hold the real Prometheus's answers to.

The first unit of a quantity is the one a signal or a recording rule declares for it (`reqps` for a
recorded rate); a panel may use any unit of the quantity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Quantity:
    """What a query's values are, the Grafana units that display them right, and the values it takes."""

    name: str
    """How a message says it: `a per-second rate`."""
    units: tuple[str, ...]
    """Grafana unit ids, the declared one first."""
    minimum: float | None = None
    maximum: float | None = None
    whole: bool = False
    """Only whole numbers (a count of sessions, not an average of them)."""

    @property
    def declared(self) -> str:
        return self.units[0]

    def plausible(self, value: float) -> bool:
        """Whether a value of this quantity can be `value` (NaN never is: Grafana draws a gap)."""
        return (
            not math.isnan(value)
            and (self.minimum is None or value >= self.minimum)
            and (self.maximum is None or value <= self.maximum)
            and (not self.whole or value == int(value))
        )


PER_SECOND = Quantity("a per-second rate", ("reqps", "cps", "ops", "rps", "wps", "iops", "short"), minimum=0)
"""`rate()` of a counter, or a recorded rate: events per second (`short` shows the bare number)."""
RATIO = Quantity("a ratio from 0 to 1", ("percentunit",), minimum=0, maximum=1)
"""A part over its whole (failed over all requests); `percent` would show 0.05 as 0.05 %."""
SECONDS = Quantity("seconds", ("s", "dtdurations"), minimum=0)
MILLISECONDS = Quantity("milliseconds", ("ms", "dtdurationms"), minimum=0)
COUNT = Quantity("a count", ("short", "none", "locale"), minimum=0, whole=True)
"""How many there are now (sessions, connections): a gauge of things, summed."""

BURN_RATE = Quantity("a burn rate (a bad share over its SLO's budget)", ("short", "none"), minimum=0)
"""How many times faster than the SLO allows a budget is spent: 1 spends it in exactly the SLO's period."""
BUDGET_LEFT = Quantity("a share of an error budget left", ("percentunit",), maximum=1)
"""1 - (bad share over the period) / budget: 1 untouched, 0 spent, below 0 overspent (the SLO broken)."""
RATE_CHANGE = Quantity("a change of a per-second rate", ("reqps", "cps", "ops", "rps", "short"))
"""A rate now minus the same rate earlier: negative when it fell."""

QUANTITIES = (PER_SECOND, RATIO, SECONDS, MILLISECONDS, COUNT, BURN_RATE, BUDGET_LEFT, RATE_CHANGE)


def declared_by(unit: str) -> Quantity | None:
    """The quantity a signal's or a recording rule's declared unit stands for, or None if the table
    does not know it (then only that very unit fits). A unit declared first by a quantity stands for
    that one (`short` is a count); any other stands for the one quantity that lists it."""
    first = [quantity for quantity in QUANTITIES if quantity.declared == unit]
    listing = [quantity for quantity in QUANTITIES if unit in quantity.units]
    if first:
        return first[0]
    return listing[0] if len(listing) == 1 else None
