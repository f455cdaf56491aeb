"""Cortex's ruler API, as `push-rules` uses it: list a namespace, set a group, delete a group.

Every request carries the environment's tenant (`X-Scope-OrgID`); bodies are Prometheus rule YAML,
one group per request. Each failure becomes a `RulerError` naming the ruler and the group: one the
whole run cannot go on after (no ruler at the URL, the API switched off, an answer that is not the
ruler's) is fatal; a group the ruler refuses (its validation, a limit) fails that group only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import niquests
import yaml

from dashboards_as_code.definitions.metrics_engine import TENANT_HEADER
from dashboards_as_code.kinds.base import SyncError
from dashboards_as_code.text import printable

RULES_PATH = "/api/v1/rules"
NO_GROUPS = "no rule groups found"
"""Cortex's 404 text for a namespace without groups (an empty namespace, not a missing API)."""
START_SCALED_STACK = (
    "start the scaled stack (`docker compose -f docker-compose.observability.yml -f docker-compose.scale.yml "
    "up -d` in monitoring/) or set RULER_URL to Cortex's HTTP address"
)


class RulerError(SyncError):
    """A ruler request that failed, with a message naming the ruler (and the group, for a write)."""


class Ruler:
    """One Cortex ruler, one tenant. `timeout` bounds each connect and each read, in seconds."""

    def __init__(self, url: str, tenant: str, timeout: float) -> None:
        self.url, self.tenant, self.timeout = url.rstrip("/"), tenant, timeout
        self.reads = self.writes = 0
        self._session = niquests.Session()

    def _request(self, method: str, path: str, what: str, body: bytes | None = None) -> niquests.Response:
        headers = {TENANT_HEADER: self.tenant}
        if body is not None:
            headers["Content-Type"] = "application/yaml"
        try:
            response = self._session.request(
                method,
                f"{self.url}{path}",
                data=body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except niquests.exceptions.RequestException as error:
            reason = printable(str(error), limit=200)
            raise RulerError(
                f"{what}: Cortex's ruler at {self.url} does not answer ({reason}); {START_SCALED_STACK}",
                fatal=True,
            ) from None
        if method == "GET":
            self.reads += 1
        else:
            self.writes += 1
        return response

    def namespace(self, namespace: str) -> list[dict[str, Any]]:
        """The groups the ruler holds in `namespace` for this tenant, as it answers them (none: [])."""
        what = f"list namespace {namespace!r}"
        response = self._request("GET", f"{RULES_PATH}/{_segment(namespace)}", what)
        text = response.text or ""
        if response.status_code == 404 and NO_GROUPS in text:
            return []
        if response.status_code != 200:
            raise self._refused(what, response, fatal=True)
        try:
            answer = yaml.safe_load(text)
        except yaml.YAMLError:
            answer = None
        groups = answer.get(namespace) if isinstance(answer, dict) else None
        if not isinstance(groups, list) or not all(isinstance(g, dict) and "name" in g for g in groups):
            raise RulerError(
                f"{what}: {self.url}{RULES_PATH} answered something that is not Cortex's rule YAML "
                f"({printable(text, limit=200)!r}); is RULER_URL Cortex's HTTP address?",
                fatal=True,
            )
        return groups

    def set_group(self, namespace: str, group: dict[str, Any]) -> None:
        """Create or replace one group (the API's unit); 202 means stored."""
        what = f"write rule group {group.get('name')!r}"
        body = yaml.safe_dump(group, sort_keys=False, allow_unicode=True).encode()
        response = self._request("POST", f"{RULES_PATH}/{_segment(namespace)}", what, body)
        if response.status_code != 202:
            raise self._refused(what, response, fatal=(response.status_code or 0) >= 500)

    def delete_group(self, namespace: str, name: str) -> None:
        """Delete one group; one already gone is not an error."""
        what = f"delete rule group {name!r}"
        response = self._request("DELETE", f"{RULES_PATH}/{_segment(namespace)}/{_segment(name)}", what)
        if response.status_code not in (202, 404):
            raise self._refused(what, response, fatal=(response.status_code or 0) >= 500)

    def _refused(self, what: str, response: niquests.Response, *, fatal: bool) -> RulerError:
        status = response.status_code or 0
        text = printable((response.text or "").strip(), limit=500)
        hint = ""
        if status == 404:
            hint = " (is the ruler's API on: `ruler.enable_api: true`, and RULER_URL Cortex's HTTP address?)"
        elif status in (401, 403):
            hint = " (Cortex has no login of its own: a proxy in front of it refused; see RULER_URL)"
        return RulerError(
            f"{what}: the ruler at {self.url} answered {status}: {text}{hint}", status=status, fatal=fatal
        )


def _segment(name: str) -> str:
    """A namespace or group name as one path segment (Cortex reads its routes from the encoded path)."""
    return quote(name, safe="")
