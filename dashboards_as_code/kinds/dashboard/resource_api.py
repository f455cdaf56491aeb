"""Dashboards through Grafana's resource API (`/apis/dashboard.grafana.app/...`), where it is served.

Grafana 13 keeps dashboards in unified storage and serves them as Kubernetes-style objects. Its legacy
`/api/dashboards/uid/<uid>` still answers, but a dashboard saved as schema v2 (what the 13.x UI does
when dynamic dashboards are on) comes back from it lossily down-converted. So when the server offers
the resource API, every dashboard is read, written, listed and deleted here, and:

- a read asks the classic version first and, when `status.conversion.storedVersion` says the
  dashboard is stored as v2, reads it again in that version: nothing is compared in a converted form;
- a write sends back `metadata.resourceVersion` from the read, so a save made in Grafana between the
  plan and the write is a 409 Conflict, never a silent overwrite;
- a dashboard stored as v2 is overwritten (`--force`) in v2, its stored version, never replaced by a
  classic body that would drop what the UI added;
- the folder is the `grafana.app/folder` annotation, a file-provisioned dashboard is the one whose
  `grafana.app/managedBy` annotation is `classic-file-provisioning`.

New dashboards are created classic (the provisioning files' form), in the newest classic version the
server serves. Sources for every fact used here: docs/grafana-13-facts.md.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from dashboards_as_code.defaults import MANAGED_TAG
from dashboards_as_code.kinds.answers import (
    Answer,
    ApiGroup,
    BadAnswerError,
    ResourceList,
    ResourceObject,
    parse,
)
from dashboards_as_code.kinds.base import (
    ConflictError,
    Desired,
    GrafanaHttp,
    HttpError,
    Live,
    OffersResourceApi,
    ProvisionedError,
    SyncError,
    in_path,
)
from dashboards_as_code.kinds.comparable import (
    comparable_dashboard,
    content_sha,
    is_managed_dashboard,
    mark_dashboard,
    split_dashboard,
)
from dashboards_as_code.kinds.dashboard.schema_v2 import v2_spec

GROUP = "dashboard.grafana.app"
CLASSIC_VERSIONS = ("v1", "v1beta1")
"""The versions whose spec is classic dashboard JSON, newest first: the first one served is used.
`v0alpha1` (what Grafana 11 serves behind a feature flag) is not used: a Grafana serving only that
one keeps the legacy API, as mcp-grafana does (it asks for `v1beta1`)."""
FOLDER_ANNOTATION = "grafana.app/folder"
MESSAGE_ANNOTATION = "grafana.app/message"
MANAGER_ANNOTATION = "grafana.app/managedBy"
FILE_PROVISIONING = "classic-file-provisioning"
"""The manager Grafana records on a dashboard it loads from provisioning files."""
LIST_PAGE = 500
V2 = "v2"
CLASSIC = "classic"


@dataclass(frozen=True)
class ResourceDashboards:
    """The dashboards of one Grafana namespace, through the resource API."""

    http: GrafanaHttp
    """The server with paths below `/apis`."""
    namespace: str
    classic: str
    """The classic version reads start with and new dashboards are written in."""
    served: tuple[str, ...]

    @property
    def v2(self) -> str | None:
        """The v2 version dashboards are created in, if served: `v2` only, the version whose types
        `check` holds the v2 form to (`@grafana/schema`'s `dashboard/v2`)."""
        return V2 if V2 in self.served else None

    def path(self, version: str, uid: str | None = None) -> str:
        base = f"/{GROUP}/{version}/namespaces/{in_path(self.namespace)}/dashboards"
        return base if uid is None else f"{base}/{in_path(uid)}"

    def read(self, uid: str, version: str) -> ResourceObject | None:
        action = f"read dashboard {uid!r}"
        try:
            answer = self.http.read(action, self.path(version, uid))
        except HttpError as error:
            if error.status == 404:
                return None
            raise SyncError(f"{action}: {error.status} {error.text}", status=error.status) from None
        return _parsed(ResourceObject, answer, self.http.url, f"/apis{self.path(version, uid)}", action)

    def fetch(self, uid: str) -> Live | None:
        """The dashboard in the version Grafana stores it in: classic, or v2 read as v2."""
        found = self.read(uid, self.classic)
        if found is None:
            return None
        stored = found.status.conversion.storedVersion if found.status.conversion else None
        if stored and stored.startswith(V2):
            if stored not in self.served:
                raise SyncError(
                    f"dashboard {uid!r} is stored as {stored}, which Grafana at {self.http.url} does not "
                    f"serve (it serves {', '.join(self.served)}): reading it in another version would "
                    "compare a converted copy"
                )
            found = self.read(uid, stored)
            if found is None:  # deleted between the two reads
                return None
            return live_object(found, V2, stored)
        return live_object(found, CLASSIC, found_version(found, self.classic))

    def write(self, desired: Desired, live: Live | None, *, force: bool) -> None:
        """Create, or update with the resourceVersion read (`force`: the one Grafana holds now)."""
        if live is not None:
            version = (live.stored_version if live.form == V2 else None) or self.classic
        else:
            version = (self.v2 if desired.form == V2 else None) or self.classic
        message = f"dashboards-as-code push {content_sha(desired.document)}"
        body: dict[str, Any] = {
            "apiVersion": f"{GROUP}/{version}",
            "kind": "Dashboard",
            "metadata": {"name": desired.uid, "annotations": {MESSAGE_ANNOTATION: message}},
            "spec": mark_dashboard(desired.document, desired.owner),
        }
        if desired.folder_uid:
            body["metadata"]["annotations"][FOLDER_ANNOTATION] = desired.folder_uid
        action = f"save dashboard {desired.uid!r}"
        try:
            if live is None:
                self.http.send(action, "POST", self.path(version), body)
                return
            current = self.fetch(desired.uid) if force else live
            if current is None:
                raise SyncError(f"dashboard {desired.uid!r} was deleted in Grafana while we pushed")
            body["metadata"]["resourceVersion"] = current.resource_version
            self.http.send(action, "PUT", self.path(version, desired.uid), body)
        except HttpError as error:
            raise _write_error(desired.uid, error) from None

    def list_managed(self) -> list[tuple[str, str]]:
        """(uid, title) of every dashboard carrying the managed tag, a page of LIST_PAGE at a time."""
        found: list[tuple[str, str]] = []
        token = ""
        while True:
            params: dict[str, Any] = {"limit": LIST_PAGE, **({"continue": token} if token else {})}
            action = "list dashboards"
            try:
                answer = self.http.read(action, self.path(self.classic), params)
            except HttpError as error:
                raise SyncError(f"{action}: {error.status} {error.text}", status=error.status) from None
            page = _parsed(ResourceList, answer, self.http.url, f"/apis{self.path(self.classic)}", action)
            found += [
                (item.metadata.name, str(item.spec.get("title", "")))
                for item in page.items
                if MANAGED_TAG in (item.spec.get("tags") or [])
            ]
            token = page.metadata.continue_
            if not token:
                return found

    def delete(self, uid: str) -> None:
        try:
            self.http.send(f"delete dashboard {uid!r}", "DELETE", self.path(self.classic, uid))
        except HttpError as error:
            if error.status == 404:
                return  # already gone: the goal is reached
            if error.status == 400 and "provisioned" in error.text.lower():
                raise ProvisionedError(f"dashboard {uid!r}: {error.text}", status=400) from None
            raise SyncError(f"delete dashboard {uid!r}: {error.status} {error.text}") from None


def found_version(found: ResourceObject, asked: str) -> str:
    """The version an object was stored in: what its conversion status says, else the one asked for."""
    stored = found.status.conversion.storedVersion if found.status.conversion else None
    return stored or asked


def live_object(found: ResourceObject, form: str, stored: str) -> Live:
    """A resource as the plan compares it: the spec in its stored form, markers split off."""
    spec = dict(found.spec)
    if form == CLASSIC:
        spec.setdefault("uid", found.metadata.name)  # the name is the uid; a v1 spec may leave it out
    document, markers = split_dashboard(spec)
    annotations = found.metadata.annotations
    return Live(
        document=document,
        # What a backup keeps: classic JSON as the legacy API gives it (restorable by either API), or a
        # v2 dashboard's whole object, since its spec alone is no file Grafana or `push` can take back.
        raw=spec if form == CLASSIC else found.model_dump(mode="json", by_alias=True, exclude_none=True),
        provisioned=annotations.get(MANAGER_ANNOTATION) == FILE_PROVISIONING,
        managed=is_managed_dashboard(document),
        pushed_sha=markers.sha,
        owner=markers.owner,
        folder_uid=annotations.get(FOLDER_ANNOTATION) or None,
        resource_version=found.metadata.resourceVersion or None,
        form=form,
        stored_version=stored,
    )


def in_v2_form(desired: Desired) -> Desired:
    """`desired` as the v2 spec Grafana would store for it, compared without our markers."""
    return replace(desired, document=comparable_dashboard(v2_spec(desired.document)), form=V2)


def pulled(live: Live) -> dict[str, Any]:
    """What `pull` prints for a dashboard stored as v2: the object as Grafana stores it, in the
    Kubernetes form Grafana's provisioning and resource API take (a bare v2 spec is refused there)."""
    raw = live.raw
    metadata = raw.get("metadata", {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k == FOLDER_ANNOTATION}
    return {
        "apiVersion": raw.get("apiVersion", f"{GROUP}/{live.stored_version}"),
        "kind": "Dashboard",
        "metadata": {"name": metadata.get("name"), **({"annotations": annotations} if annotations else {})},
        "spec": raw.get("spec", {}),
    }


def _write_error(uid: str, error: HttpError) -> SyncError:
    reason, message = error.field("reason"), error.field("message") or error.text
    if error.status == 409 and reason == "AlreadyExists":
        return ConflictError(
            f"dashboard {uid!r} was created in Grafana while we pushed (409 AlreadyExists)", status=409
        )
    if error.status == 409:
        return ConflictError(
            f"dashboard {uid!r} was saved in Grafana while we pushed (409 Conflict: {message})", status=409
        )
    if error.status == 400 and "provisioned" in message.lower():
        return ProvisionedError(f"dashboard {uid!r}: {message}", status=400)
    return SyncError(f"dashboard {uid!r}: {error.status} {message}", status=error.status)


A = TypeVar("A", bound=Answer)


def _parsed(model: type[A], answer: object, url: str, endpoint: str, action: str) -> A:
    try:
        return parse(model, answer, url, endpoint)
    except BadAnswerError as error:
        raise SyncError(f"{error} (while trying to {action})") from None


_DISCOVERED: weakref.WeakKeyDictionary[object, ResourceDashboards | SyncError | None] = (
    weakref.WeakKeyDictionary()
)
_DISCOVERY_LOCK = threading.Lock()


def resource_dashboards(grafana: GrafanaHttp) -> ResourceDashboards | None:
    """The resource API's dashboards on this server, or None where it has none (the legacy API is
    then the only one). Asked once per Grafana client, under a lock: dashboards are planned on
    several threads, and all of them must use the same API, so a failed question fails them all
    (a thread asking again later could get an answer and write while the run is being stopped)."""
    if not isinstance(grafana, OffersResourceApi):
        return None
    with _DISCOVERY_LOCK:
        if grafana not in _DISCOVERED:
            try:
                _DISCOVERED[grafana] = _discover(grafana)
            except SyncError as error:
                _DISCOVERED[grafana] = error
        found = _DISCOVERED[grafana]
    if isinstance(found, SyncError):
        raise found
    return found


def _discover(grafana: GrafanaHttp) -> ResourceDashboards | None:
    """`GET /apis/dashboard.grafana.app`: 404 means no resource API (Grafana before 12, or it is
    turned off); any other failure stops the run, since guessing could write through the wrong API.
    The namespace is `namespace` in `/api/frontend/settings` (`default`, org 1, when it is absent)."""
    assert isinstance(grafana, OffersResourceApi)
    resources = grafana.resource_api()
    action = "ask Grafana which dashboard APIs it serves"
    try:
        answer = resources.read(action, f"/{GROUP}")
    except HttpError as error:
        if error.status == 404:
            return None
        raise SyncError(f"{action}: {error.status} {error.text}", status=error.status, fatal=True) from None
    except SyncError as error:  # a 5xx or a timeout past the client's retries: as fatal as a 4xx
        raise _fatal(error) from None
    try:
        group = parse(ApiGroup, answer, grafana.url, f"/apis/{GROUP}")
    except BadAnswerError as error:
        raise SyncError(f"{error} (while trying to {action})", fatal=True) from None
    served = tuple(v.version for v in group.versions)
    classic = next((v for v in CLASSIC_VERSIONS if v in served), None)
    if classic is None:
        return None
    try:
        settings = grafana.read("read Grafana's namespace", "/frontend/settings")
    except HttpError as error:
        raise SyncError(f"read Grafana's namespace: {error.status} {error.text}", fatal=True) from None
    except SyncError as error:
        raise _fatal(error) from None
    namespace = settings.get("namespace") if isinstance(settings, dict) else None
    return ResourceDashboards(
        resources, namespace if isinstance(namespace, str) and namespace else "default", classic, served
    )


def _fatal(error: SyncError) -> SyncError:
    """`error` as a failure that stops the run: its message, status and answer kept."""
    if error.fatal:
        return error
    return SyncError(str(error), status=error.status, fatal=True, answer=error.answer)
