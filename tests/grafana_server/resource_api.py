"""Grafana 13's resource API (`/apis/...`) for the test server, on the legacy API's one store.

Grafana 13 keeps every dashboard and folder in unified storage and serves it both through the legacy
`/api` and through Kubernetes-style resources, so this module reads and writes `FakeGrafanaState`'s
`dashboards` and `folders` and never keeps a copy of its own: a dashboard saved through `/api` is seen
here and the reverse. Every behaviour follows docs/grafana-13-facts.md (cited by section, "facts §N");
where the facts are UNSURE, the choice and its reason are in the docstring of the code that makes it.

What a record of `state.dashboards` gains here (the legacy code ignores these keys, and a legacy save,
which replaces the record, drops them, which is what a legacy save does to a dashboard: facts §9):
- `spec`: the classic spec exactly as a classic `/apis` write sent it (the legacy view, `dashboard`,
  also carries `uid`, `id` and `version`);
- `v2spec` and `storedVersion`: a dashboard stored as v2 keeps its v2 spec as sent, and `dashboard`
  is then its lossy classic form, so the legacy GET and search answer what Grafana's do (facts §9);
- `storedVersion` of a classic dashboard: the version it was written in (`v0alpha1` for the legacy
  API, which writes through the v0alpha1 client: facts §9).
Object metadata (resourceVersion, generation, who and when) lives in `ResourceApi.meta`, keyed by
kind and name, and follows legacy writes by a fingerprint of the legacy record (see `_sync`).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from tests.grafana_server.server import FakeGrafana

DASHBOARD_GROUP = "dashboard.grafana.app"
FOLDER_GROUP = "folder.grafana.app"
CLASSIC_VERSIONS = ("v0alpha1", "v1beta1", "v1")
V2_VERSIONS = ("v2alpha1", "v2beta1", "v2")
PRIORITY = {
    # facts §1: DashboardsAPIBuilder.GetGroupVersions, toggle dashboardNewLayouts off / on
    "v1": ["v1", "v1beta1", "v0alpha1", "v2", "v2beta1", "v2alpha1"],
    "v2": ["v2", "v2beta1", "v2alpha1", "v0alpha1", "v1", "v1beta1"],
}
FOLDER_ANNOTATION = "grafana.app/folder"
MANAGER_ANNOTATION = "grafana.app/managedBy"
FILE_PROVISIONING = "classic-file-provisioning"
"""The manager of a file-provisioned object (grafana pkg/apimachinery/utils `ManagerKindClassicFP`)."""
INTERNAL_ID_LABEL = "grafana.app/deprecatedInternalID"
CONFLICT_MESSAGE = "requested RV does not match current RV"
SCHEMA_VERSION = 42  # facts §7: what Grafana 13.2 migrates classic dashboards to
ROLES = {"Viewer": 0, "Editor": 1, "Admin": 2}


class StatusError(Exception):
    """An error answered as a Kubernetes `Status` object (facts §3: how the apiserver reports errors)."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = code
        self.body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
        if details is not None:
            self.body["details"] = details


class PlainError(Exception):
    """An error Grafana answers before its apiserver sees the request (its own `{"message"}` JSON)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.body = code, {"message": message}


@dataclass
class _Meta:
    """What the store does not hold but an object's metadata shows; `fingerprint` is the legacy
    record's (id, version, folder) when this was last brought up to date."""

    uid: str
    resource_version: int
    generation: int
    created: str
    created_by: str
    updated: str
    updated_by: str
    fingerprint: tuple[Any, ...]
    spec_json: str


@dataclass(frozen=True)
class _Kind:
    """A served resource: `dashboards` or `folders`."""

    group: str
    resource: str
    kind: str

    def details(self, name: str) -> dict[str, Any]:
        """Status `details` as k8s apimachinery's NewConflict/NewNotFound write them (facts §3)."""
        return {"name": name, "group": self.group, "kind": self.resource}

    def not_found(self, name: str) -> StatusError:
        """k8s `NewNotFound` (facts §3, UNSURE: not read in a Grafana response sample)."""
        return StatusError(
            404, "NotFound", f'{self.resource}.{self.group} "{name}" not found', self.details(name)
        )

    def conflict(self, name: str) -> StatusError:
        """Unified storage's stale-RV error, exactly as facts §3 gives it."""
        return StatusError(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {self.resource}.{self.group} "{name}": {CONFLICT_MESSAGE}',
            self.details(name),
        )

    def already_exists(self, name: str) -> StatusError:
        """k8s `NewAlreadyExists`; facts §3 gives the 409 for a duplicate uid, not its body (UNSURE)."""
        return StatusError(
            409, "AlreadyExists", f'{self.resource}.{self.group} "{name}" already exists', self.details(name)
        )

    def invalid(self, name: str, message: str) -> StatusError:
        """A 400 `BadRequest` Status, as admission errors reach the client (facts §3 lists 400)."""
        return StatusError(400, "BadRequest", message, self.details(name))


