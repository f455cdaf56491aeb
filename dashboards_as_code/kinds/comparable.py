"""What is compared between code and Grafana, and every field dropped before the comparison, with why.

Live objects carry fields Grafana fills in (ids, save counters, plugin metadata); comparing them
would make every push an update. Each dropped field is listed here with its reason, so a reviewer
can see exactly what a diff cannot show.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from dashboards_as_code.defaults import MANAGED_TAG, OWNER_TAG_PREFIX

PUSH_MARKER_PREFIX = "dac-sha256:"
"""Tag holding the hash of the content we pushed: live content with another hash was edited in Grafana."""
OWNER_MARKER_PREFIX = OWNER_TAG_PREFIX
"""Tag naming the project that pushed the dashboard (`dac-project:<name>`): prune deletes only its own."""
MARKER_PREFIXES = (PUSH_MARKER_PREFIX, OWNER_MARKER_PREFIX)
DATASOURCE_MARKER = "dashboardsAsCodeSha256"
"""jsonData key with the same role for datasources (Grafana keeps unknown jsonData keys)."""
DATASOURCE_OWNER_MARKER = "dashboardsAsCodeProject"
"""jsonData key naming the project that pushed the datasource."""
DATASOURCE_MARKERS = (DATASOURCE_MARKER, DATASOURCE_OWNER_MARKER)
DATASOURCE_WRITE_ONLY_MARKER = "dashboardsAsCodeWriteOnlySha256"
"""jsonData key holding a hash of the datasource's write-only values (`secureJsonData`: the headers of
`Datasource.http_headers`, Cortex's tenant among them). Grafana never gives those values back, so
without it a changed value would compare equal and never be pushed. Compared like any jsonData key."""

DASHBOARD_IGNORED_FIELDS = {
    "id": "database id, assigned per Grafana instance",
    "version": "Grafana's save counter, bumped on every save (used as the optimistic lock instead)",
    "iteration": "a save timestamp old Grafana versions add",
    f"tags[{PUSH_MARKER_PREFIX}*]": "our push marker; compared separately to detect edits made in Grafana",
    f"tags[{OWNER_MARKER_PREFIX}*]": "our owner marker (the project that pushed it); read by prune",
}
_DASHBOARD_DROPPED_KEYS = frozenset(name for name in DASHBOARD_IGNORED_FIELDS if "[" not in name)
"""The top-level keys of the table above: the code drops exactly what the table documents."""
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
    f"jsonData.{DATASOURCE_OWNER_MARKER}": "our owner marker: the project that pushed it",
}
DATASOURCE_PROVISIONING_ONLY_FIELDS = {
    "editable": "a provisioning-file option; the API has no such field",
    "version": "a provisioning-file option; Grafana keeps its own counter",
    "correlations": "the correlations whose source it is, provisioned in its entry but compared as their "
    "own kind (kinds/correlation.py)",
}


@dataclass(frozen=True)
class Markers:
    """What our last push recorded on a live object, read back: the content hash and the owning project.

    `None` means no (or no single) marker: an object we never pushed, or pushed by a version of
    dashboards-as-code older than the owner marker (owner unknown).
    """

    sha: str | None = None
    owner: str | None = None


def _single(values: list[str]) -> str | None:
    """The one value a marker holds; none, an empty one or two different ones say nothing reliable."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 and "" not in distinct else None


def content_sha(document: dict[str, Any]) -> str:
    """A short, stable hash of a normalised document."""
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]


def comparable_dashboard(document: dict[str, Any]) -> dict[str, Any]:
    """A dashboard without the fields in DASHBOARD_IGNORED_FIELDS: the form both sides are compared in."""
    comparable = {key: value for key, value in document.items() if key not in _DASHBOARD_DROPPED_KEYS}
    tags = [str(t) for t in comparable.get("tags", []) or []]
    comparable["tags"] = [t for t in tags if not t.startswith(MARKER_PREFIXES)]
    return comparable


def _tag_values(tags: list[str], prefix: str) -> list[str]:
    return [t.removeprefix(prefix) for t in tags if t.startswith(prefix)]


def split_dashboard(live: dict[str, Any]) -> tuple[dict[str, Any], Markers]:
    """A live dashboard in the compared form, and what our last push recorded on it."""
    tags = [str(t) for t in live.get("tags", []) or []]
    markers = Markers(
        sha=_single(_tag_values(tags, PUSH_MARKER_PREFIX)),
        owner=_single(_tag_values(tags, OWNER_MARKER_PREFIX)),
    )
    return comparable_dashboard(live), markers


def is_managed_dashboard(document: dict[str, Any]) -> bool:
    return MANAGED_TAG in (document.get("tags") or [])


def mark_dashboard(document: dict[str, Any], owner: str) -> dict[str, Any]:
    """The dashboard body to push: the desired document plus the hash of that document and its owner."""
    tags = [
        *document.get("tags", []),
        f"{PUSH_MARKER_PREFIX}{content_sha(document)}",
        f"{OWNER_MARKER_PREFIX}{owner}",
    ]
    return {**document, "tags": tags}


def _json_marker(json_data: dict[str, Any], key: str) -> str | None:
    value = json_data.pop(key, None)
    return _single([str(value)]) if value is not None else None


def split_datasource(live: dict[str, Any]) -> tuple[dict[str, Any], Markers]:
    """A live datasource in the compared form, and what our last push recorded in its jsonData."""
    json_data = dict(live.get("jsonData") or {})
    markers = Markers(
        sha=_json_marker(json_data, DATASOURCE_MARKER), owner=_json_marker(json_data, DATASOURCE_OWNER_MARKER)
    )
    document = {
        key: value
        for key, value in live.items()
        if key not in DATASOURCE_IGNORED_FIELDS and key != "jsonData"
    }
    document["jsonData"] = json_data
    return document, markers


def desired_datasource(provisioning_entry: dict[str, Any]) -> dict[str, Any]:
    """A datasource's provisioning entry in the compared (API) form: its write-only values replaced by
    their hash in jsonData (what Grafana gives back of a datasource never holds them)."""
    compared = {
        k: v
        for k, v in provisioning_entry.items()
        if k not in DATASOURCE_PROVISIONING_ONLY_FIELDS and k != "secureJsonData"
    }
    write_only = provisioning_entry.get("secureJsonData")
    if write_only:
        json_data = {**compared.get("jsonData", {}), DATASOURCE_WRITE_ONLY_MARKER: content_sha(write_only)}
        compared["jsonData"] = json_data
    return compared


def datasource_write_only(provisioning_entry: dict[str, Any]) -> dict[str, Any]:
    """What a push must send beyond the compared form: the write-only values themselves."""
    write_only = provisioning_entry.get("secureJsonData")
    return {"secureJsonData": write_only} if write_only else {}


def mark_datasource(document: dict[str, Any], owner: str) -> dict[str, Any]:
    """The datasource body to push: the desired document plus its hash and owner in jsonData."""
    json_data = {
        **document.get("jsonData", {}),
        DATASOURCE_MARKER: content_sha(document),
        DATASOURCE_OWNER_MARKER: owner,
    }
    return {**document, "jsonData": json_data}
