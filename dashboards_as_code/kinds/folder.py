"""Folders: the ones the dashboards are placed in. They have no definitions of their own.

Provisioning: one file provider per folder (`dashboards/providers.yaml`), each reading the JSON files
of its own directory. Push: created or renamed before the dashboards; never pruned, since a folder
may hold dashboards made by hand; no owner marker (Grafana's folders have no tags).

Where Grafana serves `folder.grafana.app` (13.x: `v1`, else `v1beta1`), a folder is read and written
there, as the dashboards are (docs/grafana-13-folder-facts.md): created with its uid as
`metadata.name`; renamed by sending the object read back whole with the new title and its
`metadata.resourceVersion`, so a rename made in Grafana meanwhile is a 409 Conflict, never overwritten,
and what the object carries besides the title (its parent, a description) is kept. Elsewhere the legacy
`/api/folders`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from dashboards_as_code import defaults
from dashboards_as_code.kinds.answers import FolderAnswer, ResourceObject
from dashboards_as_code.kinds.base import (
    ConflictError,
    Desired,
    GrafanaHttp,
    HttpError,
    Kind,
    Live,
    SyncError,
    create_or_update,
    in_path,
    read_answer,
)
from dashboards_as_code.kinds.resource_api import RESOURCE_ROOT, ServedGroup, served_group
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
        resources = _resource_folders(grafana)
        if resources is not None:
            return _fetch_resource(resources, uid)
        folder = read_answer(grafana, f"read folder {uid!r}", f"/folders/{in_path(uid)}", FolderAnswer)
        if folder is None:
            return None
        return Live(
            document={"uid": folder.uid, "title": folder.title}, raw=folder.model_dump(exclude_unset=True)
        )

    def write(self, grafana: GrafanaHttp, desired: Desired, live: Live | None, *, force: bool) -> None:
        resources = _resource_folders(grafana)
        if resources is not None:
            _write_resource(resources, desired, live, force=force)
            return
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


FOLDER_GROUP = "folder.grafana.app"
FOLDER_VERSIONS = ("v1", "v1beta1")
"""Newest first; `v1` is served by default from Grafana 13.0, `v1beta1` before and beside it."""


def _resource_folders(grafana: GrafanaHttp) -> tuple[ServedGroup, str] | None:
    served = served_group(grafana, FOLDER_GROUP, "folder", FOLDER_VERSIONS)
    if served is None:
        return None
    version = served.first_of(FOLDER_VERSIONS)
    assert version is not None  # served_group answers None otherwise
    return served, version


def _fetch_resource(resources: tuple[ServedGroup, str], uid: str) -> Live | None:
    served, version = resources
    path = served.path(version, "folders", uid)
    found = read_answer(served.http, f"read folder {uid!r}", path, ResourceObject, root=RESOURCE_ROOT)
    if found is None:
        return None
    return Live(
        document={"uid": found.metadata.name, "title": str(found.spec.get("title", ""))},
        raw=found.model_dump(mode="json", by_alias=True, exclude_none=True),
        resource_version=found.metadata.resourceVersion or None,
    )


def _write_resource(
    resources: tuple[ServedGroup, str], desired: Desired, live: Live | None, *, force: bool
) -> None:
    """Create, or rename: the object read, whole, with the new title and the resourceVersion read
    (`force`: the one Grafana holds now, so "ours wins" also over a rename made since the plan)."""
    served, version = resources
    uid, title = desired.uid, desired.title
    try:
        if live is None:
            body = {
                "apiVersion": f"{FOLDER_GROUP}/{version}",
                "kind": "Folder",
                "metadata": {"name": uid},
                "spec": {"title": title},
            }
            served.http.send(f"create folder {title!r}", "POST", served.path(version, "folders"), body)
            return
        current = _fetch_resource(resources, uid) if force else live
        if current is None:
            raise SyncError(f"folder {uid!r} was deleted in Grafana while we pushed")
        raw = current.raw
        body = {
            **raw,
            "apiVersion": f"{FOLDER_GROUP}/{version}",
            "metadata": {**raw.get("metadata", {}), "resourceVersion": current.resource_version},
            "spec": {**raw.get("spec", {}), "title": title},
        }
        body.pop("status", None)
        served.http.send(f"rename folder {uid!r}", "PUT", served.path(version, "folders", uid), body)
    except HttpError as error:
        raise _folder_write_error(uid, title, error) from None


def _folder_write_error(uid: str, title: str, error: HttpError) -> SyncError:
    reason, message = error.field("reason"), error.field("message") or error.text
    if error.status == 409 and reason == "AlreadyExists":
        return SyncError(
            f"folder {title!r}: Grafana already has a folder with the uid {uid!r} (409); rename or delete "
            "it in Grafana, or change the folder in dashboards/__init__.py",
            status=409,
        )
    if error.status == 409:
        return ConflictError(
            f"folder {uid!r} was changed in Grafana while we pushed (409 Conflict: {message}); push again",
            status=409,
        )
    return SyncError(f"folder {title!r}: {error.status} {message}", status=error.status)


KIND = FolderKind()
