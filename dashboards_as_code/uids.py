"""What Grafana accepts as a uid, in one place (dashboards, datasources, folders).

The same rule guards every request path that names a uid: a uid is checked here before it becomes
part of a URL, so `../../admin/settings` or `x?orgId=2` can never reach another endpoint.
"""

from __future__ import annotations

import re

GRAFANA_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
"""Grafana's own rule: "uid contains illegal characters" / "uid too long, max 40 characters"."""
UID_RULE = "a uid is 1 to 40 letters, digits, '-' or '_'"


class UnsafeUidError(ValueError):
    """A uid that breaks Grafana's rule and so may not be put into a request path."""


def url_uid_problem(uid: str) -> str | None:
    """Why `uid` breaks Grafana's uid rule (and may not go into a URL), or None."""
    if not uid:
        return f"the uid is empty ({UID_RULE})"
    if len(uid) > 40:
        return f"uid {uid!r} is {len(uid)} characters; Grafana allows at most 40 ({UID_RULE})"
    if not GRAFANA_UID.fullmatch(uid):
        return f"uid {uid!r} may only contain letters, digits, '-' and '_' ({UID_RULE})"
    return None


def path_uid(uid: str) -> str:
    """`uid`, checked before it is put into a request path; raises UnsafeUidError otherwise."""
    problem = url_uid_problem(uid)
    if problem:
        raise UnsafeUidError(f"{problem}; not sent to Grafana")
    return uid


def uid_problem(uid: str) -> str | None:
    """Why Grafana would reject `uid` for an object we create, or None if it accepts it."""
    problem = url_uid_problem(uid)
    if problem:
        return problem
    if uid == "general":
        return "uid 'general' is reserved by Grafana for the root folder"
    return None


def accepted_uid(uid: str) -> str:
    """`uid` if Grafana accepts it for an object we create; a ValueError (a pydantic validator's
    finding) saying why not."""
    problem = uid_problem(uid)
    if problem:
        raise ValueError(problem)
    return uid


def uid_key(uid: str) -> str:
    """uids Grafana may treat as one. On MySQL its tables use the utf8mb4_unicode_ci collation, which
    ignores case, so the unique index on (org_id, uid) of `dashboard`, `folder` and `data_source` sees
    `Overview` and `overview` as one uid: the second push collides with the first. On SQLite and
    PostgreSQL they are two objects, so such definitions would work or fail depending on Grafana's
    database; they are refused everywhere."""
    return uid.lower()
