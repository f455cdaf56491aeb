"""The public definitions API: one module a definition imports everything from, its names pinned.

A name leaving `define` breaks every project that imports it, so the list below changes only on
purpose. The project's own definitions are held to it too: any other engine import in them would
be a path a user copies and an internal move then breaks.
"""

from __future__ import annotations

import ast
from pathlib import Path

from dashboards_as_code import define
from dashboards_as_code.definitions.loader import definition_modules
from tests.conftest import REPO

PUBLIC = {
    # the telemetry contract
    "TelemetryContract", "MetricSignal", "LogSignal", "TraceSignal", "Instrument", "LabelValues",
    "PromType", "Resource", "TenantBudget", "OVERFLOW_LABEL", "OVERFLOW_VALUE",
    # queries
    "queries", "Matcher",
    # panels and dashboards
    "dashboard", "Row", "PanelSpec", "timeseries", "stat", "bar_gauge", "logs", "prom", "loki",
    "thresholds", "dashboard_link", "explore_link", "tenant_link", "QueryVariable",
    "COUNT", "RATIO_AS_PERCENT", "REQUESTS_PER_SECOND", "SECONDS",
    # datasources and their links
    "PrometheusDatasource", "PrometheusOptions", "ExemplarDestination", "LokiDatasource", "LokiOptions",
    "DerivedField", "JaegerDatasource", "JaegerOptions", "TracesToLogs", "TracesToMetrics", "TagMapping",
    "MetricQuery", "AlertmanagerDatasource", "AlertmanagerOptions",
    "Correlation", "CorrelationTransformation",
    # rules, alerts and their routing
    "RecordingRule", "AlertRule", "RuleGroup", "AlertRouting", "Receiver", "SeverityRoute", "Inhibition",
    "Webhook",
    # the project's shape
    "ProjectConfig", "MetricsEngine", "Folder", "DashboardDefinition",
    # shared defaults and duration helpers
    "TENANT_LABEL", "TENANT_VARIABLE", "ALL_TENANTS", "DASHBOARD_TIME_FROM", "RECORDING_RATE_WINDOW",
    "parse_duration", "range_seconds",
}  # fmt: skip
ENGINE = define.__name__.split(".")[0]


def test_the_public_names_are_pinned_and_all_defined() -> None:
    assert set(define.__all__) == PUBLIC
    assert len(define.__all__) == len(PUBLIC), "a name is listed twice in __all__"
    missing = [name for name in define.__all__ if not hasattr(define, name)]
    assert missing == []


def _engine_imports(file: Path) -> list[str]:
    """Each engine module `file` imports, as written (`dashboards_as_code.panels.style`,
    `dashboards_as_code`)."""
    found = []
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
            if (
                node.module == ENGINE
            ):  # `from dashboards_as_code import queries`: a submodule by another route
                modules = [f"{ENGINE}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found += [m for m in modules if m.split(".")[0] == ENGINE]
    return found


def _definition_files() -> list[Path]:
    files = []
    for name in definition_modules():
        module, package = REPO / f"{name}.py", REPO / name
        files += [module] if module.is_file() else sorted(package.rglob("*.py"))
    return files


def test_the_project_s_definitions_import_the_engine_only_through_the_public_api() -> None:
    files = _definition_files()
    assert any(file.parent.name == "dashboards" for file in files), "no dashboard module was read"
    elsewhere = {
        f"{file.relative_to(REPO)}: {module}"
        for file in files
        for module in _engine_imports(file)
        if module != define.__name__
    }
    assert elsewhere == set()


def test_the_engine_import_finder_sees_every_form(tmp_path: Path) -> None:
    """The scan above must not pass by missing an import form."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        f"import {ENGINE}.queries\nfrom {ENGINE} import defaults\nfrom {ENGINE}.panels.style import Row\n"
        f"from {define.__name__} import Row as R\n"
    )
    assert _engine_imports(sample) == [
        f"{ENGINE}.queries",
        f"{ENGINE}.defaults",
        f"{ENGINE}.panels.style",
        define.__name__,
    ]
