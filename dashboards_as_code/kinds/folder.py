"""Folders: the ones the dashboards are placed in. They have no definitions of their own.

Provisioning: one file provider per folder (`dashboards/providers.yaml`), each reading the JSON files
of its own directory. Push: created or renamed before the dashboards; never pruned, since a folder
may hold dashboards made by hand; no owner marker (Grafana's folders have no tags).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from dashboards_as_code import defaults
from dashboards_as_code.kinds.answers import FolderAnswer
from dashboards_as_code.kinds.base import (
    Desired,
    GrafanaHttp,
    Kind,
    Live,
    create_or_update,
    in_path,
    read_answer,
)
from dashboards_as_code.render.formats import Output, dump_provisioning_yaml

if TYPE_CHECKING:
    from dashboards_as_code.definitions.types import Folder, Project
    from dashboards_as_code.render.documents import Documents


def providers_document(folders: list[Folder]) -> dict[str, Any]:
    """One file provider per folder; each reads the JSON files of its own directory."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": f"dashboards-as-code-{folder.uid}",
                "orgId": 1,
                "folder": folder.title,
                "folderUid": folder.uid,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": defaults.PROVIDER_UPDATE_INTERVAL_SECONDS,
                "options": {
                    "path": f"{defaults.GRAFANA_PROVISIONING_MOUNT}/dashboards/{folder.uid}",
                    "foldersFromFilesStructure": False,
                },
            }
            for folder in sorted(set(folders), key=lambda f: f.uid)
        ],
    }


def _folders(project: Project) -> list[Folder]:
    """The dashboards' folders, one per uid, in the order they first appear."""
    return list({d.folder.uid: d.folder for d in project.dashboards}.values())


class FolderKind(Kind):
    name: ClassVar[str] = "folder"
    order: ClassVar[int] = 10
    marks_owner: ClassVar[bool] = False

    def render(self, project: Project) -> dict[str, Any]:
        return providers_document(_folders(project))

    def outputs(self, documents: Documents) -> list[Output]:
        path = f"{documents.project.config.provisioning_dir}/dashboards/providers.yaml"
        return [Output(path, dump_provisioning_yaml(documents.providers, "dashboards/"))]

    def desired(self, documents: Documents) -> list[Desired]:
        owner = documents.project.config.name
        return [
            Desired(self.name, f.uid, f.title, {"uid": f.uid, "title": f.title}, owner)
            for f in _folders(documents.project)
        ]

    def fetch(self, grafana: GrafanaHttp, uid: str) -> Live | None:
        folder = read_answer(grafana, f"read folder {uid!r}", f"/folders/{in_path(uid)}", FolderAnswer)
        if folder is None:
            return None
        return Live(
            document={"uid": folder.uid, "title": folder.title}, raw=folder.model_dump(exclude_unset=True)
        )

    def write(self, grafana: GrafanaHttp, desired: Desired, live: Live | None, *, force: bool) -> None:
        title = desired.title
        create = (f"create folder {title!r}", "POST", "/folders", {"title": title, "uid": desired.uid})
        create_or_update(
            grafana,
            f"folder {title!r}",
            create=None if live else create,
            update=(
                f"rename folder {desired.uid!r}",
                "PUT",
                f"/folders/{in_path(desired.uid)}",
                {"title": title, "overwrite": True},
            ),
            on_conflict="Grafana already has a folder with this title or uid (409); rename or delete it in "
            "Grafana, or change the folder in dashboards/__init__.py",
        )


KIND = FolderKind()
