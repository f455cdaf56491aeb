"""Finding a project's dashboards: every `dashboards/<name>.py` (not starting with `_`) with a
`dashboard()` function, so adding a dashboard is adding a file.

Each one is checked here for what would make a file name, an API path or a Grafana column fail
(uids, titles, folders), before any lint check could report its consequences.
"""

from __future__ import annotations

import pkgutil

from dashboards_as_code.definitions.loading import Loading
from dashboards_as_code.definitions.types import DashboardDefinition, Folder
from dashboards_as_code.errors import DefinitionError, Location
from dashboards_as_code.names import DASHBOARD_TITLE_MAX, FOLDER_TITLE_MAX, shown, title_key, title_problem
from dashboards_as_code.uids import uid_key, uid_problem


def discover_dashboards(loading: Loading) -> list[DashboardDefinition]:
    """Every dashboard module's definition, by module name."""
    root = loading.root
    dashboards_package = loading.package("dashboards")
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
        module = loading.module(f"dashboards.{info.name}", file)
        build = getattr(module, "dashboard", None)
        if not callable(build):
            raise DefinitionError(Location(file=relative), "defines no dashboard() function")
        definition = loading.run(file, build)
        if not isinstance(definition, DashboardDefinition):
            raise DefinitionError(
                Location(file=relative),
                f"dashboard() returned {type(definition).__name__}; "
                "build it with dashboard() from dashboards_as_code.define",
            )
        definition.source = relative
        _check_uids(definition)
        _check_titles(definition)
        definitions.append(definition)
    _check_folders(definitions)
    return definitions


def _check_uids(definition: DashboardDefinition) -> None:
    """uids become API paths and file names (provisioning/dashboards/<folder>/<uid>.json): a bad one
    is fatal here, before any lint check could report its consequences."""
    for kind, uid in (("dashboard", definition.uid), ("folder", definition.folder.uid)):
        problem = uid_problem(uid) if isinstance(uid, str) else f"the {kind} uid {uid!r} is not a string"
        if problem:
            raise DefinitionError(Location(file=definition.source), f"{kind} uid: {problem}")


def _check_titles(definition: DashboardDefinition) -> None:
    """Titles Grafana stores in a column (dashboard.title, folder.title, both VARCHAR(189)): one line
    without control or bidirectional characters, within the column (dashboards_as_code/names.py)."""
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
    """One folder per uid and one uid per folder title, both compared as MySQL compares them (without
    regard to case). A uid is unique in Grafana (a second one is a 409). A title was too before
    Grafana 11.3 (a unique index on (org_id, parent_uid, title), so push failed with 409); since 11.3
    two folders may share one (docs/grafana-13-folder-facts.md 1e), but two of ours with one title
    would look like one folder in every picker and in the provisioning providers."""
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
