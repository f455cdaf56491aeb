"""Which of Grafana's resource API groups (`/apis/<group>`) a server serves, asked once per run.

Grafana 12+ serves its objects as Kubernetes-style resources below `/apis` (docs/grafana-13-facts.md
§1); a kind that has such a form (dashboards, folders) asks here whether its group is served, in which
versions, and in which namespace. The answer decides which API every thread of the run uses, so:

- it is asked once per Grafana client and group, under a lock, and kept, a failure too: a thread
  asking again later could get an answer and write through the other API while the run is stopping;
- 404, or none of the versions the kind can use, means "not served" (an older Grafana, the group
  turned off, or only an alpha version): the kind keeps the legacy API;
- any other failure (a 4xx, a 5xx or a timeout past the client's retries, a proxy's page) is fatal:
  guessing could write through the wrong API.

The namespace is `namespace` in `/api/frontend/settings` (`default`, org 1, when it is absent), read
once per client, and only once a group is to be used.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from dashboards_as_code.kinds.answers import ApiGroup, BadAnswerError, parse
from dashboards_as_code.kinds.base import GrafanaHttp, HttpError, OffersResourceApi, SyncError, in_path

RESOURCE_ROOT = "/apis"
"""What the resource API's paths are below (`Grafana.resource_api()`'s base)."""
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True)
class ServedGroup:
    """One resource API group as this server serves it."""

    http: GrafanaHttp
    """The server with paths below RESOURCE_ROOT."""
    group: str
    versions: tuple[str, ...]
    namespace: str

    def first_of(self, wanted: tuple[str, ...]) -> str | None:
        """The first of `wanted` (newest first) that is served, if any."""
        return next((version for version in wanted if version in self.versions), None)

    def path(self, version: str, resource: str, name: str | None = None) -> str:
        base = f"/{self.group}/{version}/namespaces/{in_path(self.namespace)}/{resource}"
        return base if name is None else f"{base}/{in_path(name)}"


_Answer = ServedGroup | SyncError | None
_GROUPS: weakref.WeakKeyDictionary[object, dict[str, _Answer]] = weakref.WeakKeyDictionary()
_NAMESPACES: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def served_group(grafana: GrafanaHttp, group: str, what: str, usable: tuple[str, ...]) -> ServedGroup | None:
    """`group` as `grafana` serves it, or None where it serves none of the `usable` versions (or
    `grafana` cannot speak the resource API: a test double). `what` names the objects in messages
    ("dashboard", "folder"). Each group is asked with the same `usable` versions every time."""
    if not isinstance(grafana, OffersResourceApi):
        return None
    with _LOCK:
        known = _GROUPS.setdefault(grafana, {})
        if group not in known:
            try:
                known[group] = _discover(grafana, group, what, usable)
            except SyncError as error:
                known[group] = error
        found = known[group]
    if isinstance(found, SyncError):
        raise found
    return found


def _discover(grafana: GrafanaHttp, group: str, what: str, usable: tuple[str, ...]) -> ServedGroup | None:
    """`GET /apis/<group>` (a Kubernetes APIGroup: the served versions), then the namespace."""
    assert isinstance(grafana, OffersResourceApi)
    resources = grafana.resource_api()
    action = f"ask Grafana which {what} APIs it serves"
    try:
        answer = resources.read(action, f"/{group}")
    except HttpError as error:
        if error.status == 404:
            return None
        raise SyncError(f"{action}: {error.status} {error.text}", status=error.status, fatal=True) from None
    except SyncError as error:  # a 5xx or a timeout past the client's retries: as fatal as a 4xx
        raise _fatal(error) from None
    try:
        served = parse(ApiGroup, answer, grafana.url, f"{RESOURCE_ROOT}/{group}")
    except BadAnswerError as error:
        raise SyncError(f"{error} (while trying to {action})", fatal=True) from None
    versions = tuple(v.version for v in served.versions)
    if not any(version in versions for version in usable):
        return None
    return ServedGroup(resources, group, versions, _namespace(grafana))


def _namespace(grafana: GrafanaHttp) -> str:
    """Read once per client (the caller holds the lock)."""
    if grafana not in _NAMESPACES:
        try:
            settings = grafana.read("read Grafana's namespace", "/frontend/settings")
        except HttpError as error:
            raise SyncError(f"read Grafana's namespace: {error.status} {error.text}", fatal=True) from None
        except SyncError as error:
            raise _fatal(error) from None
        namespace = settings.get("namespace") if isinstance(settings, dict) else None
        _NAMESPACES[grafana] = namespace if isinstance(namespace, str) and namespace else DEFAULT_NAMESPACE
    return _NAMESPACES[grafana]


def _fatal(error: SyncError) -> SyncError:
    """`error` as a failure that stops the run: its message, status and answer kept."""
    if error.fatal:
        return error
    return SyncError(str(error), status=error.status, fatal=True, answer=error.answer)
