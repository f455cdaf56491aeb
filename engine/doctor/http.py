"""One bounded, read-only GET against a datasource, straight or through Grafana's datasource proxy.

The standard library's client is enough for a handful of GETs, and keeps `doctor` free of the
Grafana client's retries: a dead datasource should cost one timeout, not a backoff schedule. Every
failure becomes a `SourceError` with a stable cause code, so a panel's report can say "unreachable"
instead of dumping a traceback; credentials are sent in headers and never appear in a message.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.doctor.causes import CauseCode

Params = Mapping[str, str | Sequence[str]]


class SourceError(Exception):
    """The datasource could not answer: `code` is unreachable, unauthorized, not-prometheus, not-loki or
    query-error; `detail` names the URL (never a credential)."""

    def __init__(self, code: CauseCode, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Endpoint:
    """A datasource's API root: `http://prometheus:9090`, or `<grafana>/api/datasources/proxy/uid/<uid>`."""

    base_url: str
    kind: str
    """"prometheus" or "loki": names the cause when the answer is not that API's JSON."""
    timeout: float
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    via: str = ""
    """How it is reached, for messages: "" (directly) or "through Grafana"."""

    @classmethod
    def through_grafana(
        cls, grafana_url: str, uid: str, kind: str, timeout: float, credential: str | tuple[str, str]
    ) -> Endpoint:
        if isinstance(credential, tuple):
            token = base64.b64encode(f"{credential[0]}:{credential[1]}".encode()).decode()
            header = f"Basic {token}"
        else:
            header = f"Bearer {credential}"
        quoted = urllib.parse.quote(uid, safe="")
        return cls(
            f"{grafana_url}/api/datasources/proxy/uid/{quoted}",
            kind,
            timeout,
            {"Authorization": header},
            via="through Grafana",
        )

    @property
    def shown(self) -> str:
        return f"{self.base_url} ({self.via})" if self.via else self.base_url

    def get(self, path: str, params: Params | None = None) -> Any:
        """The decoded JSON body; for Prometheus and Loki APIs, their `data` member."""
        query = urllib.parse.urlencode(params or {}, doseq=True)
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, headers={"Accept": "application/json", **self.headers})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            raise self._http_error(path, error) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                detail = f"{self.shown}: no answer within {self.timeout:g} s"
            else:
                detail = f"{self.shown}: cannot connect ({getattr(reason, 'strerror', None) or reason})"
            raise SourceError(CauseCode.UNREACHABLE, detail) from None
        return self._decode(path, body)

    def _decode(self, path: str, body: bytes) -> Any:
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if not isinstance(document, dict) or document.get("status") not in ("success", "error"):
            raise SourceError(
                self.not_this_api(), f"{self.shown}{path} did not answer as the {self.kind} API"
            )
        if document["status"] == "error":
            raise SourceError(CauseCode.QUERY_ERROR, f"{self.kind}: {document.get('error', 'error')}")
        return document.get("data")

    def not_this_api(self) -> CauseCode:
        return CauseCode.NOT_PROMETHEUS if self.kind == "prometheus" else CauseCode.NOT_LOKI

    def _http_error(self, path: str, error: urllib.error.HTTPError) -> SourceError:
        if error.code in (401, 403):
            who = "Grafana" if self.via else self.kind.capitalize()
            return SourceError(
                CauseCode.UNAUTHORIZED,
                f"{self.shown}: {who} refused the credentials (HTTP {error.code})",
            )
        message = _error_message(error.read())
        if error.code in (400, 422) and message:
            return SourceError(CauseCode.QUERY_ERROR, f"{self.kind}: {message}")
        if error.code == 404:
            return SourceError(
                self.not_this_api(),
                f"{self.shown}{path}: HTTP 404"
                + (f" ({message})" if message else "")
                + f": not a {self.kind} API root",
            )
        return SourceError(CauseCode.UNREACHABLE, f"{self.shown}{path}: HTTP {error.code}")


def _error_message(body: bytes) -> str | None:
    """Prometheus answers errors in JSON (`error`), Grafana too (`message`), Loki in plain text."""
    try:
        document = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace").strip()
        return text[:300] or None
    if isinstance(document, dict):
        return str(document.get("error") or document.get("message") or "") or None
    return None
