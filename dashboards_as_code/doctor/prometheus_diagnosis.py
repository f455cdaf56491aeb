"""Why a PromQL panel is empty: take the query apart, selector by selector, matcher by matcher.

The question is asked of the live Prometheus in the order a person would ask it in Explore: does the
expression return anything; does each series it reads exist now; was it there earlier (stale); is it
a recorded series whose rule is not loaded, unhealthy or not evaluated yet; does it exist under the
other unit; which single label matcher empties it. Every answer is a `Cause` with the query that
shows the evidence. Rule 4 (every series carries tenant_id) is checked whether or not the panel
shows data, because a panel can look fine while some tenants' series are unlabelled; an emitter's
overflow series is not such a series (it has no tenant by design) but the reason a tenant's selection
can be empty, which `overflow.py` names.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import promql_parser

from dashboards_as_code.contract.model import OVERFLOW_LABEL, OVERFLOW_VALUE, MetricSignal
from dashboards_as_code.defaults import DASHBOARD_TIME_FROM, TENANT_LABEL
from dashboards_as_code.doctor.causes import Cause, CauseCode, Status
from dashboards_as_code.doctor.http import SourceError
from dashboards_as_code.doctor.overflow import HiddenTenants, Limit
from dashboards_as_code.doctor.prometheus_api import PrometheusApi, RuleState
from dashboards_as_code.grafana_math import duration, range_seconds
from dashboards_as_code.promql.series_catalog import SeriesInfo
from dashboards_as_code.promql.tree import function_name, operator, vector_selectors, walk
from dashboards_as_code.queries import Matcher

TWO_SAMPLES = frozenset({"rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear"})
"""Functions that return nothing for a series with fewer than two samples in their window."""
SPACINGS_PER_WINDOW = 3
"""A window spanning this many sample spacings always holds two samples that have arrived: two
spacings hold two timestamps, and the newest of them may still be on its way (an SDK export, then a
Collector and a scrape in between), so one spacing more. At exactly two spacings the query is empty
for a moment after every export."""
SPACING_WINDOWS = 5
"""The sample spacing is measured over this many rate windows ..."""
MIN_SPACING_LOOKBACK_S = 600.0
"""... but at least ten minutes (two samples of a 60 s exporter even under a 1m window) ..."""
MAX_SPACING_LOOKBACK_S = 3600.0
"""... and at most an hour, so a long window does not pull hours of raw samples."""
EXEMPLAR_WINDOW_S = 900.0
"""Exemplars are looked for in the last 15 minutes: Prometheus keeps them in a small ring buffer."""
MAX_DEPTH = 3
"""Recorded series built on recorded series: follow at most this many rules down."""
SHOWN_VALUES = 5


@dataclass(frozen=True)
class Selector:
    """A vector selector as data: its metric name and its other matchers (offset and @ dropped)."""

    name: str
    matchers: tuple[Matcher, ...]

    def render(self, matchers: Iterable[Matcher] | None = None) -> str:
        chosen = self.matchers if matchers is None else tuple(matchers)
        return f"{self.name}{{{', '.join(m.render() for m in chosen)}}}" if chosen else self.name


def selectors(tree: Any) -> list[Selector]:
    """Each distinct named selector of the tree, in order; nameless ones (`{job="x"}`) are skipped."""
    found: list[Selector] = []
    for node in vector_selectors(tree):
        matchers = [Matcher(m.name, operator(m), m.value) for m in node.matchers.matchers]
        name = node.name or next((m.value for m in matchers if m.label == "__name__" and m.op == "="), "")
        selector = Selector(str(name), tuple(m for m in matchers if m.label != "__name__"))
        if selector.name and selector not in found:
            found.append(selector)
    return found


def _age(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


@dataclass
class PrometheusDoctor:
    api: PrometheusApi
    catalog: dict[str, SeriesInfo]
    signals: dict[str, MetricSignal]
    """Contract series name -> its signal (who emits it)."""
    rule_homes: dict[str, str] = field(default_factory=dict)
    """Recorded series -> "group G in file F", from the definitions."""
    limits: dict[str, Limit] = field(default_factory=dict)
    """Contract series of a tenant-scoped signal -> the cardinality limit the contract sets its emitter."""
    range_s: float = field(default_factory=lambda: range_seconds(DASHBOARD_TIME_FROM))
    """The dashboard's time range (Grafana's opening range unless the dashboard sets one)."""

    def diagnose(self, expr: str, *, exemplar: bool) -> tuple[Status, list[Cause]]:
        try:
            tree = promql_parser.parse(expr)
        except ValueError as error:
            return Status.ERROR, [Cause(CauseCode.QUERY_ERROR, f"PromQL does not parse: {error}", expr)]
        try:
            result = self.api.query(expr)
            causes = list(self._rule_4(tree))
            if not result:
                return Status.EMPTY, [
                    *self._hidden_tenants(tree),
                    *self._why_empty(tree, expr, depth=0),
                    *causes,
                ]
            if exemplar:
                causes += self._exemplars(expr)
        except SourceError as error:
            return Status.ERROR, [Cause(error.code, error.detail, expr)]
        return (Status.SUSPECT if causes else Status.OK), causes

    def _hidden_tenants(self, tree: Any) -> list[Cause]:
        """Tenants the query selects that an emitter folded into its overflow series (`overflow.py`)."""
        hidden = HiddenTenants(self.api, self.limits, self.range_s)
        found: list[Cause] = []
        for selector in selectors(tree):
            for cause in hidden.causes(selector.name, selector.matchers, self._raw_series):
                if cause not in found:
                    found.append(cause)
        return found

    def _raw_series(self, name: str, depth: int = 0) -> list[str]:
        """The series `name` is made of: itself when no rule records it, else what its rules read, down
        to series no rule records (at most MAX_DEPTH rules down)."""
        states = self.api.recording_rules.get(name, [])
        if not states:
            return [name]
        found: list[str] = []
        if depth >= MAX_DEPTH:
            return found
        for state in states:
            try:
                tree = promql_parser.parse(state.query)
            except ValueError:
                continue
            for selector in selectors(tree):
                found += [raw for raw in self._raw_series(selector.name, depth + 1) if raw not in found]
        return found

    def _why_empty(self, tree: Any, expr: str, depth: int) -> list[Cause]:
        causes = [cause for selector in selectors(tree) for cause in self._selector(selector, depth)]
        if causes:
            return causes
        sparse = self._sparse(tree)
        if sparse:
            return sparse
        return [
            Cause(
                CauseCode.NO_MATCH,
                "every series this query reads exists, but the expression as a whole returns nothing "
                "(a join or comparison leaves no series)",
                expr,
            )
        ]

    def _selector(self, selector: Selector, depth: int) -> list[Cause]:
        full = selector.render()
        if self.api.count(full) > 0:
            return []
        states = self.api.recording_rules.get(selector.name, [])
        info = self.catalog.get(selector.name)
        recorded = bool(states) or (info is not None and info.recorded)
        if recorded:
            rule_causes = self._rule(selector.name, states) or self._warming_up(selector.name, states)
            if rule_causes:
                return rule_causes
        if self.api.count(selector.name) == 0:
            if recorded:
                return self._rule_sources(selector.name, states, depth)
            return self._absent(selector.name)
        return self._matchers(selector)

    def _rule(self, record: str, states: list[RuleState]) -> list[Cause]:
        home = self.rule_homes.get(record, "the project's rule file")
        query = record
        if not states:
            return [
                Cause(
                    CauseCode.RULE_NOT_LOADED,
                    f"no recording rule writes `{record}` in Prometheus: {home} is not loaded "
                    "(check rule_files in prometheus.yml, then Status > Rule health)",
                    query,
                )
            ]
        unhealthy = [s for s in states if s.health == "err"]
        if unhealthy:
            return [
                Cause(
                    CauseCode.RULE_UNHEALTHY,
                    f"the rule recording `{record}`{_labels(s.labels)} in group {s.group!r} fails: "
                    f"{s.last_error}",
                    s.query,
                )
                for s in unhealthy
            ]
        if not any(s.evaluated for s in states):
            group = states[0].group
            every = f", every {_age(states[0].interval)}" if states[0].interval else ""
            return [
                Cause(
                    CauseCode.RULE_NOT_EVALUATED,
                    f"the rule recording `{record}` (group {group!r}{every}) is loaded but has not been "
                    "evaluated yet: wait one group interval",
                    record,
                )
            ]
        return []

    def _warming_up(self, record: str, states: list[RuleState]) -> list[Cause]:
        """Rules whose last run came before their data: their expression was empty then, has data now.

        Right after the stack starts, a group can run before the first scrape (or before rate() has
        its second sample): it records nothing, and its series appears only at the next run. Asking
        Prometheus for the rule's own expression at the moment of that run, and now, tells this apart
        from a join that is empty for good (`no-match`) without guessing from timings.
        """
        causes = []
        for state in states:
            ran = state.last_evaluation
            if state.health != "ok" or ran is None or self.api.query_at(state.query, ran):
                continue
            if not self.api.query(state.query):
                continue  # empty now too: not a matter of waiting; the sources are taken apart next
            since = max(0.0, self.api.now - ran)
            every = f", every {_age(state.interval)}" if state.interval else ""
            detail = (
                f"the rule recording `{record}`{_labels(state.labels)} (group {state.group!r}{every}) "
                f"last ran {_age(since)} ago, before the data it reads arrived"
                f"{self._arrival(state.query, ran)}: its expression returned nothing then and returns "
                f"data now. {_next_run(state, since)}"
            )
            causes.append(Cause(CauseCode.RULE_WARMING_UP, detail, state.query))
        return causes

    def _arrival(self, query: str, ran: float) -> str:
        """ " (the first sample of `x` is N s old)" for a series the rule reads that was absent when it
        ran, or "" (a rate() that lacked its second sample then: every series was there)."""
        try:
            tree = promql_parser.parse(query)
        except ValueError:
            return ""
        since = f"{math.ceil(self.api.now - ran) + 1}s"
        for selector in selectors(tree):
            if self.api.query_at(f"count({selector.render()})", ran):
                continue  # it was there when the rule ran
            times = [t for series in self.api.sample_times(selector.render(), since) for t in series]
            if times:
                return f" (the first sample of `{selector.name}` is {_age(self.api.now - min(times))} old)"
        return ""

    def _sparse(self, tree: Any) -> list[Cause]:
        """rate() and its kin over a window that cannot hold two samples of the series they read.

        The spacing is measured, not assumed: the raw samples of each series over several windows,
        and the typical (median) gap between distinct timestamps; the series whose samples come
        closest together decides, since one such series would already give the query a value.
        """
        causes = []
        for node, parents in walk(tree):
            call = parents[-1] if parents else None
            if not isinstance(node, promql_parser.MatrixSelector) or function_name(call) not in TWO_SAMPLES:
                continue
            window = node.range.total_seconds()
            read = selectors(node.vector_selector)
            if not read or window <= 0:
                continue
            selector = read[0]
            lookback = min(MAX_SPACING_LOOKBACK_S, max(MIN_SPACING_LOOKBACK_S, SPACING_WINDOWS * window))
            gaps = [
                g
                for times in self.api.sample_times(selector.render(), duration(lookback))
                if (g := _gap(times))
            ]
            if not gaps or min(gaps) * SPACINGS_PER_WINDOW <= window:
                continue
            every, shown = min(gaps), duration(window)
            causes.append(
                Cause(
                    CauseCode.SPARSE_SAMPLES,
                    f"samples of `{selector.name}` arrive every {round(every)} s; {function_name(call)} "
                    f"over {shown} needs at least two: set OTEL_METRIC_EXPORT_INTERVAL to <= "
                    f"{int(window * 1000 // SPACINGS_PER_WINDOW)} (milliseconds: {shown} / "
                    f"{SPACINGS_PER_WINDOW}) or widen the window to at least "
                    f"{duration(math.ceil(SPACINGS_PER_WINDOW * every))}",  # up: "at least"
                    f"count_over_time({selector.render()}[{shown}])",
                )
            )
        return causes

    def _rule_sources(self, record: str, states: list[RuleState], depth: int) -> list[Cause]:
        if depth >= MAX_DEPTH:
            return []
        causes: list[Cause] = []
        for state in states:
            try:
                tree = promql_parser.parse(state.query)
            except ValueError:
                continue
            causes += self._why_empty(tree, state.query, depth + 1)
        return [replace(c, detail=f"{c.detail} (read by the rule recording `{record}`)") for c in causes]

    def _absent(self, name: str) -> list[Cause]:
        # One step per scrape: a series that lived between two coarser steps would be missed.
        step = f"{max(1, int(self.api.scrape_interval))}s"
        age = self.api.newest_sample_age(name, "1h", step)
        down = self.api.down_targets
        down_note = f"; scrape target down: {'; '.join(down)}" if down else ""
        if age is not None:
            return [
                Cause(
                    CauseCode.STALE,
                    f"the newest sample of `{name}` is {_age(age)} old (scrape interval "
                    f"{self.api.scrape_interval:g} s): its emitter stopped{down_note}",
                    f"timestamp({name})",
                )
            ]
        other = _other_unit(name)
        if other and self.api.count(other) > 0:
            return [
                Cause(
                    CauseCode.UNIT_MISMATCH,
                    f"no `{name}`, but `{other}` exists: the histogram is recorded in the other unit "
                    "(for spanmetrics, set `histogram.unit: s` in the connector)",
                    other,
                )
            ]
        signal = self.signals.get(name)
        who = (
            f"emitted by the {signal.emitter}: it is not exporting, or the Collector's metrics "
            "pipeline drops it"
            if signal
            else "no contract signal names it"
        )
        return [Cause(CauseCode.SERIES_MISSING, f"no series `{name}` in Prometheus: {who}{down_note}", name)]

    def _matchers(self, selector: Selector) -> list[Cause]:
        causes = [
            self._matcher(selector, m) for m in selector.matchers if self.api.count(selector.render([m])) == 0
        ]
        if causes:
            return causes
        return [
            Cause(
                CauseCode.LABEL_MISMATCH,
                f"each matcher of {selector.render()} matches some series, but no series matches them all",
                selector.render(),
            )
        ]

    def _matcher(self, selector: Selector, matcher: Matcher) -> Cause:
        name, label = selector.name, matcher.label
        renamed = f"exported_{label}"
        if renamed in self.api.label_names(name):
            return Cause(
                CauseCode.LABEL_MISMATCH,
                f"`{label}` of `{name}` is renamed `{renamed}`: Prometheus scrapes the exporter without "
                f"honor_labels: true, so the scrape's own {label} replaced it",
                f"count by ({label}, {renamed}) ({name})",
            )
        if self.api.count(f'{name}{{{label}!=""}}') == 0:
            return Cause(CauseCode.LABEL_MISSING, _missing(name, label), name)
        values = self.api.label_values(label, name)
        shown = ", ".join(values[:SHOWN_VALUES]) + (", ..." if len(values) > SHOWN_VALUES else "")
        return Cause(
            CauseCode.LABEL_MISMATCH,
            f"no `{name}` series has {matcher.render()}; its {label} values: {shown}",
            f"count by ({label}) ({name})",
        )

    def _rule_4(self, tree: Any, depth: int = 0) -> Iterator[Cause]:
        """Tenant-scoped series (read directly or by a recording rule) without tenant_id.

        An emitter's overflow series (`otel_metric_overflow="true"`) is left out: it carries no tenant
        by design, not because an emitter or a relabelling dropped it. It hides tenants, which the
        diagnosis of their empty selection names (`cardinality-overflow`)."""
        for selector in selectors(tree):
            info = self.catalog.get(selector.name)
            if info is None:
                continue
            if info.recorded and depth < MAX_DEPTH:
                for state in self.api.recording_rules.get(selector.name, []):
                    try:
                        yield from self._rule_4(promql_parser.parse(state.query), depth + 1)
                    except ValueError:
                        continue
                continue
            if not info.tenant_scoped:
                continue
            kept = [m for m in selector.matchers if m.label != TENANT_LABEL]
            unlabelled = selector.render(
                [*kept, Matcher(TENANT_LABEL, "=", ""), Matcher(OVERFLOW_LABEL, "!=", OVERFLOW_VALUE)]
            )
            count = self.api.count(unlabelled)
            if count:
                yield Cause(
                    CauseCode.LABEL_MISSING,
                    f"{count} `{selector.name}` series carry no {TENANT_LABEL}: rule 4 (every signal carries "
                    f"{TENANT_LABEL}) is broken by the emitter or by relabelling",
                    unlabelled,
                )

    def _exemplars(self, expr: str) -> list[Cause]:
        if self.api.exemplar_count(expr, self.api.now - EXEMPLAR_WINDOW_S) > 0:
            return []
        if not self.api.exemplar_storage:
            detail = "Prometheus keeps no exemplars: it runs without --enable-feature=exemplar-storage"
        else:
            detail = (
                "exemplar storage is on, but no exemplar arrived in the last 15 min for the series of this "
                "query: the scrape must negotiate OpenMetrics, and the Collector's prometheus exporter "
                "needs enable_open_metrics: true"
            )
        return [Cause(CauseCode.EXEMPLARS_MISSING, detail, expr)]


def _gap(times: list[float]) -> float | None:
    """The median gap between distinct timestamps, or None with fewer than two of them."""
    distinct = sorted(set(times))
    gaps = [later - earlier for earlier, later in itertools.pairwise(distinct)]
    return statistics.median(gaps) if gaps else None


def _next_run(state: RuleState, since: float) -> str:
    """When the group runs next: its interval after the last run, as Prometheus schedules it."""
    if not state.interval:
        return "It records at its group's next run."
    left = state.interval - since
    if left >= 0:
        return f"Next run in {round(left)} s."
    return (
        f"Its next run is overdue by {round(-left)} s: the group takes longer than its interval, or "
        "Prometheus is overloaded."
    )


def _labels(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else ""


def _missing(name: str, label: str) -> str:
    note = f" (rule 4: every signal carries {TENANT_LABEL})" if label == TENANT_LABEL else ""
    return f"no `{name}` series carries the label `{label}`{note}"


def _other_unit(name: str) -> str | None:
    if "_seconds" in name:
        return name.replace("_seconds", "_milliseconds")
    if "_milliseconds" in name:
        return name.replace("_milliseconds", "_seconds")
    return None
