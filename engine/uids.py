"""What Grafana accepts as a uid, in one place (dashboards, datasources, folders)."""

from __future__ import annotations

import re

GRAFANA_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
"""Grafana's own rule: "uid contains illegal characters" / "uid too long, max 40 characters"."""


def uid_problem(uid: str) -> str | None:
    """Why Grafana would reject `uid`, or None if it accepts it."""
    if not uid:
        return "the uid is empty"
    if len(uid) > 40:
        return f"uid {uid!r} is {len(uid)} characters; Grafana allows at most 40"
    if not GRAFANA_UID.match(uid):
        return f"uid {uid!r} may only contain letters, digits, '-' and '_'"
    if uid == "general":
        return "uid 'general' is reserved by Grafana for the root folder"
    return None


def uid_key(uid: str) -> str:
    """uids Grafana may treat as one. On MySQL its tables use the utf8mb4_unicode_ci collation, which
    ignores case, so the unique index on (org_id, uid) of `dashboard`, `folder` and `data_source` sees
    `Overview` and `overview` as one uid: the second push collides with the first. On SQLite and
    PostgreSQL they are two objects, so such definitions would work or fail depending on Grafana's
    database; they are refused everywhere."""
    return uid.lower()
