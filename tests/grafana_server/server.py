"""A stateful Grafana test server that speaks real HTTP on 127.0.0.1.

grafana-client uses niquests, which request-mocking libraries do not intercept, so the sync code is
tested against this server instead. It follows the documented legacy HTTP API (paths, bodies,
status codes and `status` strings of shared/reference/grafana.md §3): basic and bearer auth with
Viewer/Editor/Admin roles, folders, dashboards with versions, the optimistic lock and provisioned
dashboards, search, datasources with read-only (provisioned) ones, correlations (current Grafana's legacy
`/api/datasources/.../correlations` API: see `_CorrelationsApi`), /api/health, and the datasource
proxy (`GET /api/datasources/proxy/uid/<uid>/<path>`: any signed-in role; the caller's
Authorization header is not passed on; the upstream's status, body and content type come back as
they are; 404 "Unable to find datasource" for an unknown uid, 502 when the upstream cannot be reached).
Grafana 13's resource API (`/apis/dashboard.grafana.app/...`, `/apis/folder.grafana.app/...`) is served by
`resource_api.ResourceApi` on the same store, unless the server is made without it.
Faults can be injected: HTTP 5xx, connections reset before or after the request is handled, latency.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import random
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.grafana_server.resource_api import PlainError, ResourceApi, StatusError, actor

UID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]*$")
SLOW_SECONDS = 2.5
ROLES = {"Viewer": 0, "Editor": 1, "Admin": 2}
WRITE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}


class HttpError(Exception):
    def __init__(self, status: int, message: str, status_text: str | None = None) -> None:
        super().__init__(message)
        self.status, self.body = status, {"message": message}
        if status_text:
            self.body["status"] = status_text


@dataclass
class Fault:
    """One injected fault, consumed by the first request it matches."""

    kind: str  # "503" (any 5xx), "reset" (before handling), "drop" (after handling: the reply is lost),
    # "slow" (answers after SLOW_SECONDS, past a short client timeout), "user-save" (a person saves the
    # same object in Grafana's UI just before the request is handled: between a push's plan and apply)
    method: str | None = None
    path: str = ""


@dataclass
class FakeGrafanaState:
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # login -> (password, role)
    tokens: dict[str, str] = field(default_factory=dict)  # token -> role
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> {dashboard, folderUid, ...}
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    secure_values: dict[str, dict[str, str]] = field(default_factory=dict)
    """A datasource's secureJsonData, by uid: kept, never answered (tests read it here)."""
    correlations: dict[str, dict[str, Any]] = field(default_factory=dict)  # Grafana's uid -> correlation
    next_id: int = 1
    faults: list[Fault] = field(default_factory=list)
    latency: float = 0.0
    failure_rate: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(1))
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    @property
    def writes(self) -> list[tuple[str, str, int]]:
        return [r for r in self.requests if r[0] in WRITE_METHODS]