DASHBOARDS = _Kind(DASHBOARD_GROUP, "dashboards", "Dashboard")
FOLDERS = _Kind(FOLDER_GROUP, "folders", "Folder")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def actor(headers: Any) -> str:
    """Who a request comes from, as `grafana.app/createdBy` names them (facts §2: `<user-type>:<uid>`):
    `user:<login>` for basic auth, `service-account:<token>` for a bearer token. The test server has
    no user uids, so the login (or the token's name) stands in for the uid."""
    header = str(headers.get("Authorization", ""))
    if header.startswith("Bearer "):
        return f"service-account:{header[7:]}"
    if header.startswith("Basic "):
        try:
            login = base64.b64decode(header[6:]).decode().partition(":")[0]
        except ValueError:
            return ""
        return f"user:{login}"
    return ""


class ResourceApi:
    """`/apis` of one FakeGrafana. `handle` answers (status, body) or raises StatusError/PlainError."""

    def __init__(self, grafana: FakeGrafana, preferred_version: str) -> None:
        if preferred_version not in PRIORITY:
            raise ValueError(f"preferred dashboard version must be v1 or v2, not {preferred_version!r}")
        self.grafana = grafana
        self.versions = PRIORITY[preferred_version]
        self.meta: dict[tuple[str, str], _Meta] = {}
        self._last_rv = 1764806400000000  # an RV of Grafana's kind: a large, growing number
        self.namespace = "default"  # facts §1: org 1; the test server has one org

    # -- bookkeeping shared with the legacy API ---------------------------------------------------------

    def next_rv(self) -> int:
        self._last_rv += 1
        return self._last_rv

    def sync(self, who: str = "") -> None:
        """Bring metadata up to date with the store after legacy writes or test helpers: an object the
        legacy API created gets metadata, one it changed a new resourceVersion (and generation when the
        spec changed), one it deleted loses its metadata. Called after every legacy write request (with
        its caller, for `updatedBy`) and before every `/apis` request (test helpers write the store
        directly; what they change is seen there, with no author)."""
        state = self.grafana.state
        seen: set[tuple[str, str]] = set()
        for uid, record in state.dashboards.items():
            seen.add(("dashboards", uid))
            dashboard = record["dashboard"]
            fingerprint = (dashboard["id"], dashboard["version"], record["folderUid"])
            self._follow("dashboards", uid, fingerprint, self._stored_spec(record), who)
        for uid, folder in state.folders.items():
            seen.add(("folders", uid))
            fingerprint = (folder["id"], folder["version"], folder.get("parentUid", ""))
            self._follow("folders", uid, fingerprint, {"title": folder["title"]}, who)
        for key in set(self.meta) - seen:
            del self.meta[key]

    def _follow(self, resource: str, name: str, fingerprint: tuple[Any, ...], spec: Any, who: str) -> None:
        meta = self.meta.get((resource, name))
        spec_json = _canonical(spec)
        if meta is None:
            now = _now()
            self.meta[(resource, name)] = _Meta(
                str(uuid.uuid4()), self.next_rv(), 1, now, who, now, who, fingerprint, spec_json
            )
        elif meta.fingerprint != fingerprint:
            self._touch(meta, spec_json, who)
            meta.fingerprint = fingerprint

    def _touch(self, meta: _Meta, spec_json: str, who: str) -> None:
        """A write: a new resourceVersion always, a new generation only when the spec changed (facts §2)."""
        meta.resource_version = self.next_rv()
        if spec_json != meta.spec_json:
            meta.generation += 1
            meta.spec_json = spec_json
        meta.updated, meta.updated_by = _now(), who

    # -- routing ----------------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, *, query: dict[str, list[str]], body: Any, role: str | None, who: str
    ) -> tuple[int, Any]:
        """Discovery, then `/apis/<group>/<version>/namespaces/<ns>/<resource>[/<name>]`.

        A wrong namespace is a 403 `Forbidden` Status, not a 404: Grafana's apiserver maps a namespace
        to an org (facts §1: `default` is org 1, `org-<id>` another) and its org authorizer denies a
        request for another org before storage is asked (grafana-apiserver `OrgIDAuthorizer`, found in
        an older source; a k8s authorizer's deny is a 403 Forbidden). The test server has org 1 only,
        so every namespace but `default` is another org's. A missing credential is Grafana's own 401
        `{"message": "Unauthorized"}`: its auth middleware answers before the apiserver (facts §3
        marks the 401 body UNSURE)."""
        if role is None:
            raise PlainError(401, "Unauthorized")
        with self.grafana.state.lock:
            self.sync()
            discovery = self._discovery(path)
            if discovery is not None:
                return 200, discovery
            match = re.fullmatch(
                r"/apis/(?P<group>[^/]+)/(?P<version>[^/]+)/namespaces/(?P<ns>[^/]+)/"
                r"(?P<resource>[^/]+)(?:/(?P<name>[^/]+))?/?",
                path,
            )
            kind = {"dashboards": DASHBOARDS, "folders": FOLDERS}.get(match["resource"]) if match else None
            if match is None or kind is None or not self._serves(kind, match["group"], match["version"]):
                raise StatusError(404, "NotFound", "the server could not find the requested resource")
            version, name = match["version"], match["name"]
            if match["ns"] != self.namespace:
                raise StatusError(
                    403, "Forbidden", f"{kind.resource}.{kind.group} is forbidden: org id mismatch", {}
                )
            self._authorize(kind, method, role, name or "")
            return self._verb(kind, version, method, name, query=query, body=body, who=who)

    def _serves(self, kind: _Kind, group: str, version: str) -> bool:
        if kind is DASHBOARDS:
            return group == DASHBOARD_GROUP and version in self.versions
        return group == FOLDER_GROUP and version == "v1"

    def _authorize(self, kind: _Kind, method: str, role: str, name: str) -> None:
        """As the legacy API: a Viewer reads, an Editor writes (facts §3 lists 403 for every verb; its
        body is UNSURE, so the k8s authorizer's Forbidden Status is used)."""
        if method != "GET" and ROLES[role] < ROLES["Editor"]:
            verb = {"POST": "create", "PUT": "update", "DELETE": "delete"}.get(method, method.lower())
            raise StatusError(
                403,
                "Forbidden",
                f'{kind.resource}.{kind.group} "{name}" is forbidden: User cannot {verb} resource',
                kind.details(name),
            )

    def _verb(
        self,
        kind: _Kind,
        version: str,
        method: str,
        name: str | None,
        *,
        query: dict[str, list[str]],
        body: Any,
        who: str,
    ) -> tuple[int, Any]:
        """One verb on one kind: a name means GET, PUT or DELETE of that object, none LIST or POST."""
        named = name or ""
        actions: dict[tuple[str, bool], Callable[[], tuple[int, Any]]]
        if kind is DASHBOARDS:
            actions = {
                ("GET", False): lambda: (200, self._list(kind, version, query)),
                ("POST", False): lambda: (201, self._create_dashboard(version, body, who)),
                ("GET", True): lambda: (200, self._dashboard_object(named, version)),
                ("PUT", True): lambda: (200, self._update_dashboard(named, version, body, who)),
                ("DELETE", True): lambda: (200, self._delete_dashboard(named)),
            }
        else:
            actions = {
                ("GET", False): lambda: (200, self._list(kind, version, query)),
                ("POST", False): lambda: (201, self._create_folder(body, who)),
                ("GET", True): lambda: (200, self._folder_object(named)),
                ("PUT", True): lambda: (200, self._update_folder(named, body, who)),
                ("DELETE", True): lambda: (200, self._delete_folder(named)),
            }
        action = actions.get((method, name is not None))
        if action is None:
            raise StatusError(405, "MethodNotAllowed", f"the server does not allow this method: {method}")
        return action()

    def _discovery(self, path: str) -> dict[str, Any] | None:
        """`GET /apis` (APIGroupList, facts §1 UNSURE: the k8s genericapiserver serves it) and
        `GET /apis/<group>` (APIGroup, the shape mcp-grafana parses: facts §1)."""
        groups = {
            DASHBOARD_GROUP: self._group(DASHBOARD_GROUP, self.versions),
            FOLDER_GROUP: self._group(FOLDER_GROUP, ["v1"]),
        }
        if path.rstrip("/") == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": list(groups.values())}
        group = re.fullmatch(r"/apis/([^/]+)/?", path)
        if group is None:
            return None
        if group[1] not in groups:
            raise StatusError(404, "NotFound", "the server could not find the requested resource")
        return groups[group[1]]

    @staticmethod
    def _group(name: str, versions: list[str]) -> dict[str, Any]:
        entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": name,
            "versions": entries,
            "preferredVersion": entries[0],
        }

    # -- the object -------------------------------------------------------------------------------------

    def _metadata(self, kind: _Kind, name: str, internal_id: int, folder: str) -> dict[str, Any]:
        meta = self.meta[(kind.resource, name)]
        annotations = {"grafana.app/updatedTimestamp": meta.updated}
        if meta.created_by:
            annotations["grafana.app/createdBy"] = meta.created_by
        if meta.updated_by:
            annotations["grafana.app/updatedBy"] = meta.updated_by
        if folder:
            annotations[FOLDER_ANNOTATION] = folder
        return {
            "name": name,
            "namespace": self.namespace,
            "uid": meta.uid,
            "resourceVersion": str(meta.resource_version),
            "generation": meta.generation,
            "creationTimestamp": meta.created,
            "labels": {INTERNAL_ID_LABEL: str(internal_id)},
            "annotations": annotations,
        }

    @staticmethod
    def _stored_spec(record: dict[str, Any]) -> Any:
        """The spec in the stored version, as it was sent: v2 as saved; classic as an `/apis` write sent
        it, or the legacy dashboard JSON without the legacy numeric `id` (which is the label) and the
        legacy `version` (which every save bumps: it would make every legacy save a spec change)."""
        if "v2spec" in record:
            return record["v2spec"]
        if "spec" in record:
            return record["spec"]
        return {k: v for k, v in record["dashboard"].items() if k not in ("id", "version")}

    def _dashboard_object(self, name: str, version: str) -> dict[str, Any]:
        record = self.grafana.state.dashboards.get(name)
        if record is None:
            raise DASHBOARDS.not_found(name)
        spec, status = self._converted(record, version)
        metadata = self._metadata(DASHBOARDS, name, record["dashboard"]["id"], record["folderUid"])
        if record["provisioned"]:  # the manager Grafana records on what it loads from files
            metadata["annotations"][MANAGER_ANNOTATION] = FILE_PROVISIONING
        return {
            "kind": "Dashboard",
            "apiVersion": f"{DASHBOARD_GROUP}/{version}",
            "metadata": metadata,
            "spec": spec,
            "status": status,
        }

    def _converted(self, record: dict[str, Any], version: str) -> tuple[Any, dict[str, Any]]:
        """The spec in `version` and the `status` Grafana puts beside it (facts §4).

        - In the stored version: the spec as saved, `status: {}`.
        - Classic from a v2-stored dashboard: `v2_to_classic` (lossy on purpose: it is what a client that
          trusts it gets wrong) with `status.conversion = {failed: false, storedVersion}`, as
          `normalizeConversion` sets it on every conversion into v0/v1/v2alpha1/v2beta1, success too.
        - Between classic versions, or between v2 versions: the same spec (v1beta1 and v1 share a Go type;
          v2beta1 and v2 differ only in transformations and `preferences`, not modelled), with the
          conversion status, except into `v2`, whose conversions are not wrapped in
          `normalizeConversion` (facts §4), so no status.
        - v2* from a classic-stored dashboard (facts §4: UNSURE). Choice: the conversion is answered as
          *failed*: `status.conversion = {failed: true, storedVersion, error}` with the v2 default spec
          (what `EnsureDefaultSpec` leaves after a failed conversion), status 200. Why: Grafana's real
          v1 -> v2 conversion runs every schema migration and maps each panel, query and variable; a
          home-made imitation would let a client's tests pass against a v2 shape Grafana may not
          produce. `failed: true` is the documented signal ("the caller should instead fetch the stored
          version"), which a correct client already honours, and nothing answers 500.
        """
        stored = str(record.get("storedVersion") or "v0alpha1")
        if version == stored:
            return copy.deepcopy(self._stored_spec(record)), {}
        if stored in V2_VERSIONS and version in CLASSIC_VERSIONS:
            spec: Any = v2_to_classic(record["v2spec"], record["dashboard"]["uid"])
            return spec, {"conversion": {"failed": False, "storedVersion": stored}}
        if (stored in V2_VERSIONS) == (version in V2_VERSIONS):
            spec = copy.deepcopy(self._stored_spec(record))
            return spec, {} if version == "v2" else {"conversion": {"failed": False, "storedVersion": stored}}
        error = f"conversion from {stored} to {version} is not modelled by the test server"
        return default_v2_spec(), {"conversion": {"failed": True, "error": error, "storedVersion": stored}}

    def _list(self, kind: _Kind, version: str, query: dict[str, list[str]]) -> dict[str, Any]:
        """LIST with `limit` and an opaque `continue` token; the last page has no `continue` (facts §3).
        Names are listed in order; the token is the base64 of the next offset, so a client that builds
        one itself or treats it as a number is wrong here too."""
        state = self.grafana.state
        names = sorted(state.dashboards if kind is DASHBOARDS else state.folders)
        start = _offset(query.get("continue", [""])[0])
        limit = int(query.get("limit", ["0"])[0] or 0)
        end = len(names) if limit <= 0 else start + limit
        page = names[start:end]
        items = [
            self._dashboard_object(n, version) if kind is DASHBOARDS else self._folder_object(n) for n in page
        ]
        metadata: dict[str, Any] = {"resourceVersion": str(self._last_rv)}
        if end < len(names):
            metadata["continue"] = base64.urlsafe_b64encode(json.dumps({"o": end}).encode()).decode()
        list_version = version if kind is DASHBOARDS else "v1"
        return {
            "kind": f"{kind.kind}List",
            "apiVersion": f"{kind.group}/{list_version}",
            "metadata": metadata,
            "items": items,
        }

    # -- dashboard writes -------------------------------------------------------------------------------

    def _body(self, kind: _Kind, body: Any, version: str) -> tuple[dict[str, Any], Any]:
        if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
            raise kind.invalid("", "the body must be an object with metadata")
        if kind is DASHBOARDS and not isinstance(body.get("spec"), dict):
            raise kind.invalid(str(body["metadata"].get("name", "")), "spec must be an object")
        expected = f"{kind.group}/{version}"
        if body.get("apiVersion", expected) != expected:
            raise kind.invalid("", f"apiVersion {body.get('apiVersion')} does not match the URL's {expected}")
        return body["metadata"], body.get("spec")

    def _folder_of(self, kind: _Kind, name: str, metadata: dict[str, Any]) -> str:
        """The `grafana.app/folder` annotation, checked as admission's `validateFolderExists` does
        (facts §5): a folder that does not exist is refused with 400; none means the root."""
        folder = str((metadata.get("annotations") or {}).get(FOLDER_ANNOTATION) or "")
        if folder and folder not in self.grafana.state.folders:
            raise kind.invalid(name, f"folder {folder!r} not found")
        return folder

    def _create_dashboard(self, version: str, body: Any, who: str) -> dict[str, Any]:
        """POST: 201; `generateName` gives a random name; a taken name is 409 AlreadyExists (facts §3).
        The version of the request fixes the stored version (facts §4: pinned at creation)."""
        metadata, spec = self._body(DASHBOARDS, body, version)
        name = str(metadata.get("name") or "")
        if not name and metadata.get("generateName"):
            name = f"{metadata['generateName']}{secrets.token_hex(4)}"
        if not name or len(name) > 40 or not re.fullmatch(r"[a-zA-Z0-9_-]+", name):
            raise DASHBOARDS.invalid(name, "metadata.name must be 1 to 40 letters, digits, '-' or '_'")
        if name in self.grafana.state.dashboards:
            raise DASHBOARDS.already_exists(name)
        folder = self._folder_of(DASHBOARDS, name, metadata)
        self._store(name, version, spec, folder, None)
        now = _now()
        self.meta[("dashboards", name)] = _Meta(
            str(uuid.uuid4()),
            self.next_rv(),
            1,
            now,
            who,
            now,
            who,
            self._fingerprint(name),
            _canonical(spec),
        )
        return self._dashboard_object(name, version)

    def _store(
        self, name: str, version: str, spec: dict[str, Any], folder: str, existing: dict[str, Any] | None
    ) -> None:
        """Write a dashboard record in the shared store, in the legacy view too (`dashboard`, whose
        `version` grows on every write as a legacy save's does)."""
        title = str(spec.get("title") or "")
        if not title.strip():
            raise DASHBOARDS.invalid(name, "Dashboard title cannot be empty")
        state = self.grafana.state
        internal_id = existing["dashboard"]["id"] if existing else state.new_id()
        legacy_version = existing["dashboard"]["version"] + 1 if existing else 1
        record: dict[str, Any] = {"folderUid": folder, "provisioned": False, "message": ""}
        if version in V2_VERSIONS:
            classic = v2_to_classic(spec, name)
            record.update(v2spec=copy.deepcopy(spec), storedVersion=version)
        else:
            classic = copy.deepcopy(spec)
            record.update(spec=copy.deepcopy(spec), storedVersion=version)
        record["dashboard"] = {**classic, "uid": name, "id": internal_id, "version": legacy_version}
        state.dashboards[name] = record

    def _fingerprint(self, name: str) -> tuple[Any, ...]:
        record = self.grafana.state.dashboards[name]
        return (record["dashboard"]["id"], record["dashboard"]["version"], record["folderUid"])

    def _check_rv(self, kind: _Kind, name: str, metadata: dict[str, Any]) -> _Meta:
        """Optimistic lock: a missing or stale `metadata.resourceVersion` is a 409 Conflict (facts §3:
        the backend enforces that the client passed one, since PR #121814)."""
        meta = self.meta[(kind.resource, name)]
        if str(metadata.get("resourceVersion") or "") != str(meta.resource_version):
            raise kind.conflict(name)
        return meta

    def _update_dashboard(self, name: str, version: str, body: Any, who: str) -> dict[str, Any]:
        """PUT: 200. A classic PUT onto a v2-stored dashboard stores the classic body (the v2 content is
        gone: mcp-grafana's warning, facts §4); a v2 PUT onto a classic-stored one is down-converted and
        stays classic (stored version pinned at creation, facts §4)."""
        metadata, spec = self._body(DASHBOARDS, body, version)
        if str(metadata.get("name") or name) != name:
            raise DASHBOARDS.invalid(name, "metadata.name does not match the name in the URL")
        existing = self.grafana.state.dashboards.get(name)
        if existing is None:
            raise DASHBOARDS.not_found(name)
        meta = self._check_rv(DASHBOARDS, name, metadata)
        if existing["provisioned"]:
            raise DASHBOARDS.invalid(name, "Cannot save provisioned dashboard")
        folder = self._folder_of(DASHBOARDS, name, metadata)
        stored = str(existing.get("storedVersion") or "v0alpha1")
        if version in V2_VERSIONS and stored in CLASSIC_VERSIONS:
            spec, version = v2_to_classic(spec, name), stored
        self._store(name, version, spec, folder, existing)
        self._touch(meta, _canonical(self._stored_spec(self.grafana.state.dashboards[name])), who)
        meta.fingerprint = self._fingerprint(name)
        return self._dashboard_object(name, version)

    def _delete_dashboard(self, name: str) -> dict[str, Any]:
        """DELETE: 200 Status Success; a provisioned dashboard is 400 (facts §3)."""
        record = self.grafana.state.dashboards.get(name)
        if record is None:
            raise DASHBOARDS.not_found(name)
        if record["provisioned"]:
            raise DASHBOARDS.invalid(name, "provisioned dashboard cannot be deleted")
        meta = self.meta.pop(("dashboards", name))
        del self.grafana.state.dashboards[name]
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {**DASHBOARDS.details(name), "uid": meta.uid},
        }

    def save_as_v2_in_ui(self, name: str, spec: dict[str, Any], who: str = "user:admin") -> None:
        """The 13.x UI saves a dashboard as v2 (dynamic dashboards on): same object, now stored as v2."""
        with self.grafana.state.lock:
            self.sync()
            existing = self.grafana.state.dashboards[name]
            self._store(name, "v2", spec, existing["folderUid"], existing)
            self._touch(self.meta[("dashboards", name)], _canonical(spec), who)
            self.meta[("dashboards", name)].fingerprint = self._fingerprint(name)

    def user_saves(self, method: str, path: str) -> None:
        """A person saves the dashboard a PUT or DELETE is about to write (the `user-save` fault: between
        a push's plan and its apply): its title becomes "Edited in Grafana" in the version it is stored
        in, a write like any other, so the request's resourceVersion is now stale."""
        match = re.fullmatch(
            r"/apis/dashboard\.grafana\.app/[^/]+/namespaces/[^/]+/dashboards/([^/]+)/?", path
        )
        record = (
            self.grafana.state.dashboards.get(match[1]) if match and method in ("PUT", "DELETE") else None
        )
        if match is None or record is None:
            return
        self.sync()
        edited = {**copy.deepcopy(self._stored_spec(record)), "title": "Edited in Grafana"}
        version = str(record.get("storedVersion") or "v0alpha1")
        self._store(match[1], version, edited, record["folderUid"], record)
        meta = self.meta[("dashboards", match[1])]
        self._touch(meta, _canonical(edited), "user:admin")
        meta.fingerprint = self._fingerprint(match[1])

    # -- folders ----------------------------------------------------------------------------------------

    def _folder_object(self, name: str) -> dict[str, Any]:
        folder = self.grafana.state.folders.get(name)
        if folder is None:
            raise FOLDERS.not_found(name)
        return {
            "kind": "Folder",
            "apiVersion": f"{FOLDER_GROUP}/v1",
            "metadata": self._metadata(FOLDERS, name, folder["id"], str(folder.get("parentUid") or "")),
            "spec": {"title": folder["title"], **_description(folder)},
        }

    def _create_folder(self, body: Any, who: str) -> dict[str, Any]:
        """POST: 201, 409 on a taken name (facts §5); the parent is `grafana.app/folder`, checked."""
        metadata, spec = self._body(FOLDERS, body, "v1")
        name = str(metadata.get("name") or "")
        if not name and metadata.get("generateName"):
            name = f"{metadata['generateName']}{secrets.token_hex(4)}"
        title = str((spec or {}).get("title") or "")
        if not name or name == "general" or not title.strip():
            raise FOLDERS.invalid(name, "metadata.name (not 'general') and spec.title are required")
        if name in self.grafana.state.folders:
            raise FOLDERS.already_exists(name)
        parent = self._folder_of(FOLDERS, name, metadata)
        folder = {
            "id": self.grafana.state.new_id(),
            "uid": name,
            "title": title,
            "url": f"/dashboards/f/{name}/",
            "version": 1,
        }
        if parent:
            folder["parentUid"] = parent
        folder.update(_description(spec or {}))
        self.grafana.state.folders[name] = folder
        self.sync(who)
        return self._folder_object(name)

    def _update_folder(self, name: str, body: Any, who: str) -> dict[str, Any]:
        """PUT: 200. A missing or stale resourceVersion is the same 409 Conflict Status as for
        dashboards: folders live in the same unified storage, whose RV check facts §3 read. (The folder
        doc's 412 "version-mismatch" (facts §5, DOCS-ONLY) is the legacy API's answer, kept there.)"""
        metadata, spec = self._body(FOLDERS, body, "v1")
        folder = self.grafana.state.folders.get(name)
        if folder is None:
            raise FOLDERS.not_found(name)
        meta = self._check_rv(FOLDERS, name, metadata)
        parent = self._folder_of(FOLDERS, name, metadata)
        title = str((spec or {}).get("title") or "")
        if not title.strip():
            raise FOLDERS.invalid(name, "spec.title is required")
        folder.update(title=title, version=folder["version"] + 1)
        folder.pop("description", None)  # a PUT replaces the object: a description left out is cleared
        folder.update(_description(spec or {}))
        folder.pop("parentUid", None)
        if parent:
            folder["parentUid"] = parent
        self._touch(meta, _canonical({"title": title}), who)
        meta.fingerprint = (folder["id"], folder["version"], parent)
        return self._folder_object(name)

    def _delete_folder(self, name: str) -> dict[str, Any]:
        """DELETE: 200 with the deleted Folder object, not a Status, and its dashboards go too (facts §5)."""
        answer = self._folder_object(name)
        state = self.grafana.state
        for uid in [u for u, r in state.dashboards.items() if r["folderUid"] == name]:
            del state.dashboards[uid]
        del state.folders[name]
        self.sync()
        return answer


