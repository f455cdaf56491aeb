"""One `doctor` run: every panel's queries, as Grafana would send them, against the live datasources.

Each datasource is probed once first, so a dead Prometheus is one finding per panel, not one timeout
per query. Every variable is tried at All and at a few of its real values (taken by running the
variable's own query), because a panel that works for All can still be empty for a tenant.
Read-only: only GET requests, to Prometheus' and Loki's query APIs or Grafana's datasource proxy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from dashboards_as_code.contract.model import MetricSignal
from dashboards_as_code.dashboard_panels import every_panel
from dashboards_as_code.defaults import DASHBOARD_TIME_FROM
from dashboards_as_code.doctor.causes import Cause, CauseCode, PanelReport, RuleReport, Skipped, Status
from dashboards_as_code.doctor.http import Endpoint, SourceError
from dashboards_as_code.doctor.loki_api import LokiApi
from dashboards_as_code.doctor.loki_diagnosis import LokiDoctor
from dashboards_as_code.doctor.overflow import Limit
from dashboards_as_code.doctor.prometheus_api import PrometheusApi
from dashboards_as_code.doctor.prometheus_diagnosis import PrometheusDoctor
from dashboards_as_code.grafana_math import (
    builtin_intervals,
    opening_value,
    range_seconds,
    regex_escape,
    substitute,
)
from dashboards_as_code.kinds.dashboard import DashboardDocument
from dashboards_as_code.promql.series_catalog import SeriesInfo, build_catalog
from dashboards_as_code.render.documents import Documents

SUPPORTED = ("prometheus", "loki")
_LABEL_VALUES = re.compile(r"label_values\(\s*(?:(.*),\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", re.S)

EndpointFor = Callable[[str, str], Endpoint]
"""(datasource type, uid) -> where to reach it: straight, or through Grafana's proxy."""


@dataclass
class Reached:
    """One datasource, probed: its API client, or the failure every panel on it reports.

    A datasource that stops answering during the run (a timeout, a refused connection) is marked
    down from then on: its remaining panels report that one failure at once instead of each
    waiting out its own timeout. What it answered before stays in the panels already diagnosed.
    """

    endpoint: Endpoint
    failure: SourceError | None = None
    prometheus: PrometheusApi | None = None
    answered: bool = False
    """The probe succeeded: something was checked against this datasource."""

    def learn(self, causes: list[Cause]) -> None:
        """Mark the datasource down if a query found it unreachable."""
        for cause in causes:
            if cause.code is CauseCode.UNREACHABLE and self.failure is None:
                self.failure = SourceError(cause.code, cause.detail)


@dataclass(frozen=True)
class Selection:
    """One setting of a dashboard's variables that `doctor` tries: every variable as the dashboard
    opens (All, or a single-select variable's first value), or one variable at one of its other real
    values (the others as the dashboard opens)."""

    at_all: bool
    """The selection the dashboard opens on (All where the variable has it): empty there is a fault."""
    label: str
    """What a person reads: "$tenant = All (`__all__`)" or "$tenant = acme"; "" without variables."""
    variables: dict[str, str]
    """Each variable's value as it goes into the query (a sampled value regex-escaped where needed)."""
    chosen: tuple[tuple[str, str], ...]
    """Each variable's value as the dashboard holds it (`__all__` for All, the tenant id unescaped)."""

    def name(self, cause: Cause) -> Cause:
        """`cause` said of this selection: its detail prefixed "with $tenant = ...: ", the values attached."""
        detail = f"with {self.label}: {cause.detail}" if self.label else cause.detail
        return replace(cause, detail=detail, selection=self.chosen)