RESOURCE_API_SINCE = 13
"""The first major version the test server serves `/apis` for by default: the one whose dashboard API
(`dashboard.grafana.app/v1`, `v2`) push and diff use (docs/grafana-13-facts.md §1)."""


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class FakeGrafana:
    """The server and its state. Use as a context manager; `url` is where it listens."""

    def __init__(
        self,
        *,
        version: str = "11.6.0",
        titles_unique_in_folder: bool = False,
        port: int = 0,
        sub_path: str = "",
        correlations_on_app_platform: bool = False,
        resource_api: bool | None = None,
        preferred_dashboard_version: str = "v2",
    ) -> None:
        self.state = FakeGrafanaState()
        if resource_api is None:
            resource_api = int(version.split(".", maxsplit=1)[0]) >= RESOURCE_API_SINCE
        self.resources = ResourceApi(self, preferred_dashboard_version) if resource_api else None
        """Grafana 13's `/apis` (docs/grafana-13-facts.md), served by default from `version` 13 on;
        `preferred_dashboard_version` is what discovery prefers: "v2" as 13.x with dynamic dashboards
        (on by default), "v1" with them off. Without it (`resource_api=False`, or an older `version`)
        the server is a Grafana that lacks the resource API: `/apis` is a 404."""
        self.correlations_on_app_platform = correlations_on_app_platform
        """As Grafana with the `kubernetesCorrelations` feature flag: the list of a source's correlations
        answers 404 "No correlation found" when it is empty (the legacy store answers 200 `[]`)."""
        self.sub_path = sub_path.rstrip("/")
        """As Grafana with `root_url` ending in a path and `serve_from_sub_path = true` (behind a reverse
        proxy at http://host/grafana/): everything is served under it, and nothing outside it."""
        self.version = version
        self.titles_unique_in_folder = titles_unique_in_folder
        """As older Grafana does (reference §3.3): saving a new dashboard without `overwrite` whose title
        another dashboard of the same folder has is a 412 `name-exists`. The newest Grafana lets it
        through, hence off by default. (Old Grafana's `overwrite: true` then took over the other
        dashboard; that is not modelled.)"""
        self.state.users["admin"] = ("admin-password", "Admin")
        self.state.tokens.update({"glsa_admin": "Admin", "glsa_editor": "Editor", "glsa_viewer": "Viewer"})
        handler = type("Handler", (_Handler,), {"grafana": self})
        self.httpd = _QuietServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{self.sub_path}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeGrafana:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- helpers for tests: what Grafana's UI or provisioning would do -----------------------------

    def provision_dashboard(self, dashboard: dict[str, Any], folder_uid: str = "") -> None:
        """As if Grafana had loaded the dashboard from a provisioning file."""
        with self.state.lock:
            self._save_dashboard(
                {"dashboard": copy.deepcopy(dashboard), "folderUid": folder_uid, "overwrite": True}
            )
            self.state.dashboards[dashboard["uid"]]["provisioned"] = True

    def provision_datasource(self, datasource: dict[str, Any]) -> None:
        self.provision_datasources([datasource])

    def provision_datasources(self, entries: list[dict[str, Any]]) -> None:
        """As Grafana reads a datasources file at startup: every datasource upserted read-only first, then
        each one's `correlations:`. Grafana deletes the source's provisioned correlations and creates
        the listed ones again, each with a fresh uid and `provisioned: true`; only a top-level
        `type: external` makes one external, anything else is a query correlation."""
        entries = copy.deepcopy(entries)
        with self.state.lock:
            for entry in entries:
                existing = self.state.datasources.get(str(entry.get("uid")))
                body = {k: v for k, v in entry.items() if k != "correlations"}
                stored = self._store_datasource(body, existing)
                stored["readOnly"] = True
            for entry in entries:
                source = str(entry["uid"])
                for uid, correlation in list(self.state.correlations.items()):
                    if correlation["sourceUID"] == source and correlation["provisioned"]:
                        del self.state.correlations[uid]
                for correlation in entry.get("correlations", []):
                    kind = "external" if correlation.get("type") == "external" else "query"
                    self._create_correlation(source, {**correlation, "type": kind, "provisioned": True})

    def edit_in_ui(self, uid: str, change: Callable[[dict[str, Any]], None]) -> None:
        """A user saves a change in the dashboard editor: a new version with their JSON."""
        with self.state.lock:
            record = self.state.dashboards[uid]
            dashboard = copy.deepcopy(record["dashboard"])
            change(dashboard)
            self._save_dashboard(
                {"dashboard": dashboard, "folderUid": record["folderUid"], "overwrite": False}
            )

    def save_as_v2_in_ui(self, uid: str, spec: dict[str, Any], who: str = "user:admin") -> None:
        """A user saves the dashboard in Grafana 13's UI with dynamic dashboards on: the same object
        (name, folder, internal id) is now stored as v2 with `spec`, and its resourceVersion changes."""
        assert self.resources is not None, "a Grafana without the resource API has no v2 dashboards"
        self.resources.save_as_v2_in_ui(uid, spec, who)

    # -- request handling ----------------------------------------------------------------------------

    def role(self, headers: Any) -> str | None:
        header = headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.state.tokens.get(header[7:])
        if header.startswith("Basic "):
            try:
                login, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return None
            user = self.state.users.get(login)
            return user[1] if user and user[0] == password else None
        return None

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any, role: str | None) -> Any:
        if path == "/api/health" and method == "GET":
            return {"commit": "test", "database": "ok", "version": self.version}
        if role is None:
            raise HttpError(401, "Unauthorized")
        if method in WRITE_METHODS and ROLES[role] < ROLES["Editor"]:
            raise HttpError(
                403, "Access denied to save dashboard" if "dashboards" in path else "Permission denied"
            )
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/api/frontend/settings", self._frontend_settings),
            ("GET", r"/api/folders", self._list_folders),
            ("GET", r"/api/folders/(?P<uid>[^/]+)", self._get_folder),
            ("POST", r"/api/folders", lambda: self._create_folder(body)),
            ("PUT", r"/api/folders/(?P<uid>[^/]+)", lambda uid: self._update_folder(uid, body)),
            ("POST", r"/api/dashboards/db", lambda: self._save_dashboard(body)),
            ("GET", r"/api/dashboards/uid/(?P<uid>[^/]+)", self._get_dashboard),
            ("DELETE", r"/api/dashboards/uid/(?P<uid>[^/]+)", self._delete_dashboard),
            ("GET", r"/api/search", lambda: self._search(query)),
            ("GET", r"/api/datasources", lambda: list(self.state.datasources.values())),
            ("GET", r"/api/datasources/uid/(?P<uid>[^/]+)", self._get_datasource),
            ("POST", r"/api/datasources", lambda: self._create_datasource(body, role)),
            (
                "PUT",
                r"/api/datasources/uid/(?P<uid>[^/]+)",
                lambda uid: self._update_datasource(uid, body, role),
            ),
            ("GET", r"/api/datasources/correlations", lambda: self._list_correlations(query)),
            ("GET", _CORRELATIONS, self._correlations_of),
            ("POST", _CORRELATIONS, lambda uid: self._admin(role, self._create_correlation, uid, body)),
            ("GET", _CORRELATION, self._get_correlation),
            ("PATCH", _CORRELATION, lambda uid, cuid: self._admin(role, self._patch, uid, cuid, body)),
            ("DELETE", _CORRELATION, lambda uid, cuid: self._admin(role, self._remove, uid, cuid)),
        ]
        for route_method, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                with self.state.lock:
                    return action(**match.groupdict())
        raise HttpError(404, "Not found")

    def _frontend_settings(self) -> dict[str, Any]:
        """`namespace` is where mcp-grafana reads the resource API's namespace (`default` is org 1)."""
        settings: dict[str, Any] = {"buildInfo": {"version": self.version}}
        if self.resources is not None:
            settings["namespace"] = self.resources.namespace
        return settings

    # folders
    def _list_folders(self) -> list[dict[str, Any]]:
        return [{"id": f["id"], "uid": f["uid"], "title": f["title"]} for f in self.state.folders.values()]

    def _get_folder(self, uid: str) -> dict[str, Any]:
        if uid not in self.state.folders:
            raise HttpError(404, "folder not found", "not-found")
        return self.state.folders[uid]

    def _create_folder(self, body: Any) -> dict[str, Any]:
        title, uid = str(body.get("title") or ""), str(body.get("uid") or f"f{self.state.next_id}")
        if not title.strip():
            raise HttpError(400, "folder title cannot be empty")
        if uid == "general":
            raise HttpError(400, "uid general is reserved")
        if uid in self.state.folders or any(f["title"] == title for f in self.state.folders.values()):
            raise HttpError(409, "a folder with the same name already exists")
        folder = {
            "id": self.state.new_id(),
            "uid": uid,
            "title": title,
            "url": f"/dashboards/f/{uid}/",
            "version": 1,
        }
        self.state.folders[uid] = folder
        return folder

    def _update_folder(self, uid: str, body: Any) -> dict[str, Any]:
        folder = self._get_folder(uid)
        if not body.get("overwrite") and body.get("version") != folder["version"]:
            raise HttpError(412, "the folder has been changed by someone else", "version-mismatch")
        folder.update(title=body.get("title", folder["title"]), version=folder["version"] + 1)
        return folder

    # dashboards
    def _save_dashboard(self, body: Any) -> dict[str, Any]:
        dashboard = body.get("dashboard") if isinstance(body, dict) else None
        if not isinstance(dashboard, dict):
            raise HttpError(400, "bad request data")
        title = str(dashboard.get("title") or "")
        if not title.strip():
            raise HttpError(400, "Dashboard title cannot be empty", "empty-name")
        uid = str(dashboard.get("uid") or f"gen{self.state.next_id}")
        if len(uid) > 40:
            raise HttpError(400, "uid too long, max 40 characters")
        if not UID_PATTERN.match(uid):
            raise HttpError(400, "uid contains illegal characters")
        if len(str(body.get("message") or "")) > 500:
            raise HttpError(400, "message too long, max 500 characters")
        if any(len(str(tag)) > 50 for tag in dashboard.get("tags") or []):
            raise HttpError(400, "dashboard tag too long, max 50 characters", "tag-too-long")
        folder_uid = str(body.get("folderUid") or "")
        if folder_uid and folder_uid not in self.state.folders:
            raise HttpError(400, "folder not found")
        existing = self.state.dashboards.get(uid)
        if (
            self.titles_unique_in_folder
            and not body.get("overwrite")
            and self._same_title(uid, title, folder_uid)
        ):
            raise HttpError(412, "A dashboard with the same name in the folder already exists", "name-exists")
        if dashboard.get("id") and (existing is None or existing["dashboard"]["id"] != dashboard["id"]):
            raise HttpError(404, "Dashboard not found", "not-found")
        if existing is not None:
            if existing["provisioned"]:
                raise HttpError(400, "Cannot save provisioned dashboard")
            if not body.get("overwrite") and dashboard.get("version") != existing["dashboard"]["version"]:
                raise HttpError(412, "The dashboard has been changed by someone else", "version-mismatch")
        version = existing["dashboard"]["version"] + 1 if existing else 1
        stored = {**copy.deepcopy(dashboard), "uid": uid, "version": version}
        stored["id"] = existing["dashboard"]["id"] if existing else self.state.new_id()
        self.state.dashboards[uid] = {
            "dashboard": stored,
            "folderUid": folder_uid,
            "provisioned": False,
            "message": body.get("message", ""),
        }
        slug = _slug(title)
        return {
            "id": stored["id"],
            "uid": uid,
            "url": f"/d/{uid}/{slug}",
            "status": "success",
            "version": version,
            "slug": slug,
        }

    def _same_title(self, uid: str, title: str, folder_uid: str) -> bool:
        """Another dashboard (another uid) of the folder has this title."""
        return any(
            other != uid and record["folderUid"] == folder_uid and record["dashboard"]["title"] == title
            for other, record in self.state.dashboards.items()
        )

    def _get_dashboard(self, uid: str) -> dict[str, Any]:
        record = self.state.dashboards.get(uid)
        if record is None:
            raise HttpError(404, "Dashboard not found", "not-found")
        folder = self.state.folders.get(record["folderUid"], {})
        meta = {
            "slug": _slug(record["dashboard"]["title"]),
            "url": f"/d/{uid}/{_slug(record['dashboard']['title'])}",
            "folderUid": record["folderUid"],
            "folderTitle": folder.get("title", "General"),
            "version": record["dashboard"]["version"],
            "canSave": not record["provisioned"],
            "canEdit": True,
            "provisioned": record["provisioned"],
            "provisionedExternalId": f"{uid}.json" if record["provisioned"] else "",
        }
        return {"dashboard": copy.deepcopy(record["dashboard"]), "meta": meta}

    def _delete_dashboard(self, uid: str) -> dict[str, Any]:
        record = self.state.dashboards.get(uid)
        if record is None:
            raise HttpError(404, "Dashboard not found", "not-found")
        if record["provisioned"]:
            raise HttpError(400, "provisioned dashboard cannot be deleted")
        del self.state.dashboards[uid]
        title = record["dashboard"]["title"]
        return {"title": title, "message": f"Dashboard {title} deleted", "id": record["dashboard"]["id"]}

    def _search(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        tags = query.get("tag", [])
        limit = min(int(query.get("limit", ["1000"])[0]), 5000)
        page = int(query.get("page", ["1"])[0])
        text = query.get("query", [""])[0].lower()
        hits = []
        if query.get("type", ["dash-db"])[0] == "dash-db":
            for uid, record in sorted(
                self.state.dashboards.items(), key=lambda i: i[1]["dashboard"]["title"]
            ):
                dashboard = record["dashboard"]
                if (
                    all(t in (dashboard.get("tags") or []) for t in tags)
                    and text in dashboard["title"].lower()
                ):
                    hits.append(
                        {
                            "id": dashboard["id"],
                            "uid": uid,
                            "title": dashboard["title"],
                            "type": "dash-db",
                            "tags": dashboard.get("tags") or [],
                            "folderUid": record["folderUid"],
                        }
                    )
        return hits[(page - 1) * limit : page * limit]

    # datasources
    def _store_datasource(self, body: Any, existing: dict[str, Any] | None) -> dict[str, Any]:
        name, uid = str(body.get("name") or ""), str(body.get("uid") or f"ds{self.state.next_id}")
        if not name or not body.get("type"):
            raise HttpError(400, "name and type are required")
        secure = {**self.state.secure_values.get(uid, {}), **(body.get("secureJsonData") or {})}
        for other in self.state.datasources.values():
            if other is not existing and other["name"] == name:
                raise HttpError(409, "data source with the same name already exists")
        stored = {
            "id": existing["id"] if existing else self.state.new_id(),
            "uid": uid,
            "orgId": 1,
            "name": name,
            "type": body["type"],
            "typeName": str(body["type"]).capitalize(),
            "typeLogoUrl": f"public/app/plugins/datasource/{body['type']}/img/logo.svg",
            "access": body.get("access", "proxy"),
            "url": body.get("url", ""),
            "user": "",
            "database": "",
            "basicAuth": False,
            "basicAuthUser": "",
            "withCredentials": False,
            "isDefault": bool(body.get("isDefault", False)),
            "jsonData": body.get("jsonData") or {},
            # Write-only: Grafana encrypts secureJsonData and answers only which keys are set
            # (`secureJsonFields`, docs: Data source HTTP API); keys a write leaves out keep their value.
            "secureJsonFields": dict.fromkeys(secure, True),
            "version": existing["version"] + 1 if existing else 1,
            "readOnly": False,
        }
        self.state.datasources[uid] = stored
        self.state.secure_values[uid] = secure
        return stored

    def _get_datasource(self, uid: str) -> dict[str, Any]:
        if uid not in self.state.datasources:
            raise HttpError(404, "Data source not found")
        return copy.deepcopy(self.state.datasources[uid])

    def _create_datasource(self, body: Any, role: str) -> dict[str, Any]:
        if ROLES[role] < ROLES["Admin"]:
            raise HttpError(403, "Permission denied")
        if str(body.get("uid")) in self.state.datasources:
            raise HttpError(409, "data source with the same uid already exists")
        stored = self._store_datasource(body, None)
        return {
            "datasource": stored,
            "id": stored["id"],
            "message": "Datasource added",
            "name": stored["name"],
        }

    def _update_datasource(self, uid: str, body: Any, role: str) -> dict[str, Any]:
        if ROLES[role] < ROLES["Admin"]:
            raise HttpError(403, "Permission denied")
        existing = self.state.datasources.get(uid)
        if existing is None:
            raise HttpError(404, "Data source not found")
        if existing["readOnly"]:
            raise HttpError(403, "Cannot update read-only data source")
        stored = self._store_datasource({**body, "uid": uid}, existing)
        return {
            "datasource": stored,
            "id": stored["id"],
            "message": "Datasource updated",
            "name": stored["name"],
        }

    # correlations (pkg/services/correlations of current Grafana; facts in the README's correlations section)
    def _admin(self, role: str, write: Callable[..., Any], *args: Any) -> Any:
        """Correlation writes need datasources:write on the source, which only Admins have by default."""
        if ROLES[role] < ROLES["Admin"]:
            raise HttpError(403, "Permissions needed: datasources:write")
        return write(*args)

    def _source(self, uid: str, missing: str = "Data source not found") -> dict[str, Any]:
        if uid not in self.state.datasources:
            raise HttpError(404, missing)
        return self.state.datasources[uid]

    def _visible(self, correlation: dict[str, Any]) -> bool:
        """Grafana's reads join the target: a query correlation whose target is gone is not listed."""
        return correlation["type"] == "external" or correlation["targetUID"] in self.state.datasources

    def _list_correlations(self, query: dict[str, list[str]]) -> dict[str, Any]:
        limit = int(query.get("limit", ["100"])[0])
        limit = 100 if limit <= 0 else min(limit, 1000)
        page = max(int(query.get("page", ["1"])[0]), 1)
        sources = set(query.get("sourceUID", []))
        found = [
            copy.deepcopy(c)
            for _, c in sorted(self.state.correlations.items())
            if self._visible(c) and (not sources or c["sourceUID"] in sources)
        ]
        return {
            "correlations": found[(page - 1) * limit : page * limit],
            "totalCount": len(self.state.correlations),  # Grafana counts the whole table, unfiltered
            "page": page,
            "limit": limit,
        }

    def _correlations_of(self, uid: str) -> list[dict[str, Any]]:
        self._source(uid, "Source data source not found")
        found = [
            copy.deepcopy(c)
            for _, c in sorted(self.state.correlations.items())
            if c["sourceUID"] == uid and self._visible(c)
        ]
        if not found and self.correlations_on_app_platform:
            raise HttpError(404, "No correlation found")
        return found

    def _correlation(self, uid: str, cuid: str) -> dict[str, Any]:
        self._source(uid)
        found = self.state.correlations.get(cuid)
        if found is None or found["sourceUID"] != uid:
            raise HttpError(404, "Correlation not found")
        return found

    def _get_correlation(self, uid: str, cuid: str) -> dict[str, Any]:
        self._source(uid, "Source data source not found")
        return copy.deepcopy(self._correlation(uid, cuid))

    def _create_correlation(self, uid: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("config"), dict):
            raise HttpError(400, "bad request data")
        kind, config, target_uid = body.get("type"), body["config"], body.get("targetUID")
        if kind not in ("query", "external") or not config.get("field") or config.get("target") is None:
            raise HttpError(400, "bad request data")
        if kind == "query" and not target_uid:
            raise HttpError(400, "bad request data")
        if config.get("type") not in (None, "", "query"):
            raise HttpError(400, "bad request data")  # a legacy config.type other than query
        _check_transformations(config.get("transformations"))
        self._source(uid)
        if target_uid is not None:
            self._source(str(target_uid))
        correlation_uid = f"c{self.state.new_id():08d}"
        stored = {
            "uid": correlation_uid,
            "sourceUID": uid,
            "orgId": 1,
            "targetUID": target_uid,
            "label": str(body.get("label") or ""),
            "description": str(body.get("description") or ""),
            "config": _stored_config(config),
            "provisioned": bool(body.get("provisioned", False)),
            "type": kind,
        }
        self.state.correlations[correlation_uid] = stored
        return {"message": "Correlation created", "result": copy.deepcopy(stored)}

    def _patch(self, uid: str, cuid: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise HttpError(400, "bad request data")
        config = body.get("config") if isinstance(body.get("config"), dict) else None
        kind = body.get("type")
        if kind is not None and kind not in ("query", "external"):
            raise HttpError(400, "bad request data")
        if all(body.get(key) is None for key in ("label", "description", "type")) and (
            config is None or (config.get("field") is None and config.get("target") is None)
        ):
            raise HttpError(400, "At least one of label, description or config is required")
        correlation = self._correlation(uid, cuid)
        if correlation["provisioned"]:
            raise HttpError(403, "Correlation can only be edited via provisioning")
        for key in ("label", "description", "type"):
            if body.get(key) is not None:
                correlation[key] = body[key]
        if config is not None:
            _check_transformations(config.get("transformations"))
            merged = {**correlation["config"], **{k: v for k, v in config.items() if v is not None}}
            correlation["config"] = _stored_config(merged)
        return {"message": "Correlation updated", "result": copy.deepcopy(correlation)}

    def _remove(self, uid: str, cuid: str) -> dict[str, Any]:
        correlation = self._correlation(uid, cuid)
        if correlation["provisioned"]:
            raise HttpError(403, "Correlation can only be edited via provisioning")
        del self.state.correlations[cuid]
        return {"message": "Correlation deleted"}

    def edit_correlation_in_ui(self, cuid: str, **changes: Any) -> None:
        """A person changes a correlation on Grafana's Correlations page (label, description, config)."""
        with self.state.lock:
            self.state.correlations[cuid].update(changes)

    def user_saves(self, method: str, path: str, body: Any) -> None:
        """What a person's save in the UI does to the object the request is about to write."""
        with self.state.lock:
            if (method, path) == ("POST", "/api/dashboards/db"):
                entry = self.state.dashboards.get(str(body["dashboard"].get("uid")))
                if entry is not None:
                    entry["dashboard"] = {
                        **entry["dashboard"],
                        "title": "Edited in Grafana",
                        "version": entry["dashboard"]["version"] + 1,
                    }
            elif self.resources is not None and path.startswith("/apis/"):
                self.resources.user_saves(method, path)
            elif (method, path) == ("POST", "/api/folders"):
                self._create_folder({"uid": "made-by-hand", "title": body["title"]})
            elif (method, path) == ("POST", "/api/datasources"):
                self._store_datasource({**body, "uid": "made-by-hand", "id": None}, None)

    def take_fault(self, method: str, path: str) -> str | None:
        with self.state.lock:
            for fault in self.state.faults:
                if (fault.method in (None, method)) and path.startswith(fault.path):
                    self.state.faults.remove(fault)
                    return fault.kind
            if self.state.failure_rate and self.state.rng.random() < self.state.failure_rate:
                return self.state.rng.choice(["503", "reset", "drop"])
        return None


_CORRELATIONS = r"/api/datasources/uid/(?P<uid>[^/]+)/correlations/?"
_CORRELATION = r"/api/datasources/uid/(?P<uid>[^/]+)/correlations/(?P<cuid>[^/]+)/?"


def _check_transformations(transformations: Any) -> None:
    """Grafana accepts `regex` (with an expression) and `logfmt` transformations, and nothing else."""
    for transformation in transformations or []:
        kind = transformation.get("type") if isinstance(transformation, dict) else None
        if kind not in ("regex", "logfmt") or (kind == "regex" and not transformation.get("expression")):
            raise HttpError(400, "bad request data")


def _stored_config(config: dict[str, Any]) -> dict[str, Any]:
    """What Grafana answers for a config: field, target ({} for null), transformations only when there
    are some; a legacy `config.type` is never answered (the type lives at the top)."""
    stored = {"field": config.get("field", ""), "target": config.get("target") or {}}
    if config.get("transformations"):
        stored["transformations"] = config["transformations"]
    return stored


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout) leaves a broken pipe behind: expected, not worth a trace."""


class _Handler(BaseHTTPRequestHandler):
    grafana: FakeGrafana
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        prefix = self.grafana.sub_path
        if prefix:
            if not self.path.startswith(prefix + "/"):
                self.close_connection = True  # its body, if any, is left unread
                self._reply(404, {"message": "Not found"}, self.path)
                return
            self.path = self.path[len(prefix) :]
        parsed = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        state = self.grafana.state
        if state.latency:
            time.sleep(state.latency)
        fault = self.grafana.take_fault(self.command, parsed.path)
        if fault == "slow":
            time.sleep(SLOW_SECONDS)
        if fault == "reset":
            self._abort()
            return
        if fault and fault.isdigit():
            self._reply(int(fault), {"message": "Service unavailable"}, parsed.path)
            return
        proxied = re.fullmatch(r"/api/datasources/proxy/uid/(?P<uid>[^/]+)(?P<rest>/.*)?", parsed.path)
        if proxied and self.command == "GET":
            self._proxy(proxied.group("uid"), proxied.group("rest") or "/", parsed.query)
            return
        try:
            body = json.loads(raw) if raw else None
            if fault == "user-save":
                self.grafana.user_saves(self.command, parsed.path, body)
            status, payload = self._answer(parsed.path, parse_qs(parsed.query), body)
        except (HttpError, StatusError, PlainError) as error:
            status, payload = error.status, error.body
        except json.JSONDecodeError:
            status, payload = 400, {"message": "bad request data"}
        if fault == "drop":
            with state.lock:
                state.requests.append((self.command, parsed.path, status))
            self._abort()
            return
        self._reply(status, payload, parsed.path)

    def _answer(self, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        """`/apis` to the resource API when the server has it; the rest to the legacy API, after which
        the resource API's metadata follows what the legacy request wrote (and who wrote it)."""
        resources, role, who = self.grafana.resources, self.grafana.role(self.headers), actor(self.headers)
        if resources is not None and (path == "/apis" or path.startswith("/apis/")):
            return resources.handle(self.command, path, query=query, body=body, role=role, who=who)
        try:
            return 200, self.grafana.handle(self.command, path, query, body, role)
        finally:
            if resources is not None and self.command in WRITE_METHODS:
                with self.grafana.state.lock:
                    resources.sync(who)

    def _proxy(self, uid: str, rest: str, query: str) -> None:
        if self.grafana.role(self.headers) is None:
            self._reply(401, {"message": "Unauthorized"}, self.path)
            return
        with self.grafana.state.lock:
            datasource = copy.deepcopy(self.grafana.state.datasources.get(uid))
        if datasource is None:
            self._reply(404, {"message": "Unable to find datasource"}, self.path)
            return
        url = str(datasource.get("url", "")).rstrip("/") + rest + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as upstream:  # no Authorization passed on
                status, data = upstream.status, upstream.read()
                content_type = upstream.headers["Content-Type"]
        except urllib.error.HTTPError as error:
            status, data, content_type = error.code, error.read(), error.headers.get("Content-Type", "")
        except OSError:
            self._reply(502, {"message": "Bad Gateway"}, self.path)
            return
        with self.grafana.state.lock:
            self.grafana.state.requests.append(("GET", self.path.split("?")[0], status))
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reply(self, status: int, payload: Any, path: str) -> None:
        with self.grafana.state.lock:
            self.grafana.state.requests.append((self.command, path, status))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _abort(self) -> None:
        """Close the connection without a response, as a crashing proxy or a dropped link would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # http.server dispatches on these names.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        """Quiet; requests are recorded in state.requests."""