def _description(spec: dict[str, Any]) -> dict[str, str]:
    """A folder's optional `spec.description` (a string; facts: grafana-13-folder-facts.md 2d, 4a)."""
    description = spec.get("description")
    return {"description": description} if isinstance(description, str) and description else {}


def _offset(token: str) -> int:
    """The offset in a continue token. A token this server did not write is a 400 BadRequest (k8s
    answers 410 Expired for a token too old to serve; nothing here expires, so that is not modelled)."""
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except (ValueError, KeyError, TypeError) as error:
        raise StatusError(400, "BadRequest", f"invalid continue token {quote(token)!r}") from error


def default_v2_spec() -> dict[str, Any]:
    """`defaultSpec` of the v2 schema (facts §6)."""
    return {
        "annotations": [],
        "cursorSync": "Off",
        "editable": True,
        "elements": {},
        "layout": {"kind": "GridLayout", "spec": {"items": []}},
        "links": [],
        "preload": False,
        "tags": [],
        "timeSettings": {
            "timezone": "browser",
            "from": "now-6h",
            "to": "now",
            "autoRefresh": "",
            "autoRefreshIntervals": ["5s", "10s", "30s", "1m", "5m", "15m", "30m", "1h", "2h", "1d"],
            "hideTimepicker": False,
            "fiscalYearStartMonth": 0,
        },
        "title": "",
        "variables": [],
    }


