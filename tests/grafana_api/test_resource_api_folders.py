"""Folders through Grafana 13's resource API (`/apis/folder.grafana.app/v1/...`), issue 25 item 1.

Where the server serves `folder.grafana.app`, `push` creates and renames the project's folders there
and never through `/api/folders`. A rename sends the object read back whole with the new title and
its resourceVersion (docs/grafana-13-folder-facts.md): what the folder carries besides its title (a
description, its parent) is kept, and a rename made in Grafana since the plan read the folder is a
409 Conflict, overwritten only with `--force`. The test server plays Grafana 13.2 on one store shared
with its legacy API, so what either API wrote is seen by both.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.types import Folder
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.kinds.base import ConflictError, Desired, Live, SyncError
from dashboards_as_code.kinds.folder import KIND as FOLDERS
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.settings import Settings
from tests.grafana_api.conftest import Target, cli, server_of

FOLDER_PATH = "/apis/folder.grafana.app/v1/namespaces/default/folders"
IN_VIEW = FOLDER_PATH.removeprefix("/apis")
"""The same path in `Grafana.resource_api()`, whose paths are below `/apis`."""


def _requests(target: Target) -> list[tuple[str, str]]:
    return [(method, path) for method, path, _ in server_of(target).state.requests]


def _project_folders(project: Path) -> list[Folder]:
    return list({d.folder.uid: d.folder for d in load_project(project).dashboards}.values())


def _desired(project: Path, uid: str) -> Desired:
    return next(d for d in FOLDERS.desired(build_documents(load_project(project))) if d.uid == uid)


def _renamed(project: Path, folder: Folder, title: str) -> None:
    """The folder's title changed where the project defines it (config.py, as the project does)."""
    config = project / "config.py"
    text = config.read_text()
    written = f'title="{folder.title}"'
    assert text.count(written) == 1, f"config.py defines {folder.uid!r} as {written} once"
    config.write_text(text.replace(written, f'title="{title}"'))


def test_push_to_grafana_13_creates_the_folders_through_the_resource_api(
    grafana13: Target, project_copy: Path
) -> None:
    pushed = cli(grafana13, "push", project=project_copy)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    for folder in _project_folders(project_copy):
        assert ("POST", FOLDER_PATH) in _requests(grafana13)
        assert server_of(grafana13).state.folders[folder.uid]["title"] == folder.title
    assert not [path for _, path in _requests(grafana13) if path.startswith("/api/folders")]


def test_a_rename_keeps_what_the_folder_carries_besides_its_title(
    grafana13: Target, project_copy: Path
) -> None:
    """A folder's description and parent, set in Grafana, survive a rename from the definitions: the
    object is sent back whole (a PUT replaces it: one without them would clear the description and
    move the folder to the root)."""
    assert cli(grafana13, "push", project=project_copy).returncode == 0
    folder = _project_folders(project_copy)[0]
    grafana = Grafana(Settings(grafana_url=grafana13.url, grafana_token="glsa_admin"))
    http = grafana.resource_api()
    parent = {"apiVersion": "folder.grafana.app/v1", "kind": "Folder", "metadata": {"name": "team"}}
    http.send("create parent", "POST", IN_VIEW, {**parent, "spec": {"title": "Team"}})
    read: Any = http.read("read", f"{IN_VIEW}/{folder.uid}")
    read["metadata"].setdefault("annotations", {})["grafana.app/folder"] = "team"
    read["spec"]["description"] = "Owned by the SRE team"
    http.send("move and describe", "PUT", f"{IN_VIEW}/{folder.uid}", read)

    _renamed(project_copy, folder, "TikTickets (prod)")
    pushed = cli(grafana13, "push", project=project_copy)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    after: Any = http.read("read", f"{IN_VIEW}/{folder.uid}")
    assert after["spec"] == {"title": "TikTickets (prod)", "description": "Owned by the SRE team"}
    assert after["metadata"]["annotations"]["grafana.app/folder"] == "team"
    assert ("PUT", f"{FOLDER_PATH}/{folder.uid}") in _requests(grafana13)


def _renaming_after_a_push(grafana13: Target, project_copy: Path) -> tuple[Any, Desired, Grafana, Live]:
    """The project pushed; then a plan that renames its first folder, and what that plan read of it."""
    assert cli(grafana13, "push", project=project_copy).returncode == 0
    folder = _project_folders(project_copy)[0]
    desired = replace(
        _desired(project_copy, folder.uid),
        title="TikTickets (prod)",
        document={"uid": folder.uid, "title": "TikTickets (prod)"},
    )
    grafana = Grafana(Settings(grafana_url=grafana13.url, grafana_token="glsa_admin"))
    read_by_the_plan = FOLDERS.fetch(grafana, folder.uid)
    assert read_by_the_plan is not None
    return folder, desired, grafana, read_by_the_plan


def test_a_rename_made_in_grafana_after_the_plan_read_the_folder_is_a_conflict_unless_forced(
    grafana13: Target, project_copy: Path
) -> None:
    folder, desired, grafana, read_by_the_plan = _renaming_after_a_push(grafana13, project_copy)

    http = grafana.resource_api()  # a person renames it in Grafana after the plan read it
    read: Any = http.read("read", f"{IN_VIEW}/{folder.uid}")
    http.send("rename", "PUT", f"{IN_VIEW}/{folder.uid}", {**read, "spec": {"title": "Renamed by hand"}})

    with pytest.raises(ConflictError):
        FOLDERS.write(grafana, desired, read_by_the_plan, force=False)
    assert server_of(grafana13).state.folders[folder.uid]["title"] == "Renamed by hand"
    FOLDERS.write(grafana, desired, read_by_the_plan, force=True)
    assert server_of(grafana13).state.folders[folder.uid]["title"] == "TikTickets (prod)"


def test_a_folder_uid_taken_in_grafana_between_plan_and_create_is_named(
    grafana13: Target, project_copy: Path
) -> None:
    folder = _project_folders(project_copy)[0]
    grafana = Grafana(Settings(grafana_url=grafana13.url, grafana_token="glsa_admin"))
    assert FOLDERS.fetch(grafana, folder.uid) is None  # what the plan saw
    http = grafana.resource_api()
    body = {"apiVersion": "folder.grafana.app/v1", "kind": "Folder", "metadata": {"name": folder.uid}}
    http.send("made by hand", "POST", IN_VIEW, {**body, "spec": {"title": "Made by hand"}})
    with pytest.raises(Exception) as raised:
        FOLDERS.write(grafana, _desired(project_copy, folder.uid), None, force=False)
    assert f"Grafana already has a folder with the uid {folder.uid!r} (409)" in str(raised.value)
    assert server_of(grafana13).state.folders[folder.uid]["title"] == "Made by hand"


def test_a_forced_rename_of_a_folder_deleted_in_grafana_meanwhile_says_so_and_creates_nothing(
    grafana13: Target, project_copy: Path
) -> None:
    """`--force` renames the folder Grafana holds at the write; one deleted since the plan read it is
    gone (a PUT of a missing name would create it: folder facts 2c), so the rename says it was deleted
    and writes nothing, rather than bringing back a folder someone removed."""
    folder, desired, grafana, read_by_the_plan = _renaming_after_a_push(grafana13, project_copy)
    grafana.resource_api().send("delete by hand", "DELETE", f"{IN_VIEW}/{folder.uid}", None)
    with pytest.raises(SyncError, match=f"folder {folder.uid!r} was deleted in Grafana while we pushed"):
        FOLDERS.write(grafana, desired, read_by_the_plan, force=True)
    assert folder.uid not in server_of(grafana13).state.folders