@dataclass
class DoctorRun:
    documents: Documents
    endpoint_for: EndpointFor
    samples: int = 3
    """Real values of each variable tried besides All."""
    on_panel: Callable[[PanelReport], None] = lambda _: None
    skip: dict[str, str] = field(default_factory=dict)
    """Datasource types left out on purpose -> why ("LOKI_URL is empty"): never asked, panels listed."""
    reached: dict[tuple[str, str], Reached] = field(default_factory=dict)
    selections: dict[str, list[Selection]] = field(default_factory=dict)
    """Dashboard uid -> the selections to try: All, then a sample of real values."""
    skipped: int = 0
    """Panels on datasources `doctor` cannot query (Jaeger, say)."""
    left_out: dict[str, list[str]] = field(default_factory=dict)
    """Datasource type in `skip` -> "dashboard / panel" of each panel with a query on it."""
    rules: list[RuleReport] = field(default_factory=list)
    """Every alerting and recording rule whose health is not ok, in each Prometheus asked."""
    rule_failures: list[SourceError] = field(default_factory=list)
    """Why a Prometheus' rule list could not be read (its panels were diagnosed all the same)."""

    def _reach(self, kind: str, uid: str) -> Reached:
        key = (kind, uid)
        if key not in self.reached:
            endpoint = self.endpoint_for(kind, uid)
            found = Reached(endpoint)
            try:
                if kind == "prometheus":
                    found.prometheus = PrometheusApi(endpoint)
                    found.prometheus.probe()
                else:
                    LokiApi(endpoint, 60).probe()
                found.answered = True
            except SourceError as error:
                found.failure = error
            self.reached[key] = found
        return self.reached[key]

    @property
    def nothing_reachable(self) -> bool:
        """Every datasource asked failed its probe: nothing was checked, and the table would say only that."""
        return bool(self.reached) and not any(r.answered for r in self.reached.values())

    @property
    def failures(self) -> list[SourceError]:
        """Why each datasource that failed (at its probe or later) failed, one per datasource; then why
        a rule list could not be read."""
        return [r.failure for r in self.reached.values() if r.failure is not None] + self.rule_failures

    @property
    def nothing_asked(self) -> bool:
        """Every datasource the panels use was left out (both URLs empty): there was nothing to ask."""
        return not self.reached and bool(self.left_out)

    @property
    def skipped_sources(self) -> list[Skipped]:
        return [
            Skipped(kind, self.skip[kind], tuple(panels)) for kind, panels in self.left_out.items() if panels
        ]

    @property
    def jobs(self) -> list[tuple[DashboardDocument, dict[str, Any]]]:
        """Every panel with queries, nested ones included."""
        return [(board, panel) for board in self.documents.dashboards for panel in _panels(board.document)]

    def run(self, workers: int = 4) -> list[PanelReport]:
        jobs = []
        for board, panel in self.jobs:  # probe every datasource first, once, before the threads start
            kinds = [_datasource(panel, t) for t in panel["targets"] if not t.get("hide")]
            for kind in dict.fromkeys(ref["type"] for ref in kinds if ref["type"] in self.skip):
                self.left_out.setdefault(kind, []).append(f"{board.uid} / {panel.get('title', '')}")
            asked = [ref for ref in kinds if ref["type"] in SUPPORTED and ref["type"] not in self.skip]
            blocked = _left_out_variable(board, panel, self.skip) if asked else None
            if blocked is not None:  # its tenant comes from a datasource left out: nothing real to send
                self.left_out.setdefault(blocked, []).append(f"{board.uid} / {panel.get('title', '')}")
                continue
            for ref in asked:
                self._reach(ref["type"], ref["uid"])
            if asked:
                jobs.append((board, panel))
            elif not any(ref["type"] in self.skip for ref in kinds):
                self.skipped += 1
        # Once per dashboard, before the threads: the tenant sample is one query, not one per panel.
        self.selections = {
            board.uid: list(self._selections(board, _range_of(board))) for board in self.documents.dashboards
        }
        _ = self._definitions  # computed once, before the threads share it
        with ThreadPoolExecutor(max_workers=workers) as pool:
            reports = list(pool.map(lambda job: self._panel(*job), jobs))
        self._rule_health()
        return reports

    def _rule_health(self) -> None:
        """Every rule of every Prometheus that answered, whatever the panels read: an alert whose
        expression fails (`health: err`) never fires, and no panel shows that."""
        for (kind, uid), reached in self.reached.items():
            api = reached.prometheus
            if kind != "prometheus" or api is None or not reached.answered or reached.failure is not None:
                continue
            try:
                states = api.rules
            except SourceError as error:
                self.rule_failures.append(error)
                continue
            self.rules += [
                RuleReport(
                    datasource=uid,
                    kind=state.kind,
                    name=state.record,
                    group=state.group,
                    file=state.file,
                    health=state.health,
                    last_error=state.last_error,
                    interval_s=state.interval,
                )
                for state in states
                if state.health != "ok"
            ]

    def _panel(self, board: DashboardDocument, panel: dict[str, Any]) -> PanelReport:
        targets = [t for t in panel["targets"] if not t.get("hide")]
        report = PanelReport(board.uid, str(panel.get("title", "")))
        range_s = _range_of(board)
        for target in targets:
            ref = _datasource(panel, target)
            if ref["type"] not in SUPPORTED or ref["type"] in self.skip:
                continue
            reached = self._reach(ref["type"], ref["uid"])
            if reached.failure is not None:
                report.add(Status.ERROR, [Cause(reached.failure.code, reached.failure.detail)])
                continue
            for selection in self.selections[board.uid]:
                if reached.failure is not None:  # went down while this panel was being diagnosed
                    report.add(Status.ERROR, [Cause(reached.failure.code, reached.failure.detail)])
                    break
                status, causes = self._guarded(
                    ref["type"],
                    reached=reached,
                    panel=panel,
                    target=target,
                    range_s=range_s,
                    variables=selection.variables,
                )
                reached.learn(causes)
                if selection.at_all:
                    # Empty at All: say so, so that nobody looks for the cause at one tenant.
                    report.add(
                        status, [selection.name(c) for c in causes] if status is Status.EMPTY else causes
                    )
                elif status in (Status.EMPTY, Status.ERROR) and report.status is Status.OK:
                    # Data for All, none for this value: the panel lies about that tenant.
                    report.add(Status.SUSPECT, [selection.name(c) for c in causes])
        self.on_panel(report)
        return report

    def _guarded(self, kind: str, **target: Any) -> tuple[Status, list[Cause]]:
        """One target's diagnosis; a datasource failure anywhere in it is this panel's error, never the run's.

        This is the boundary that keeps what was learned: a failing answer costs its own panel, while
        every other panel (and the other datasource's) is still diagnosed and shown.
        """
        try:
            return self._target(kind, **target)
        except SourceError as error:
            return Status.ERROR, [Cause(error.code, error.detail)]

    def _target(
        self,
        kind: str,
        *,
        reached: Reached,
        panel: dict[str, Any],
        target: dict[str, Any],
        range_s: float,
        variables: dict[str, str],
    ) -> tuple[Status, list[Cause]]:
        width = int((panel.get("gridPos") or {}).get("w", 24))
        if kind == "prometheus":
            assert reached.prometheus is not None
            api = reached.prometheus
            scrape = api.scrape_interval
            expr = substitute(
                str(target.get("expr", "")), builtin_intervals(range_s, scrape, width), variables
            )
            doctor = self._prometheus_doctor(api, range_s)
            return doctor.diagnose(expr, exemplar=bool(target.get("exemplar")))
        expr = substitute(str(target.get("expr", "")), builtin_intervals(range_s, 1, width), variables)
        return LokiDoctor(LokiApi(reached.endpoint, range_s), _range_label(range_s)).diagnose(expr)

    def _prometheus_doctor(self, api: PrometheusApi, range_s: float) -> PrometheusDoctor:
        catalog, signals, homes, limits = self._definitions
        return PrometheusDoctor(api, catalog, signals, homes, limits, range_s)

    @cached_property
    def _definitions(
        self,
    ) -> tuple[dict[str, SeriesInfo], dict[str, MetricSignal], dict[str, str], dict[str, Limit]]:
        """What the definitions say about each series: its catalog entry, its emitter, its rule's home,
        and for a tenant-scoped signal the cardinality limit the contract sets its emitter."""
        project = self.documents.project
        contract = project.contract
        signals = {name: signal for signal in contract.metrics for name in signal.series_names}
        homes = {
            rule.record: f"group {group.name!r} in {project.config.rules_file}"
            for group in project.rule_groups
            for rule in group.recording
        }
        source = (
            f'{project.contract_source}; {project.config.contract_doc}, "Cardinality: what one tenant costs"'
        )
        limits = {
            name: Limit(contract.cardinality_limit(signal), signal.emitter, source)
            for name, signal in signals.items()
            if signal.tenant_budget is not None
        }
        return build_catalog(contract, project.rule_groups), signals, homes, limits

    def _selections(self, board: DashboardDocument, range_s: float) -> Iterator[Selection]:
        """Every variable as the dashboard opens (All, or for a variable without All its first real
        value), then each variable at a few other real values (the others as the dashboard opens)."""
        variables = [v for v in (board.document.get("templating") or {}).get("list", []) if v.get("name")]
        sampled = {str(v["name"]): self._sample(board, v, range_s) for v in variables}
        opening = {str(v["name"]): opening_value(v, sampled[str(v["name"])]) for v in variables}
        label = ", ".join(
            f"${name} = {_opening_text(v, opening[name])}" for v, name in zip(variables, opening, strict=True)
        )
        yield Selection(True, label, opening, tuple(opening.items()))
        for variable in variables:
            name, escape = str(variable["name"]), variable.get("multi") or variable.get("includeAll")
            texts = [(value, regex_escape(value) if escape else value) for value in sampled[name]]
            for value, text in [t for t in texts if t[1] != opening[name]][: self.samples]:
                chosen = tuple({**opening, name: value}.items())
                yield Selection(False, f"${name} = {value}", {**opening, name: text}, chosen)

    def _sample(self, board: DashboardDocument, variable: dict[str, Any], range_s: float) -> list[str]:
        if variable.get("type") != "query":
            return [str(o.get("value")) for o in variable.get("options", [])]
        ref = variable.get("datasource") or {}
        if ref.get("type") != "prometheus" or "prometheus" in self.skip:
            return []
        reached = self._reach("prometheus", str(ref.get("uid")))
        query = variable.get("query")
        text = str(query.get("query", "") if isinstance(query, dict) else query or "")
        match = _LABEL_VALUES.match(text.strip())
        if reached.prometheus is None or reached.failure is not None or not match:
            return []
        selector, label = match.group(1), match.group(2)
        try:
            values = reached.prometheus.label_values(label, selector, start=reached.prometheus.now - range_s)
        except SourceError as error:
            reached.learn([Cause(error.code, error.detail)])
            return []
        skip = {str(variable.get("allValue") or "")}
        return [v for v in values if v not in skip]


