"""Loading a project's definitions from its root: `config.py`, `telemetry/contract.py`, `dashboards/*.py`,
`datasources/` and `prometheus_rules/`, plus the rule group the dashboards' queries need
(`derived_rules.py`).

A dashboard module is any `dashboards/<name>.py` (not starting with `_`) with a `dashboard()`
function, so adding a dashboard is adding a file. Whatever goes wrong while a definition runs
(an unknown contract signal, a label the signal lacks, a typo) becomes a `DefinitionError` naming
the file and line, which the CLI prints without a traceback.

The modules are imported from the given root, never from wherever Python happens to find a package of
the same name: `build --project DIR` must not mix DIR's dashboards with another checkout's contract.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from pydantic import ValidationError

from engine.contract.model import MetricSignal, TelemetryContract
from engine.definitions.alert_routing import AlertRouting
from engine.definitions.derived_rules import with_derived_rules
from engine.definitions.types import DashboardDefinition, Folder, Project, ProjectConfig
from engine.errors import DefinitionError, LoadInterruptedError, Location
from engine.names import DASHBOARD_TITLE_MAX, FOLDER_TITLE_MAX, shown, title_key, title_problem
from engine.uids import uid_key, uid_problem

DEFINITION_MODULES = ("config", "telemetry", "dashboards", "datasources", "prometheus_rules")
"""Top-level names a project defines; each is imported from the project root."""
CONTRACT_SOURCE = "telemetry/contract.py"
ENGINE_DIR = Path(__file__).resolve().parents[1]
"""Frames in here are the engine's, not the definition's: a finding points past them."""

T = TypeVar("T")


def _where(root: Path, error: BaseException, fallback: Path) -> str:
    """`dashboards/overview.py:42`: the last frame of the traceback that is in the project's own files."""
    if isinstance(error, SyntaxError) and error.filename and not error.filename.startswith("<"):
        path = Path(error.filename).resolve()
        if path.is_relative_to(root):
            return f"{path.relative_to(root)}:{error.lineno}" if error.lineno else str(path.relative_to(root))
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>: not a file of ours
            continue
        path = Path(frame.filename).resolve()
        if path.is_relative_to(root) and not path.is_relative_to(ENGINE_DIR) and ".venv" not in path.parts:
            return f"{path.relative_to(root)}:{frame.lineno}"
    return str(fallback.relative_to(root)) if fallback.is_relative_to(root) else str(fallback)


def _describe(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r}) while being loaded; a definition must return, not exit"
    if isinstance(error, ValidationError):  # pydantic: one line per field, never the input value
        fields = [
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors(include_input=False, include_url=False)
        ]
        return f"{error.title} is invalid: " + "; ".join(fields)
    if isinstance(error, RecursionError):
        return "RecursionError: a function calls itself without end"
    if isinstance(error, SyntaxError) and "decode" in str(error):
        return f"the file is not valid UTF-8 ({error.msg})"
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _run(root: Path, file: Path, action: Callable[[], T]) -> T:
    """Run definition code. It is user code: whatever it raises or does is reported, never crashed on."""
    try:
        return action()
    except DefinitionError:
        raise
    except KeyboardInterrupt as error:
        raise LoadInterruptedError(
            Location(file=_where(root, error, file)), "interrupted while loading"
        ) from None
    except BaseException as error:
        raise DefinitionError(Location(file=_where(root, error, file)), _describe(error)) from None


def _import(root: Path, name: str, file: Path) -> ModuleType:
    return _run(root, file, lambda: importlib.import_module(name))


def _forget_other_roots(root: Path) -> None:
    """Drop definition modules imported from elsewhere (another checkout, an earlier `--project`)."""
    for name in list(sys.modules):
        if name.split(".")[0] not in DEFINITION_MODULES:
            continue
        file = getattr(sys.modules[name], "__file__", None)
        if file is None or not Path(file).resolve().is_relative_to(root):
            del sys.modules[name]


