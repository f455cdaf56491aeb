"""What is compared between code and Grafana, and every field dropped before the comparison, with why.

Live objects carry fields Grafana fills in (ids, save counters, plugin metadata); comparing them
would make every push an update. Each dropped field is listed here with its reason, so a reviewer
can see exactly what a diff cannot show.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.defaults import MANAGED_TAG

PUSH_MARKER_PREFIX = "dac-sha256:"
"""Tag holding the hash of the content we pushed: live content with another hash was edited in Grafana."""
DATASOURCE_MARKER = "dashboardsAsCodeSha256"
"""jsonData key with the same role for datasources (Grafana keeps unknown jsonData keys)."""

DASHBOARD_IGNORED_FIELDS = {
    "id": "database id, assigned per Grafana instance",
    "version": "Grafana's save counter, bumped on every save (used as the optimistic lock instead)",
    "iteration": "a save timestamp old Grafana versions add",
    f"tags[{PUSH_MARKER_PREFIX}*]": "our push marker; compared separately to detect edits made in Grafana",
}
DATASOURCE_IGNORED_FIELDS = {
    "id": "database id, assigned per Grafana instance",
    "orgId": "the organisation of the API credentials",
    "version": "Grafana's save counter",
    "typeName": "display name of the plugin, filled by Grafana",
    "typeLogoUrl": "plugin logo, filled by Grafana",
    "readOnly": "true only for file-provisioned datasources, which push skips",
    "basicAuth": "not used by these datasources (Grafana reports false)",
    "basicAuthUser": "not used by these datasources",
    "withCredentials": "not used by these datasources (Grafana reports false)",
    "user": "not used by these datasources",
    "database": "not used by these datasources",
    "secureJsonFields": "which secrets are set, never their values",
    "apiVersion": "API metadata of newer Grafana versions",
    f"jsonData.{DATASOURCE_MARKER}": "our push marker",
}
DATASOURCE_PROVISIONING_ONLY_FIELDS = {
    "editable": "a provisioning-file option; the API has no such field",
    "version": "a provisioning-file option; Grafana keeps its own counter",
}


def content_sha(document: dict[str, Any]) -> str:
    """A short, stable hash of a normalised document."""
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]


def comparable_dashboard(document: dict[str, Any]) -> dict[str, Any]:
    """A dashboard without the fields in DASHBOARD_IGNORED_FIELDS: the form both sides are compared in."""
    comparable = {key: value for key, value in document.items() if key not in ("id", "version", "iteration")}
    tags = [str(t) for t in comparable.get("tags", []) or []]
    comparable["tags"] = [t for t in tags if not t.startswith(PUSH_MARKER_PREFIX)]
    return comparable


def split_dashboard(live: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A live dashboard in the compared form, and the content hash our last push recorded (if any)."""
    tags = [str(t) for t in live.get("tags", []) or []]
    markers = [t.removeprefix(PUSH_MARKER_PREFIX) for t in tags if t.startswith(PUSH_MARKER_PREFIX)]
    return comparable_dashboard(live), (markers[0] if markers else None)


def is_managed_dashboard(document: dict[str, Any]) -> bool:
    return MANAGED_TAG in (document.get("tags") or [])


def mark_dashboard(document: dict[str, Any]) -> dict[str, Any]:
    """The dashboard body to push: the desired document plus the hash of that document."""
    tags = [*document.get("tags", []), f"{PUSH_MARKER_PREFIX}{content_sha(document)}"]
    return {**document, "tags": tags}


def split_datasource(live: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    json_data = dict(live.get("jsonData") or {})
    marker = json_data.pop(DATASOURCE_MARKER, None)
    document = {
        key: value
        for key, value in live.items()
        if key not in DATASOURCE_IGNORED_FIELDS and key != "jsonData"
    }
    document["jsonData"] = json_data
    return document, (str(marker) if marker is not None else None)


def desired_datasource(provisioning_entry: dict[str, Any]) -> dict[str, Any]:
    """A datasource's provisioning entry in the compared (API) form."""
    return {k: v for k, v in provisioning_entry.items() if k not in DATASOURCE_PROVISIONING_ONLY_FIELDS}


def mark_datasource(document: dict[str, Any]) -> dict[str, Any]:
    json_data = {**document.get("jsonData", {}), DATASOURCE_MARKER: content_sha(document)}
    return {**document, "jsonData": json_data}
