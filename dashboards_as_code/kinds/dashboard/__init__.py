"""Dashboards: one module per dashboard under `dashboards/`, one JSON file per dashboard in
provisioning, one object per dashboard in Grafana.

`document.py` turns a definition into Grafana's JSON, `discovery.py` finds the definitions; this
module says how a dashboard is placed (its folder), pushed, compared and pruned: through the resource
API (`resource_api.py`) where Grafana serves it, else through the legacy `/api/dashboards`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from dashboards_as_code.defaults import MANAGED_TAG
from dashboards_as_code.definitions.loading import Loading
from dashboards_as_code.definitions.types import Project
from dashboards_as_code.errors import DefinitionError
from dashboards_as_code.kinds.answers import BadAnswerError, DashboardAnswer, parse_search
from dashboards_as_code.kinds.base import (
    ConflictError,
    Desired,
    GrafanaHttp,
    HttpError,
    Kind,
    Live,
    ProvisionedError,
    SyncError,
    in_path,
    read_answer,
)
from dashboards_as_code.kinds.changes import summarise_dashboard
from dashboards_as_code.kinds.comparable import (
    comparable_dashboard,
    content_sha,
    is_managed_dashboard,
    mark_dashboard,
    split_dashboard,
)
from dashboards_as_code.kinds.dashboard.discovery import discover_dashboards
from dashboards_as_code.kinds.dashboard.document import DashboardDocument, dashboard_document
from dashboards_as_code.kinds.dashboard.resource_api import V2, in_v2_form, resource_dashboards
from dashboards_as_code.render.formats import Output, dump_json

if TYPE_CHECKING:
    from dashboards_as_code.render.documents import Documents

SEARCH_PAGE = 1000


def dashboard_path(provisioning_dir: str, board: DashboardDocument) -> str:
    """Where a dashboard's JSON goes: one folder per Grafana folder, one file per uid."""
    return f"{provisioning_dir}/dashboards/{board.folder.uid}/{board.uid}.json"


class DashboardKind(Kind):
    name: ClassVar[str] = "dashboard"
    order: ClassVar[int] = 30
    concurrent: ClassVar[bool] = True
    definition_package: ClassVar[str | None] = "dashboards"

    def discover(self, loading: Loading) -> list[Any]:
        return discover_dashboards(loading)

    def render(self, project: Project) -> list[DashboardDocument]:
        return [DashboardDocument(d, dashboard_document(d)) for d in project.dashboards]

    def outputs(self, documents: Documents) -> list[Output]:
        base = documents.project.config.provisioning_dir
        return [Output(dashboard_path(base, d), dump_json(d.document)) for d in documents.dashboards]

    def desired(self, documents: Documents) -> list[Desired]:
        owner = documents.project.config.name
        return [
            Desired(
                self.name,
                d.uid,
                d.definition.title,
                comparable_dashboard(d.document),
                owner,
                folder_uid=d.folder.uid,
                create_as=documents.project.config.push_dashboards_as,
                sections_in_v2=d.sections_in_v2,
            )
            for d in documents.dashboards
        ]

    def summarise(self, live: Live, desired: Desired) -> str:
        return summarise_dashboard(live.document, desired.document, live.folder_uid, desired.folder_uid)

    def fetch(self, grafana: GrafanaHttp, uid: str) -> Live | None:
        resources = resource_dashboards(grafana)
        if resources is not None:
            return resources.fetch(uid)
        answer = read_answer(
            grafana, f"read dashboard {uid!r}", f"/dashboards/uid/{in_path(uid)}", DashboardAnswer
        )
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

    def in_grafana_form(self, grafana: GrafanaHttp, desired: Desired, live: Live | None) -> Desired:
        if live is not None and live.form != V2:
            return desired
        if live is None:
            resources = resource_dashboards(grafana) if desired.create_as == V2 else None
            if resources is None or resources.v2 is None:
                return desired  # created classic: asked for, or no v2 on this Grafana
        try:
            return in_v2_form(desired)
        except DefinitionError as error:  # a panel v2 cannot name (no id): `check` says so too
            raise SyncError(
                f"dashboard {desired.uid!r} is {'stored' if live else 'to be created'} as v2 in Grafana, "
                f"and its definition has no v2 form: {error}"
            ) from None

    def write(self, grafana: GrafanaHttp, desired: Desired, live: Live | None, *, force: bool) -> None:
        resources = resource_dashboards(grafana)
        if resources is not None:
            resources.write(desired, live, force=force)
            return
        dashboard = {**mark_dashboard(desired.document, desired.owner), "id": None}
        if live is not None and not force:
            dashboard["version"] = live.version  # optimistic lock: 412 if someone saved meanwhile
        payload = {
            "dashboard": dashboard,
            "folderUid": desired.folder_uid or "",
            "overwrite": force,
            "message": f"dashboards-as-code push {content_sha(desired.document)}",
        }
        try:
            grafana.send(f"save dashboard {desired.uid!r}", "POST", "/dashboards/db", payload)
        except HttpError as error:
            status, message = error.field("status"), error.field("message")
            if error.status == 412 and status == "version-mismatch":
                raise ConflictError(
                    f"dashboard {desired.uid!r} was saved in Grafana while we pushed (412 version-mismatch)",
                    status=412,
                ) from None
            if error.status == 400 and message and "provisioned" in message.lower():
                raise ProvisionedError(f"dashboard {desired.uid!r}: {message}", status=400) from None
            detail = message or error.text
            raise SyncError(
                f"dashboard {desired.uid!r}: {error.status} {detail}", status=error.status
            ) from None

    def list_managed(self, grafana: GrafanaHttp) -> list[tuple[str, str]]:
        resources = resource_dashboards(grafana)
        if resources is not None:
            return resources.list_managed()
        found: list[tuple[str, str]] = []
        page = 1
        while True:
            params = {"tag": [MANAGED_TAG], "type": "dash-db", "limit": SEARCH_PAGE, "page": page}
            try:
                answer = grafana.read("search managed dashboards", "/search", params)
            except HttpError as error:
                raise SyncError(f"search managed dashboards: {error.status} {error.text}") from None
            try:
                hits = parse_search(answer, grafana.url, "/api/search")
            except BadAnswerError as error:
                raise SyncError(f"{error} (while trying to search managed dashboards)") from None
            found += [(hit.uid, hit.title) for hit in hits]
            if len(hits) < SEARCH_PAGE:
                return found
            page += 1

    def delete(self, grafana: GrafanaHttp, uid: str) -> None:
        resources = resource_dashboards(grafana)
        if resources is not None:
            resources.delete(uid)
            return
        uid = in_path(uid)
        try:
            grafana.send(f"delete dashboard {uid!r}", "DELETE", f"/dashboards/uid/{uid}")
        except HttpError as error:
            if error.status == 404:
                return  # already gone: the goal is reached
            if error.status == 400:
                raise ProvisionedError(f"dashboard {uid!r}: {error.text}", status=400) from None
            raise SyncError(f"delete dashboard {uid!r}: {error.status} {error.text}") from None


KIND = DashboardKind()

__all__ = ["KIND", "DashboardDocument", "DashboardKind", "dashboard_document", "dashboard_path"]
