"""A tenant hidden in an overflow series: why one tenant's selection is empty while its metric has data.

An OTel SDK, or the Collector's spanmetrics connector, keeps a fixed number of attribute sets per
metric (its cardinality limit) and folds every later one into ONE series labelled
`otel_metric_overflow="true"`, without tenant_id. The tenants past the limit are still counted (in
that series, so All stays right) but no selection of one of them finds anything: to a person at
`$tenant = acme` the panel is simply empty, and the label values say only that `acme` is not there.

`doctor` says it is an overflow when three things hold at once: the query's selection of tenants is
what empties it (without its tenant matchers the series has data); the tenant is known to Prometheus
(some series of another metric carries it, so it is not a typo or a tenant that never sent anything);
and the metric the query reads (through its recording rules, down to the raw series) has an overflow
series now. The cause names that series, the time of its first sample in the dashboard's range, and
the limit to raise: the contract's when the metric is a contract signal with a tenant budget.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from dashboards_as_code.contract.model import OVERFLOW_LABEL, OVERFLOW_VALUE
from dashboards_as_code.defaults import ALL_TENANTS, TENANT_LABEL
from dashboards_as_code.doctor.causes import Cause, CauseCode
from dashboards_as_code.doctor.prometheus_api import PrometheusApi
from dashboards_as_code.grafana_math import duration
from dashboards_as_code.queries import Matcher

MAX_STEPS = 11_000
"""Prometheus refuses a range query of more points per series; the first-sample subquery keeps to the
same bound, so a long dashboard range stays cheap (with a coarser step: the first sample is then
known to within that step)."""
SHOWN_SERIES = 3
GENERIC_LIMIT = (
    "Raise the emitter's cardinality limit above the attribute sets it must keep apart: an OTel SDK keeps "
    "2,000 per metric unless a View sets aggregationCardinalityLimit; the Collector's spanmetrics "
    "connector none unless aggregation_cardinality_limit is set"
)


@dataclass(frozen=True)
class Limit:
    """What the contract says the emitter of a series must keep: `cardinality_limit` of its signal."""

    attribute_sets: int
    emitter: str
    source: str
    """Where the contract says so, for the person who raises it: its definition file and its page."""


def _render(name: str, matchers: Iterable[Matcher]) -> str:
    chosen = tuple(matchers)
    return f"{name}{{{', '.join(m.render() for m in chosen)}}}" if chosen else name


def _matches_nothing_empty(pattern: str) -> bool:
    try:
        return re.fullmatch(pattern, "") is None
    except re.error:
        return True  # a regex Python cannot read: RE2 syntax; assume it names tenants


def selects_tenants(matcher: Matcher) -> bool:
    """A matcher that picks some tenants: `tenant_id="acme"` or `=~"acme|globex"`, not the All row
    (`__all__`), nor a regex that also matches a series without tenant_id (`.*`, All as a regex)."""
    if matcher.label != TENANT_LABEL or matcher.value in ("", ALL_TENANTS):
        return False
    return matcher.op == "=" or (matcher.op == "=~" and _matches_nothing_empty(matcher.value))


def _at(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(seconds: float) -> str:
    """`6 h`, `90 min`, `12 min 3 s`, `40 s`: a time span as a person reads it."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    minutes, rest = divmod(round(seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _labels(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


@dataclass
class HiddenTenants:
    api: PrometheusApi
    limits: dict[str, Limit]
    """Series name -> the contract's limit for its emitter (tenant-scoped contract signals only)."""
    range_s: float
    """The dashboard's time range: where the overflow series' first sample is looked for."""

    def causes(
        self, name: str, matchers: tuple[Matcher, ...], raw_series: Callable[[str], list[str]]
    ) -> list[Cause]:
        """`cardinality-overflow` for the selector `name{matchers}` when its tenants are hidden in an
        overflow series of a metric it reads (`raw_series(name)`: itself, or what its rules read)."""
        chosen = [m for m in matchers if selects_tenants(m)]
        if not chosen or self.api.count(_render(name, matchers)) > 0:
            return []
        if self.api.count(_render(name, [m for m in matchers if m not in chosen])) == 0:
            return []  # empty for every tenant: not a matter of which tenants (the other causes say why)
        if self.api.count(_render("", chosen)) == 0:
            return []  # no series anywhere has this tenant: it is absent, not folded
        tenants = ", ".join(m.render() for m in chosen)
        return [cause for raw in raw_series(name) if (cause := self._overflow(raw, tenants))]

    def _overflow(self, name: str, tenants: str) -> Cause | None:
        overflowing = _render(name, [Matcher(OVERFLOW_LABEL, "=", OVERFLOW_VALUE)])
        step = max(1.0, self.api.scrape_interval, self.range_s / MAX_STEPS)
        found = self.api.first_sample_times(overflowing, duration(self.range_s), duration(step))
        if not found:
            return None
        first = min(sample.value for sample in found)
        shown = "; ".join(_labels(s.labels) for s in found[:SHOWN_SERIES]) + (
            f"; and {len(found) - SHOWN_SERIES} more" if len(found) > SHOWN_SERIES else ""
        )
        limit = self.limits.get(name)
        advice = (
            f"Raise the limit of its emitter ({limit.emitter}) to the contract's {limit.attribute_sets:,} "
            f"attribute sets ({limit.source})"
            if limit
            else GENERIC_LIMIT
        )
        since = max(0.0, self.api.now - first)
        return Cause(
            CauseCode.CARDINALITY_OVERFLOW,
            f"`{name}` has an overflow series {shown}, since {_at(first)} ({_span(since)} ago; its first "
            f"sample in the last {_span(self.range_s)}): its emitter reached its cardinality limit and "
            f"folds every attribute set past it into that series, without {TENANT_LABEL}. `{tenants}` "
            "selects series of other metrics but none of this one: that tenant is most likely folded in "
            f"there. {advice}.",
            f'{{__name__="{name}", {OVERFLOW_LABEL}="{OVERFLOW_VALUE}"}}',
        )