_REFERENCE = "(?:\\$\\{{{name}(?::[^}}]*)?\\}}|\\${name}\\b|\\[\\[{name}\\]\\])"


def _left_out_variable(board: DashboardDocument, panel: dict[str, Any], skip: dict[str, str]) -> str | None:
    """The type of a left-out datasource that a variable the panel uses is sampled from, when the
    variable has no All to fall back on (a one-tenant dashboard's `$tenant`): Grafana would show that
    panel for no tenant at all, so it is listed with the datasource's other panels as not checked,
    rather than reported empty for a value nobody would pick."""
    text = str(panel.get("targets"))
    for variable in (board.document.get("templating") or {}).get("list", []):
        kind = str((variable.get("datasource") or {}).get("type", ""))
        name = re.escape(str(variable.get("name", "")))
        if (
            variable.get("type") == "query"
            and kind in skip
            and not variable.get("includeAll")
            and re.search(_REFERENCE.format(name=name), text)
        ):
            return kind
    return None


def _range_of(board: DashboardDocument) -> float:
    return range_seconds(str((board.document.get("time") or {}).get("from", DASHBOARD_TIME_FROM)))


def _panels(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The panels with queries, collapsed rows' included (a row itself has none to ask)."""
    for panel in every_panel(document):
        if panel.get("type") != "row" and panel.get("targets"):
            yield panel


def _datasource(panel: dict[str, Any], target: dict[str, Any]) -> dict[str, str]:
    ref = target.get("datasource") or panel.get("datasource") or {}
    return {"type": str(ref.get("type", "")), "uid": str(ref.get("uid", ""))}


def _opening_text(variable: dict[str, Any], value: str) -> str:
    """How the opening value reads: "All (`__all__`)" for a variable with an All option, else the value."""
    return f"All (`{value}`)" if variable.get("includeAll") else value


def _range_label(range_s: float) -> str:
    hours = range_s / 3600
    return f"the last {hours:g} h" if hours >= 1 else f"the last {range_s / 60:g} min"
