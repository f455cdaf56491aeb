"""Finding and loading the definitions people edit: `dashboards/*.py` and `datasources/`.

A dashboard module is any `dashboards/<name>.py` (not starting with `_`) with a `dashboard()`
function, so adding a dashboard is adding a file. Whatever goes wrong while a definition runs
(an unknown contract signal, a label the signal lacks, a typo) becomes a `DefinitionError` naming
the file and line, which the CLI prints without a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import grafanalib.core as g

from machinery.errors import DefinitionError, Location

if TYPE_CHECKING:
    from machinery.datasource_model import Datasource
    from machinery.rules_model import RuleGroup


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str


@dataclass
class DashboardDefinition:
    folder: Folder
    dashboard: g.Dashboard
    source: str = ""
    """The definition file, relative to the project root (set by the loader)."""

    @property
    def uid(self) -> str:
        return str(self.dashboard.uid)

    @property
    def title(self) -> str:
        return str(self.dashboard.title)


@dataclass
class Project:
    root: Path
    dashboards: list[DashboardDefinition]
    datasources: list[Datasource]
    rule_groups: list[RuleGroup] = field(default_factory=list)
    grafana_url: str = "http://localhost:3001"
    runbook_url: str = "README.md"


T = TypeVar("T")


def _where(root: Path, error: BaseException, fallback: Path) -> str:
    """`dashboards/overview.py:42`: the last frame of the traceback that is inside the project."""
    if isinstance(error, SyntaxError) and error.filename:
        path = Path(error.filename).resolve()
        if path.is_relative_to(root):
            return f"{path.relative_to(root)}:{error.lineno}"
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        path = Path(frame.filename).resolve()
        if path.is_relative_to(root) and ".venv" not in path.parts and "machinery" not in path.parts:
            return f"{path.relative_to(root)}:{frame.lineno}"
    return str(fallback.relative_to(root)) if fallback.is_relative_to(root) else str(fallback)


def _run(root: Path, file: Path, action: Callable[[], T]) -> T:
    try:
        return action()
    except DefinitionError:
        raise
    except Exception as error:  # a definition is user code: any failure is reported, not crashed on
        raise DefinitionError(
            Location(file=_where(root, error, file)), f"{type(error).__name__}: {error}"
        ) from None


def _import(root: Path, name: str, file: Path) -> ModuleType:
    return _run(root, file, lambda: importlib.import_module(name))


def load_project(root: Path) -> Project:
    root = root.resolve()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    for package in ("dashboards", "datasources", "rules"):
        if not (root / package / "__init__.py").is_file():
            raise DefinitionError(Location(file=str(root / package)), f"no {package}/ package in the project")

    datasources_module = _import(root, "datasources", root / "datasources" / "__init__.py")
    found: Any = getattr(datasources_module, "DATASOURCES", None)
    if not isinstance(found, list | tuple):
        raise DefinitionError(Location(file="datasources/__init__.py"), "must define a DATASOURCES list")

    dashboards_package = _import(root, "dashboards", root / "dashboards" / "__init__.py")
    definitions: list[DashboardDefinition] = []
    for info in sorted(pkgutil.iter_modules(dashboards_package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        file = root / "dashboards" / f"{info.name}.py"
        relative = str(file.relative_to(root))
        module = _import(root, f"dashboards.{info.name}", file)
        build = getattr(module, "dashboard", None)
        if not callable(build):
            raise DefinitionError(Location(file=relative), "defines no dashboard() function")
        definition = _run(root, file, build)
        if not isinstance(definition, DashboardDefinition):
            raise DefinitionError(
                Location(file=relative),
                f"dashboard() returned {type(definition).__name__}; build it with style.dashboard()",
            )
        definition.source = relative
        definitions.append(definition)

    rules_module = _import(root, "rules", root / "rules" / "__init__.py")
    groups: Any = getattr(rules_module, "RULE_GROUPS", None)
    if not isinstance(groups, list | tuple):
        raise DefinitionError(Location(file="rules/__init__.py"), "must define a RULE_GROUPS list")
    return Project(
        root=root,
        dashboards=definitions,
        datasources=list(found),
        rule_groups=list(groups),
        grafana_url=str(getattr(rules_module, "GRAFANA_PUBLIC_URL", "http://localhost:3001")),
        runbook_url=str(getattr(rules_module, "RUNBOOK_URL", "README.md")),
    )
