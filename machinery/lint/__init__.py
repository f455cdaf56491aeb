"""Lint: one rule per module in `rules/`, each returning findings; this registry runs them.

Rules never print. A finding names its rule and the dashboard, panel or datasource concerned; the
CLI formats it. Add a rule by adding a module to `rules/` that defines `RULE` (and a test).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from machinery.datasource_model import Datasource
from machinery.definitions import DashboardDefinition, Project
from machinery.errors import Location
from machinery.lint.promql import parse
from machinery.render import Output, normalise_dashboard, render_outputs
from machinery.rules_model import RuleGroup
from machinery.series_catalog import SeriesInfo, build_catalog

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    location: Location
    rule: str
    message: str
    severity: Severity = "error"
    """Errors fail `build` and `check`; warnings (a checker that could not run locally) are printed."""

    def sort_key(self) -> tuple[str, str, str]:
        return (str(self.location), self.rule, self.message)

    def __str__(self) -> str:
        return f"{self.location}: {self.message} [{self.rule}]"


@dataclass
class LintContext:
    """What the rules look at: the definitions and their normalised dashboard documents."""

    dashboards: list[DashboardDefinition]
    datasources: list[Datasource]
    rule_groups: list[RuleGroup] = field(default_factory=list)
    grafana_url: str = "http://localhost:3001"
    runbook_url: str = "README.md"
    documents: dict[int, dict[str, Any]] = field(default_factory=dict)
    catalog: dict[str, SeriesInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.documents = {id(d): normalise_dashboard(d) for d in self.dashboards}
        self.catalog = build_catalog(self.rule_groups)

    def series(self, name: str | None) -> SeriesInfo | None:
        """A series the contract defines or a recording rule writes, or None."""
        return self.catalog.get(name or "")

    def document(self, definition: DashboardDefinition) -> dict[str, Any]:
        return self.documents[id(definition)]

    @cached_property
    def outputs(self) -> list[Output]:
        """The files `build` would write, for rules that check the rendered text."""
        return render_outputs(
            self.dashboards,
            self.datasources,
            self.rule_groups,
            grafana_url=self.grafana_url,
            runbook_url=self.runbook_url,
        )

    @classmethod
    def for_project(cls, project: Project) -> LintContext:
        return cls(
            project.dashboards,
            project.datasources,
            project.rule_groups,
            grafana_url=project.grafana_url,
            runbook_url=project.runbook_url,
        )

    def parsed_prometheus_targets(
        self,
    ) -> Iterator[tuple[DashboardDefinition, dict[str, Any], dict[str, Any], Any]]:
        """(dashboard, panel, query, AST) for each PromQL query that parses; query-metrics reports others."""
        for definition, panel, target in self.targets("prometheus"):
            try:
                tree = parse(str(target.get("expr", "")))
            except ValueError:
                continue
            yield definition, panel, target, tree

    def targets(
        self, datasource_type: str
    ) -> Iterator[tuple[DashboardDefinition, dict[str, Any], dict[str, Any]]]:
        """(dashboard, panel, query) for every query sent to a datasource of this type."""
        for definition, panel in self.panels():
            for target in panel.get("targets", []) or []:
                if (target.get("datasource") or {}).get("type") == datasource_type:
                    yield definition, panel, target

    def panels(self) -> Iterator[tuple[DashboardDefinition, dict[str, Any]]]:
        """Every panel of every dashboard, including those nested in collapsed rows."""
        for definition in self.dashboards:
            for panel in self.document(definition).get("panels", []):
                yield definition, panel
                for nested in panel.get("panels", []) or []:
                    yield definition, nested


def where(definition: DashboardDefinition, panel: dict[str, Any] | None = None) -> Location:
    return Location(
        file=definition.source or None,
        dashboard=definition.uid,
        panel=str(panel.get("title")) if panel is not None else None,
    )


@dataclass(frozen=True)
class Rule:
    id: str
    doc: str
    check: Callable[[LintContext], Iterable[Finding]]


def all_rules() -> list[Rule]:
    # Imported here because each rule module imports Finding and Rule from this one.
    from machinery.lint import rules  # noqa: PLC0415

    found = []
    for info in sorted(pkgutil.iter_modules(rules.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{rules.__name__}.{info.name}")
        found.append(module.RULE)
    return found


def run_rules(context: LintContext, rules: Iterable[Rule] | None = None) -> list[Finding]:
    findings = [f for rule in (rules or all_rules()) for f in rule.check(context)]
    return sorted(set(findings), key=Finding.sort_key)
