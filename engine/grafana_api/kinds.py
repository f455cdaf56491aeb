"""One handler per kind of Grafana object: fetch the live object, write, list what we manage, delete.

The shape follows Grizzly's per-resource handlers; `Handler` is the protocol the planner uses, so
a new kind (alert rules, say) is a new class here and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError

from engine.defaults import MANAGED_TAG
from engine.grafana_api.answers import (
    Answer,
    BadAnswerError,
    DashboardAnswer,
    DatasourceAnswer,
    FolderAnswer,
    parse,
    parse_search,
)
from engine.grafana_api.client import Grafana, SyncError, server_text
from engine.grafana_api.comparable import (
    content_sha,
    is_managed_dashboard,
    mark_dashboard,
    mark_datasource,
    split_dashboard,
    split_datasource,
)
from engine.uids import UnsafeUidError, path_uid

Kind = Literal["folder", "datasource", "dashboard"]
SEARCH_PAGE = 1000


class ConflictError(SyncError):
    """Grafana holds a version we did not push (an edit made in Grafana, or a race)."""


class ProvisionedError(SyncError):
    """Grafana loads this object from provisioning files; the API may not change it."""


@dataclass(frozen=True)
class Desired:
    """An object as the definitions want it, in the compared form."""

    kind: Kind
    uid: str
    title: str
    document: dict[str, Any]
    owner: str
    """The project pushing it (its config name): recorded on the object as the owner marker."""
    folder_uid: str | None = None


@dataclass(frozen=True)
class Live:
    """An object as Grafana has it: compared form, raw JSON, and what Grafana says about it."""

    document: dict[str, Any]
    raw: dict[str, Any]
    provisioned: bool = False
    managed: bool = True
    pushed_sha: str | None = None
    owner: str | None = None
    """The project whose push wrote it, from the owner marker; None: unknown (older version, or not ours)."""
    folder_uid: str | None = None
    version: int | None = None

    @property
    def edited_since_push(self) -> bool:
        """True unless the live content is exactly what our last push wrote."""
        return not self.managed or self.pushed_sha != content_sha(self.document)


class Handler(Protocol):
    kind: Kind

    def fetch(self, grafana: Grafana, uid: str) -> Live | None: ...

    def write(self, grafana: Grafana, desired: Desired, live: Live | None, *, force: bool) -> None: ...

    def list_managed(self, grafana: Grafana) -> list[tuple[str, str]]: ...

    def delete(self, grafana: Grafana, uid: str) -> None: ...


def _not_found(error: GrafanaClientError) -> bool:
    return bool(error.status_code == 404)


def _in_path(uid: str) -> str:
    """Every uid that goes into a request path passes here (Grafana's uid rule), or is a SyncError."""
    try:
        return path_uid(uid)
    except UnsafeUidError as error:
        raise SyncError(str(error)) from None


A = TypeVar("A", bound=Answer)


def _get(grafana: Grafana, action: str, path: str, model: type[A]) -> A | None:
    """GET `path` (under /api) parsed as `model`; None on 404; a bad answer is a SyncError naming it."""
    try:
        result: object = grafana.call(action, lambda api: api.client.GET(path))
    except GrafanaClientError as error:
        if _not_found(error):
            return None
        raise SyncError(
            f"{action}: {error.status_code} {server_text(error)}", status=error.status_code
        ) from None
    try:
        return parse(model, result, grafana.url, f"/api{path}")
    except BadAnswerError as error:
        raise SyncError(f"{error} (while trying to {action})") from None


Request = tuple[str, Callable[[GrafanaApi], Any]]


def _create_or_update(
    grafana: Grafana, what: str, *, create: Request | None, update: Request, on_conflict: str
) -> None:
    """Run the create request (when there is one) or else the update, turning HTTP errors into SyncErrors."""
    action, request = create or update
    try:
        grafana.call(action, request, write=True)
    except GrafanaClientError as error:
        if error.status_code == 409:
            raise SyncError(f"{what}: {on_conflict}", status=409) from None
        raise SyncError(
            f"{what}: {error.status_code} {server_text(error)}", status=error.status_code
        ) from None


class FolderHandler:
    kind: Kind = "folder"

    def fetch(self, grafana: Grafana, uid: str) -> Live | None:
        folder = _get(grafana, f"read folder {uid!r}", f"/folders/{_in_path(uid)}", FolderAnswer)
        if folder is None:
            return None
        return Live(
            document={"uid": folder.uid, "title": folder.title}, raw=folder.model_dump(exclude_unset=True)
        )

    def write(self, grafana: Grafana, desired: Desired, live: Live | None, *, force: bool) -> None:
        title = desired.title
        _create_or_update(
            grafana,
            f"folder {title!r}",
            create=None
            if live
            else (f"create folder {title!r}", lambda api: api.folder.create_folder(title, uid=desired.uid)),
            update=(
                f"rename folder {desired.uid!r}",
                lambda api: api.folder.update_folder(_in_path(desired.uid), title=title, overwrite=True),
            ),
            on_conflict="Grafana already has a folder with this title or uid (409); rename or delete it in "
            "Grafana, or change the folder in dashboards/__init__.py",
        )

    def list_managed(self, grafana: Grafana) -> list[tuple[str, str]]:
        return []  # folders are never pruned: they may hold dashboards made by hand

    def delete(self, grafana: Grafana, uid: str) -> None:
        raise SyncError("folders are never deleted by push")


class DatasourceHandler:
    kind: Kind = "datasource"

    def fetch(self, grafana: Grafana, uid: str) -> Live | None:
        datasource = _get(
            grafana, f"read datasource {uid!r}", f"/datasources/uid/{_in_path(uid)}", DatasourceAnswer
        )
        if datasource is None:
            return None
        raw = datasource.model_dump(exclude_unset=True)
        document, markers = split_datasource(raw)
        return Live(
            document=document,
            raw=raw,
            provisioned=datasource.readOnly,
            managed=markers.sha is not None,
            pushed_sha=markers.sha,
            owner=markers.owner,
        )

    def write(self, grafana: Grafana, desired: Desired, live: Live | None, *, force: bool) -> None:
        body = mark_datasource(desired.document, desired.owner)
        _create_or_update(
            grafana,
            f"datasource {desired.uid!r}",
            create=None
            if live
            else (f"create datasource {desired.uid!r}", lambda api: api.datasource.create_datasource(body)),
            update=(
                f"update datasource {desired.uid!r}",
                lambda api: api.datasource.update_datasource_by_uid(_in_path(desired.uid), body),
            ),
            on_conflict=f"Grafana already has a datasource named {desired.title!r} with another uid (409); "
            "rename one of them",
        )

    def list_managed(self, grafana: Grafana) -> list[tuple[str, str]]:
        return []  # prune only removes dashboards

    def delete(self, grafana: Grafana, uid: str) -> None:
        raise SyncError("datasources are never deleted by push")


class DashboardHandler:
    kind: Kind = "dashboard"

    def fetch(self, grafana: Grafana, uid: str) -> Live | None:
        answer = _get(grafana, f"read dashboard {uid!r}", f"/dashboards/uid/{_in_path(uid)}", DashboardAnswer)
        if answer is None:
            return None
        dashboard, meta = answer.dashboard, answer.meta
        document, markers = split_dashboard(dashboard)
        return Live(
            document=document,
            raw=dashboard,
            provisioned=meta.provisioned,
            managed=is_managed_dashboard(document),
            pushed_sha=markers.sha,
            owner=markers.owner,
            folder_uid=meta.folderUid or None,
            version=dashboard.get("version"),
        )

    def write(self, grafana: Grafana, desired: Desired, live: Live | None, *, force: bool) -> None:
        dashboard = {**mark_dashboard(desired.document, desired.owner), "id": None}
        if live is not None and not force:
            dashboard["version"] = live.version  # optimistic lock: 412 if someone saved meanwhile
        payload = {
            "dashboard": dashboard,
            "folderUid": desired.folder_uid or "",
            "overwrite": force,
            "message": f"dashboards-as-code push {content_sha(desired.document)}",
        }

        def save(api: GrafanaApi) -> Any:
            return api.dashboard.update_dashboard(payload)

        try:
            grafana.call(f"save dashboard {desired.uid!r}", save, write=True)
        except GrafanaClientError as error:
            status = (error.response or {}).get("status") if isinstance(error.response, dict) else None
            message = (error.response or {}).get("message") if isinstance(error.response, dict) else None
            if error.status_code == 412 and status == "version-mismatch":
                raise ConflictError(
                    f"dashboard {desired.uid!r} was saved in Grafana while we pushed (412 version-mismatch)",
                    status=412,
                ) from None
            if error.status_code == 400 and message and "provisioned" in message.lower():
                raise ProvisionedError(f"dashboard {desired.uid!r}: {message}", status=400) from None
            detail = message or server_text(error)
            raise SyncError(
                f"dashboard {desired.uid!r}: {error.status_code} {detail}", status=error.status_code
            ) from None

    def list_managed(self, grafana: Grafana) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        page = 1
        while True:

            def search(api: GrafanaApi, page: int = page) -> object:
                return api.search.search_dashboards(
                    tag=MANAGED_TAG, type_="dash-db", limit=SEARCH_PAGE, page=page
                )

            answer = grafana.call("search managed dashboards", search)
            try:
                hits = parse_search(answer, grafana.url, "/api/search")
            except BadAnswerError as error:
                raise SyncError(f"{error} (while trying to search managed dashboards)") from None
            found += [(hit.uid, hit.title) for hit in hits]
            if len(hits) < SEARCH_PAGE:
                return found
            page += 1

    def delete(self, grafana: Grafana, uid: str) -> None:
        uid = _in_path(uid)
        try:
            grafana.call(
                f"delete dashboard {uid!r}", lambda api: api.dashboard.delete_dashboard(uid), write=True
            )
        except GrafanaClientError as error:
            if error.status_code == 404:
                return  # already gone: the goal is reached
            if error.status_code == 400:
                raise ProvisionedError(f"dashboard {uid!r}: {server_text(error)}", status=400) from None
            raise SyncError(f"delete dashboard {uid!r}: {error.status_code} {server_text(error)}") from None


HANDLERS: dict[Kind, Handler] = {
    "folder": FolderHandler(),
    "datasource": DatasourceHandler(),
    "dashboard": DashboardHandler(),
}
