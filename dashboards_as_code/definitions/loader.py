"""Loading a project's definitions from its root: `config.py`, `telemetry/contract.py`, each kind's
definitions (dashboards_as_code/kinds/: `dashboards/*.py`, `datasources/`...) and `prometheus_rules/`, plus
the rule group the dashboards' queries need (`derived_rules.py`).

Whatever goes wrong while a definition runs (an unknown contract signal, a label the signal lacks, a
typo) becomes a `DefinitionError` naming the file and line (`loading.py`), which the CLI prints
without a traceback.

The modules are imported from the given root, never from wherever Python happens to find a package of
the same name: `build --project DIR` must not mix DIR's dashboards with another checkout's contract.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from dashboards_as_code import kinds
from dashboards_as_code.contract.model import MetricSignal, TelemetryContract
from dashboards_as_code.definitions.alert_routing import AlertRouting
from dashboards_as_code.definitions.derived_rules import with_derived_rules
from dashboards_as_code.definitions.loading import Loading
from dashboards_as_code.definitions.metrics_engine import MetricsEngine
from dashboards_as_code.definitions.types import DashboardDefinition, Project, ProjectConfig
from dashboards_as_code.errors import DefinitionError, Location

FIXED_MODULES = ("config", "telemetry")
"""Top-level names every project defines before the kinds' definition packages (and `prometheus_rules`)."""
CONTRACT_SOURCE = "telemetry/contract.py"


def _forget_other_roots(root: Path) -> None:
    """Drop definition modules imported from elsewhere (another checkout, an earlier `--project`)."""
    for name in list(sys.modules):
        if name.split(".")[0] not in definition_modules():
            continue
        file = getattr(sys.modules[name], "__file__", None)
        if file is None or not Path(file).resolve().is_relative_to(root):
            del sys.modules[name]


def _alert_routing(rules_module: ModuleType) -> AlertRouting | None:
    """The project's ALERT_ROUTING (prometheus_rules/__init__.py), optional: without it no
    Alertmanager configuration is generated, and alerts are routed however the deployment does."""
    routing = getattr(rules_module, "ALERT_ROUTING", None)
    if routing is None or isinstance(routing, AlertRouting):
        return routing
    raise DefinitionError(
        Location(file="prometheus_rules/__init__.py"),
        f"ALERT_ROUTING is a {type(routing).__name__}; "
        "build it with AlertRouting (from dashboards_as_code.define)",
    )


def _definition_packages() -> tuple[str, ...]:
    return tuple(k.definition_package for k in kinds.registry() if k.definition_package)


def definition_modules() -> tuple[str, ...]:
    """Top-level names a project defines; each is imported from the project root."""
    return (*FIXED_MODULES, *_definition_packages(), "prometheus_rules")


def load_project(root: Path) -> Project:
    root = root.resolve()
    for package in (*_definition_packages(), "prometheus_rules", "telemetry"):
        if not (root / package / "__init__.py").is_file():
            raise DefinitionError(Location(file=str(root / package)), f"no {package}/ package in the project")
    if not (root / "config.py").is_file():
        raise DefinitionError(Location(file=str(root / "config.py")), "no config.py in the project")
    if str(root) in sys.path:
        sys.path.remove(str(root))
    sys.path.insert(0, str(root))
    _forget_other_roots(root)
    loading = Loading(root)

    config_module = loading.module("config", root / "config.py")
    config = loading.required(
        config_module, "CONFIG", ProjectConfig, "config.py", "CONFIG = ProjectConfig(...)"
    )
    contract_module = loading.module("telemetry.contract", root / CONTRACT_SOURCE)
    contract = loading.required(
        contract_module, "CONTRACT", TelemetryContract, CONTRACT_SOURCE, "CONTRACT = TelemetryContract(...)"
    )
    definitions = {kind.name: kind.discover(loading) for kind in kinds.registry()}
    dashboards: list[DashboardDefinition] = definitions["dashboard"]

    rules_module = loading.package("prometheus_rules")
    groups = loading.required(
        rules_module, "RULE_GROUPS", (list, tuple), "prometheus_rules/__init__.py", "a RULE_GROUPS list"
    )
    routing = _alert_routing(rules_module)
    sources = _definition_sources(root, definitions)
    if config.metrics_engine is not None:  # before anything reads a datasource: all see the moved one
        engine = config.metrics_engine
        definitions["datasource"] = _moved_to_the_engine(engine, definitions["datasource"], sources)
    return Project(
        root=root,
        config=config,
        contract=contract,
        contract_source=CONTRACT_SOURCE,
        signal_names=signal_names_of(contract_module),
        definitions=definitions,
        # The rules the dashboards' queries carry (queries.tenant_sum) join the hand-written groups.
        rule_groups=with_derived_rules(config.name, dashboards, list(groups)),
        alert_routing=routing,
        definition_sources=sources,
    )


def _moved_to_the_engine(engine: MetricsEngine, datasources: list[Any], sources: dict[int, str]) -> list[Any]:
    """The datasources with `config.metrics_engine` applied; a moved one keeps its file for findings."""
    moved = engine.moved(datasources)
    for before, after in zip(datasources, moved, strict=True):
        if after is not before and id(before) in sources:
            sources[id(after)] = sources[id(before)]
    return moved


def signal_names_of(module: Any) -> dict[str, str]:
    """Each metric signal's key -> its upper-case name in the contract module (the first one found)."""
    names: dict[str, str] = {}
    for name, value in vars(module).items():
        if isinstance(value, MetricSignal) and name.isupper():
            names.setdefault(value.key, name)
    return names


def _definition_sources(root: Path, definitions: dict[str, list[Any]]) -> dict[int, str]:
    """Which file of the kinds' definition packages (`datasources/*.py`...) defines each definition
    object, by identity: a finding about it names that file. A submodule wins over the package's
    `__init__.py`, which usually only collects the others' objects into a list."""
    packages = _definition_packages()
    objects = {id(value) for found in definitions.values() for value in found}
    sources: dict[int, str] = {}
    for name, module in sorted(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name.split(".")[0] not in packages or file is None:
            continue
        path = Path(file).resolve()
        if not path.is_relative_to(root):
            continue
        relative = path.relative_to(root).as_posix()
        for value in vars(module).values():
            if id(value) in objects and (id(value) not in sources or "." in name):
                sources[id(value)] = relative
    return sources