def v2_to_classic(spec: dict[str, Any], uid: str) -> dict[str, Any]:
    """A LOSSY classic form of a v2 spec, as Grafana's down-conversion is for anything v2-only (facts §4,
    §9: "tabs and conditional rendering cannot be represented in the classic format"). Kept: title,
    description, tags, time, and one panel per laid-out element with its title, type and gridPos.
    Dropped on purpose: queries (`targets: []`), field config, options, variables, links, tabs, rows
    and conditional rendering, so a client that trusts this form is visibly wrong."""
    elements = spec.get("elements") or {}
    panels: list[dict[str, Any]] = []
    for name, (x, y, width, height) in _positions(spec.get("layout") or {}, 0):
        element = elements.get(name) or {}
        element_spec = element.get("spec") or {}
        panels.append(
            {
                "id": element_spec.get("id", len(panels) + 1),
                "type": (element_spec.get("vizConfig") or {}).get("group", ""),
                "title": element_spec.get("title", ""),
                "gridPos": {"x": x, "y": y, "w": width, "h": height},
                "targets": [],
            }
        )
    time_settings = spec.get("timeSettings") or {}
    classic: dict[str, Any] = {
        "uid": uid,
        "title": spec.get("title", ""),
        "tags": list(spec.get("tags") or []),
        "panels": panels,
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": time_settings.get("from", "now-6h"), "to": time_settings.get("to", "now")},
    }
    if spec.get("description"):
        classic["description"] = spec["description"]
    return classic