def _required(module: ModuleType, name: str, kind: type | tuple[type, ...], file: str, what: str) -> Any:
    found = getattr(module, name, None)
    if not isinstance(found, kind):
        raise DefinitionError(Location(file=file), f"must define {what}")
    return found


def _alert_routing(rules_module: ModuleType) -> AlertRouting | None:
    """The project's ALERT_ROUTING (prometheus_rules/__init__.py), optional: without it no
    Alertmanager configuration is generated, and alerts are routed however the deployment does."""
    routing = getattr(rules_module, "ALERT_ROUTING", None)
    if routing is None or isinstance(routing, AlertRouting):
        return routing
    raise DefinitionError(
        Location(file="prometheus_rules/__init__.py"),
        f"ALERT_ROUTING is a {type(routing).__name__}; build it with "
        "engine.definitions.alert_routing.AlertRouting",
    )


def _check_uids(definition: DashboardDefinition) -> None:
    """uids become API paths and file names (provisioning/dashboards/<folder>/<uid>.json): a bad one
    is fatal here, before any lint check could report its consequences."""
    for kind, uid in (("dashboard", definition.uid), ("folder", definition.folder.uid)):
        problem = uid_problem(uid) if isinstance(uid, str) else f"the {kind} uid {uid!r} is not a string"
        if problem:
            raise DefinitionError(Location(file=definition.source), f"{kind} uid: {problem}")


def _check_titles(definition: DashboardDefinition) -> None:
    """Titles Grafana stores in a column (dashboard.title, folder.title, both VARCHAR(189)): one line
    without control or bidirectional characters, within the column (engine/names.py)."""
    where = Location(file=definition.source, dashboard=definition.uid)
    problem = title_problem(
        definition.dashboard.title, DASHBOARD_TITLE_MAX, "Grafana's dashboard.title column"
    )
    if problem:
        raise DefinitionError(where, f"dashboard title {problem}")
    folder = definition.folder
    problem = title_problem(folder.title, FOLDER_TITLE_MAX, "Grafana's folder.title column")
    if problem:
        raise DefinitionError(where, f"folder {folder.uid!r}: title {problem}")


def _check_folders(definitions: list[DashboardDefinition]) -> None:
    """One folder per uid and one uid per folder title, as Grafana's unique indexes on folder
    (org_id, uid) and (org_id, parent_uid, title) demand; both compared as MySQL compares them
    (without regard to case). Otherwise push fails with 409, or provisioning makes one folder of two."""
    by_uid: dict[str, tuple[Folder, str]] = {}
    by_title: dict[str, tuple[Folder, str]] = {}
    for definition in definitions:
        folder, source = definition.folder, definition.source
        first, first_source = by_uid.setdefault(uid_key(folder.uid), (folder, source))
        here = Location(file=source, dashboard=definition.uid)
        if first.uid != folder.uid:
            raise DefinitionError(
                here,
                f"folder uid {folder.uid!r} and folder uid {first.uid!r} (used by {first_source}) differ "
                "only in case; Grafana compares uids without regard to case, so they are one folder there",
            )
        if first.title != folder.title:
            raise DefinitionError(
                here,
                f"folder {folder.uid!r} has the title {shown(folder.title)} here and "
                f"{shown(first.title)} in {first_source}; a folder has one title",
            )
        other, other_source = by_title.setdefault(title_key(folder.title), (folder, source))
        if other.uid != folder.uid:
            titles = (
                f"the same title {shown(folder.title)}"
                if other.title == folder.title
                else f"the titles {shown(other.title)} and {shown(folder.title)}, the same to Grafana "
                "(its MySQL index ignores case and trailing spaces)"
            )
            raise DefinitionError(
                here,
                f"folders {other.uid!r} (used by {other_source}) and {folder.uid!r} have {titles}; "
                "Grafana allows one folder per title (409 on push)",
            )


