"""Lint: one check per module in `checks/`, each a predicate; this registry iterates and locates.

A check says what is wrong with one dashboard, panel or query; the iteration (every panel, nested
rows included; every query of a datasource type; every PromQL tree) and the "where" of a finding
live here, once (dashboard-linter's `NewPanelRuleFunc`/`NewTargetRuleFunc` are the model). Checks
never print: the CLI formats findings. Add a check by adding a module to `checks/` that defines
`CHECK` (and a test in tests/lint/).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from dashboards_as_code.dashboard_panels import every_panel
from dashboards_as_code.definitions.types import Project
from dashboards_as_code.errors import Location
from dashboards_as_code.kinds.dashboard import DashboardDocument
from dashboards_as_code.promql.series_catalog import SeriesInfo, build_catalog
from dashboards_as_code.promql.tree import parse
from dashboards_as_code.render.documents import Documents
from dashboards_as_code.render.formats import Output

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    location: Location
    check: str
    message: str
    severity: Severity = "error"
    """Errors fail `build` and `check`; warnings (a checker that could not run locally) are printed."""
    tool_missing: bool = False
    """The check could not run (its program is not installed): not a problem in the definitions."""

    def sort_key(self) -> tuple[str, str, str]:
        return (str(self.location), self.check, self.message)

    def __str__(self) -> str:
        return f"{self.location}: {self.message} [{self.check}]"


@dataclass(frozen=True)
class Query:
    """One query of one panel, with its PromQL tree when it is a Prometheus query that parses."""

    board: DashboardDocument
    panel: dict[str, Any]
    target: dict[str, Any]
    tree: Any = None

    @property
    def name(self) -> str:
        return f"query {self.target.get('refId')}"

    @property
    def expr(self) -> str:
        return str(self.target.get("expr", ""))


@dataclass
class LintContext:
    """What checks look at: the project, its documents and the files `build` writes from them."""

    documents: Documents
    outputs: list[Output]
    catalog: dict[str, SeriesInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.catalog = build_catalog(self.project.contract, self.project.rule_groups)

    @property
    def project(self) -> Project:
        return self.documents.project

    @property
    def dashboards(self) -> list[DashboardDocument]:
        return self.documents.dashboards

    def series(self, name: str | None) -> SeriesInfo | None:
        """A series the contract defines or a recording rule writes, or None."""
        return self.catalog.get(name or "")

    def panels(self) -> Iterator[tuple[DashboardDocument, dict[str, Any]]]:
        """Every panel of every dashboard, including those nested in collapsed rows."""
        for board in self.dashboards:
            for panel in every_panel(board.document):
                yield board, panel

    def queries(self, datasource_type: str) -> Iterator[Query]:
        """Every query sent to a datasource of this type."""
        for board, panel in self.panels():
            for target in panel.get("targets", []) or []:
                if (target.get("datasource") or {}).get("type") == datasource_type:
                    yield Query(board, panel, target)

    @cached_property
    def parsed_prometheus_queries(self) -> list[Query]:
        """Each PromQL query that parses, with its tree (parsed once for every check)."""
        parsed = []
        for query in self.queries("prometheus"):
            try:
                tree = parse(query.expr)
            except ValueError:
                continue  # query-metrics reports it
            parsed.append(Query(query.board, query.panel, query.target, tree))
        return parsed


def where(board: DashboardDocument, panel: dict[str, Any] | None = None) -> Location:
    return Location(
        file=board.definition.source or None,
        dashboard=board.uid,
        panel=str(panel.get("title")) if panel is not None else None,
    )


@dataclass(frozen=True)
class Check:
    id: str
    doc: str
    run: Callable[[LintContext], Iterable[Finding]]
    fatal: bool = False
    """Its errors make every other finding unreliable (two dashboards with one uid, say): when it
    reports an error, only the fatal checks' findings are shown, not the cascade that follows."""

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0].removeprefix(f"{self.id}:").strip() if self.doc else ""


DashboardPredicate = Callable[[LintContext, DashboardDocument], Iterable[tuple[dict[str, Any] | None, str]]]
PanelPredicate = Callable[[LintContext, dict[str, Any]], Iterable[str]]
QueryPredicate = Callable[[LintContext, Query], Iterable[str]]


def dashboard_check(id: str, doc: str | None, predicate: DashboardPredicate) -> Check:
    """`predicate` yields (panel or None, message) for one dashboard (for checks across its panels)."""

    def run(context: LintContext) -> Iterator[Finding]:
        for board in context.dashboards:
            for panel, message in predicate(context, board):
                yield Finding(where(board, panel), id, message)

    return Check(id, doc or "", run)


def panel_check(id: str, doc: str | None, predicate: PanelPredicate) -> Check:
    """`predicate` yields messages for one panel; rows (headers, no queries) are not panels here."""

    def run(context: LintContext) -> Iterator[Finding]:
        for board, panel in context.panels():
            if panel.get("type") != "row":
                yield from (Finding(where(board, panel), id, m) for m in predicate(context, panel))

    return Check(id, doc or "", run)


def query_check(id: str, doc: str | None, datasource_type: str, predicate: QueryPredicate) -> Check:
    """`predicate` yields messages for one query to a datasource of `datasource_type`."""

    def run(context: LintContext) -> Iterator[Finding]:
        for query in context.queries(datasource_type):
            yield from (Finding(where(query.board, query.panel), id, m) for m in predicate(context, query))

    return Check(id, doc or "", run)


def promql_check(id: str, doc: str | None, predicate: QueryPredicate) -> Check:
    """`predicate` yields messages for one Prometheus query that parses (`query.tree` is set)."""

    def run(context: LintContext) -> Iterator[Finding]:
        for query in context.parsed_prometheus_queries:
            yield from (Finding(where(query.board, query.panel), id, m) for m in predicate(context, query))

    return Check(id, doc or "", run)


def missing_tool_severity(context: LintContext) -> Severity:
    """A check whose tool is missing: an error in CI (`CI=true`), where it must run; a warning on a laptop.

    Settings (pydantic-settings) are imported only on this path, so a normal run starts without them.
    """
    from dashboards_as_code.settings import SettingsError, settings  # noqa: PLC0415

    try:
        return "error" if settings(context.project.root).ci else "warning"
    except SettingsError:
        return "error"  # a broken .env: do not guess that this is a laptop


def all_checks() -> list[Check]:
    # Imported here because each check module imports this one.
    from dashboards_as_code.lint import checks  # noqa: PLC0415

    found = []
    for info in sorted(pkgutil.iter_modules(checks.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{checks.__name__}.{info.name}")
        found.append(module.CHECK)
    return found


def run_checks(context: LintContext, selected: Iterable[Check] | None = None) -> list[Finding]:
    """Every finding, sorted. Checks run on threads: those that wait on Node or promtool overlap the rest."""
    chosen = list(selected or all_checks())
    fatal = [f for check in chosen if check.fatal for f in check.run(context)]
    if any(f.severity == "error" for f in fatal):
        return sorted(set(fatal), key=Finding.sort_key)
    _ = context.parsed_prometheus_queries  # parse once, before the threads share it
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda check: list(check.run(context)), [c for c in chosen if not c.fatal]))
    return sorted({*fatal, *(f for found in results for f in found)}, key=Finding.sort_key)