def _positions(layout: dict[str, Any], top: int) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Every element a layout places, with a classic gridPos; nested rows and tabs are flattened one
    under the other (their titles and the tabs themselves are lost)."""
    kind, spec = layout.get("kind"), layout.get("spec") or {}
    found: list[tuple[str, tuple[int, int, int, int]]] = []
    if kind == "GridLayout":
        for item in spec.get("items") or []:
            s = item.get("spec") or {}
            box = (s.get("x", 0), top + s.get("y", 0), s.get("width", 0), s.get("height", 0))
            found.append(((s.get("element") or {}).get("name", ""), box))
    elif kind == "AutoGridLayout":
        columns = int(spec.get("maxColumnCount") or 3)
        width = 24 // columns
        for index, item in enumerate(spec.get("items") or []):
            box = ((index % columns) * width, top + (index // columns) * 8, width, 8)
            found.append((((item.get("spec") or {}).get("element") or {}).get("name", ""), box))
    elif kind in ("RowsLayout", "TabsLayout"):
        for section in spec.get("rows" if kind == "RowsLayout" else "tabs") or []:
            inner = _positions((section.get("spec") or {}).get("layout") or {}, top)
            found.extend(inner)
            top = max([top, *(box[1] + box[3] for _, box in inner)])
    return found