def load_project(root: Path) -> Project:
    root = root.resolve()
    for package in ("dashboards", "datasources", "prometheus_rules", "telemetry"):
        if not (root / package / "__init__.py").is_file():
            raise DefinitionError(Location(file=str(root / package)), f"no {package}/ package in the project")
    if not (root / "config.py").is_file():
        raise DefinitionError(Location(file=str(root / "config.py")), "no config.py in the project")
    if str(root) in sys.path:
        sys.path.remove(str(root))
    sys.path.insert(0, str(root))
    _forget_other_roots(root)

    config_module = _import(root, "config", root / "config.py")
    config = _required(config_module, "CONFIG", ProjectConfig, "config.py", "CONFIG = ProjectConfig(...)")
    contract_module = _import(root, "telemetry.contract", root / CONTRACT_SOURCE)
    contract = _required(
        contract_module, "CONTRACT", TelemetryContract, CONTRACT_SOURCE, "CONTRACT = TelemetryContract(...)"
    )
    datasources_module = _import(root, "datasources", root / "datasources" / "__init__.py")
    found = _required(
        datasources_module, "DATASOURCES", (list, tuple), "datasources/__init__.py", "a DATASOURCES list"
    )

    dashboards_package = _import(root, "dashboards", root / "dashboards" / "__init__.py")
    definitions: list[DashboardDefinition] = []
    for info in sorted(pkgutil.iter_modules(dashboards_package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        file = root / "dashboards" / f"{info.name}.py"
        relative = str(file.relative_to(root))
        if info.ispkg:
            raise DefinitionError(
                Location(file=f"dashboards/{info.name}/"),
                "is a package; a dashboard is one module, dashboards/<name>.py "
                "(shared helpers go in a module whose name starts with _)",
            )
        try:
            file.resolve(strict=True)
        except (OSError, RuntimeError) as error:  # a symlink loop or a link to nothing
            raise DefinitionError(Location(file=relative), f"cannot be read: {error}") from None
        if not info.name.isidentifier():
            raise DefinitionError(
                Location(file=relative),
                "a dashboard module needs a file name that is a Python identifier (letters, digits, '_'), "
                "e.g. dashboards/my_board.py",
            )
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
        _check_uids(definition)
        _check_titles(definition)
        definitions.append(definition)
    _check_folders(definitions)

    rules_module = _import(root, "prometheus_rules", root / "prometheus_rules" / "__init__.py")
    groups = _required(
        rules_module, "RULE_GROUPS", (list, tuple), "prometheus_rules/__init__.py", "a RULE_GROUPS list"
    )
    routing = _alert_routing(rules_module)
    return Project(
        root=root,
        config=config,
        contract=contract,
        contract_source=CONTRACT_SOURCE,
        signal_names=signal_names_of(contract_module),
        dashboards=definitions,
        datasources=list(found),
        # The rules the dashboards' queries carry (queries.tenant_sum) join the hand-written groups.
        rule_groups=with_derived_rules(config.name, definitions, list(groups)),
        alert_routing=routing,
        datasource_sources=_datasource_sources(root, list(found)),
    )


def signal_names_of(module: Any) -> dict[str, str]:
    """Each metric signal's key -> its upper-case name in the contract module (the first one found)."""
    names: dict[str, str] = {}
    for name, value in vars(module).items():
        if isinstance(value, MetricSignal) and name.isupper():
            names.setdefault(value.key, name)
    return names


def _datasource_sources(root: Path, datasources: list[Any]) -> dict[int, str]:
    """Which `datasources/*.py` module defines each datasource object (by identity)."""
    sources: dict[int, str] = {}
    for name, module in sorted(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not (name == "datasources" or name.startswith("datasources.")) or file is None:
            continue
        path = Path(file).resolve()
        if not path.is_relative_to(root):
            continue
        relative = path.relative_to(root).as_posix()
        for value in vars(module).values():
            if any(value is d for d in datasources) and (id(value) not in sources or name != "datasources"):
                sources[id(value)] = relative
    return sources
