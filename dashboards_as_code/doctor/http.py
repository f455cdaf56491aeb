"""One bounded, read-only GET against a datasource, straight or through Grafana's datasource proxy.

The standard library's client is enough for a handful of GETs, and keeps `doctor` free of the
Grafana client's retries: a dead datasource should cost one timeout, not a backoff schedule. Every
failure becomes a `SourceError` with a stable cause code, so a panel's report can say "unreachable"
instead of dumping a traceback; credentials are sent in headers and never appear in a message.

Two things a hostile or broken server can do are stopped here, in the one place every request
passes:
- Time: urllib's timeout bounds each socket operation, so a server that trickles a byte a second
  never trips it. Here every read (status line, headers, body) gets only the time left before one
  deadline, `timeout` seconds after the request started.
- Shape: every answer is validated against the pydantic model its caller names (`Answer`) before
  anyone reads it, so a `"data": null` or a label that is a number is one `bad-answer` message
  naming the endpoint, never a `TypeError` deep inside a diagnosis.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import TypeAdapter, ValidationError

from dashboards_as_code.doctor.causes import CauseCode

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

Params = Mapping[str, str | Sequence[str]]
T = TypeVar("T")

CHUNK = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
"""Bytes an answer may have: far above any real label or query answer, far below the machine's memory."""
MAX_SHOWN = 300
"""Characters of a server's own error message kept in ours."""


class SourceError(Exception):
    """The datasource could not answer: `code` is unreachable, unauthorized, not-prometheus, not-loki,
    bad-answer or query-error; `detail` names the URL (never a credential)."""

    def __init__(self, code: CauseCode, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Answer(Generic[T]):
    """What one API path answers in its `data` member: the model to validate it, the shape in words."""

    model: TypeAdapter[T]
    shape: str
    """For messages: "an object with resultType and result"."""


def null_as_empty(value: object) -> object:
    """For list answers: some versions write an empty list as `null`; both mean "none"."""
    return [] if value is None else value


def _left(deadline: float) -> float:
    """Seconds left before `deadline`; TimeoutError once it has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("deadline passed")
    return remaining


class _DeadlineReader(io.RawIOBase):
    """Reads a socket, each read allowed only the time left before the request's deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock, self._deadline = sock, deadline
        self._inner = sock.makefile("rb", buffering=0)  # keeps the socket open as long as we read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int | None:
        self._sock.settimeout(_left(self._deadline))
        return self._inner.readinto(buffer)

    def close(self) -> None:
        self._inner.close()
        super().close()


class _DeadlineSocket:
    """A connected socket as http.client sees it, whose reads and writes share one deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock, self._deadline = sock, deadline

    def makefile(self, *_: object, **__: object) -> io.BufferedReader:
        """http.client reads its socket only through `makefile("rb")`: the response, headers first."""
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(_left(self._deadline))
        self._sock.sendall(data)

    def close(self) -> None:
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _BoundedHTTP(http.client.HTTPConnection):
    """An HTTP connection whose connect, send and every read end at `deadline` (time.monotonic)."""

    def __init__(self, host: str, *, deadline: float, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self.deadline = deadline

    def connect(self) -> None:
        self.timeout = _left(self.deadline)
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self.deadline)


class _BoundedHTTPS(_BoundedHTTP, http.client.HTTPSConnection):
    """The same over TLS: HTTPSConnection.connect wraps the socket first, then it gets the deadline."""


class _BoundedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: float) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(partial(_BoundedHTTP, deadline=self.deadline), req)


class _BoundedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(context=self.tls)
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(partial(_BoundedHTTPS, deadline=self.deadline), req, context=self.tls)


class _Readable(Protocol):
    def read(self, amount: int, /) -> bytes: ...


def _read_all(response: _Readable) -> bytes:
    """The body, in chunks: each read is bounded by the deadline, the whole by MAX_BODY."""
    chunks, size = [], 0
    while chunk := response.read(CHUNK):
        size += len(chunk)
        if size > MAX_BODY:
            raise ValueError(f"answer larger than {MAX_BODY // (1024 * 1024)} MiB")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class Endpoint:
    """A datasource's API root: `http://prometheus:9090`, or `<grafana>/api/datasources/proxy/uid/<uid>`."""

    base_url: str
    kind: str
    """"prometheus" or "loki": names the cause when the answer is not that API's JSON."""
    timeout: float
    """Seconds for one whole request: connect, send, status line, headers and body together."""
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
        return self.at("")

    def at(self, path: str) -> str:
        """The URL of `path` for messages (no query string, no credential), and how it is reached."""
        return f"{self.base_url}{path} ({self.via})" if self.via else f"{self.base_url}{path}"

    def get(self, path: str, answer: Answer[T], params: Params | None = None) -> T:
        """The `data` member of a Prometheus or Loki API answer, validated as `answer` says.

        The whole exchange ends within `timeout` seconds; any failure is a SourceError naming the URL.
        """
        query = urllib.parse.urlencode(params or {}, doseq=True)
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, headers={"Accept": "application/json", **self.headers})
        deadline = time.monotonic() + self.timeout
        opener = urllib.request.build_opener(_BoundedHTTPHandler(deadline), _BoundedHTTPSHandler(deadline))
        try:
            with opener.open(request) as response:
                body = _read_all(response)
                if getattr(response, "length", None):  # bytes announced by Content-Length, never sent
                    raise http.client.IncompleteRead(body, response.length)
        except urllib.error.HTTPError as error:
            raise self._http_error(path, error) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
            raise self._transport_error(path, error) from None
        return self._decode(path, body, answer)

    def _transport_error(self, path: str, error: Exception) -> SourceError:
        """Why no complete HTTP answer came: too slow, refused, cut short, or not HTTP at all."""
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        if isinstance(reason, TimeoutError):
            return SourceError(
                CauseCode.UNREACHABLE,
                f"{self.at(path)}: no answer within {self.timeout:g} s (the whole request, body included)",
            )
        if isinstance(reason, http.client.IncompleteRead):
            return SourceError(
                CauseCode.UNREACHABLE,
                f"{self.at(path)}: the answer broke off after {len(reason.partial)} bytes",
            )
        if isinstance(reason, http.client.RemoteDisconnected):
            return SourceError(
                CauseCode.UNREACHABLE, f"{self.at(path)}: closed the connection without answering"
            )
        if isinstance(reason, http.client.HTTPException):
            return SourceError(
                self.not_this_api(),
                f"{self.at(path)}: the service on this port does not speak HTTP ({type(reason).__name__})",
            )
        if isinstance(reason, ValueError):
            return SourceError(CauseCode.BAD_ANSWER, f"{self.at(path)}: {reason}")
        return SourceError(
            CauseCode.UNREACHABLE,
            f"{self.shown}: cannot connect ({getattr(reason, 'strerror', None) or reason})",
        )

    def _decode(self, path: str, body: bytes, answer: Answer[T]) -> T:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            document = None
        if not isinstance(document, dict) or document.get("status") not in ("success", "error"):
            raise SourceError(self.not_this_api(), f"{self.at(path)} did not answer as the {self.kind} API")
        if document["status"] == "error":
            message = _shorten(str(document.get("error") or "error"))
            raise SourceError(CauseCode.QUERY_ERROR, f"{self.at(path)}: {self.kind} says: {message}")
        if "data" not in document:
            raise SourceError(
                CauseCode.BAD_ANSWER, f"{self.at(path)}: `data` is missing, expected {answer.shape}"
            )
        try:
            return answer.model.validate_python(document["data"])
        except ValidationError as error:
            raise SourceError(
                CauseCode.BAD_ANSWER, f"{self.at(path)}: {_problem(error, answer.shape, document['data'])}"
            ) from None

    def not_this_api(self) -> CauseCode:
        return CauseCode.NOT_PROMETHEUS if self.kind == "prometheus" else CauseCode.NOT_LOKI

    def _http_error(self, path: str, error: urllib.error.HTTPError) -> SourceError:
        if error.code in (401, 403):
            who = "Grafana" if self.via else self.kind.capitalize()
            return SourceError(
                CauseCode.UNAUTHORIZED,
                f"{self.shown}: {who} refused the credentials (HTTP {error.code})",
            )
        try:
            message = _error_message(_read_all(error))
        except (OSError, http.client.HTTPException, ValueError):
            message = None  # the status says enough; a broken error body does not hide it
        if error.code in (400, 422) and message:
            return SourceError(CauseCode.QUERY_ERROR, f"{self.at(path)}: {self.kind} says: {message}")
        if error.code == 404:
            return SourceError(
                self.not_this_api(),
                f"{self.at(path)}: HTTP 404"
                + (f" ({message})" if message else "")
                + f": not a {self.kind} API root",
            )
        return SourceError(CauseCode.UNREACHABLE, f"{self.at(path)}: HTTP {error.code}")


def _shorten(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def _error_message(body: bytes) -> str | None:
    """Prometheus answers errors in JSON (`error`), Grafana too (`message`), Loki in plain text."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return _shorten(body.decode("utf-8", "replace")) or None
    if isinstance(document, dict):
        return _shorten(str(document.get("error") or document.get("message") or "")) or None
    return None


def _kind_of(value: object) -> str:
    names = {type(None): "null", dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _where(loc: tuple[int | str, ...], data: object) -> str:
    """`data.result[0].value` for a pydantic error location; union tags (`vector`) are left out."""
    where, node = "data", data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            where, node = f"{where}[{part}]", node[part]
        elif isinstance(node, dict) and part in node:
            where, node = f"{where}.{part}", node[part]
        elif isinstance(node, dict) and part not in node.values():  # not a union tag: a missing key
            where, node = f"{where}.{part}", None
        # else: a union's tag or member name (`vector`, `float`), not a place in the answer
    return where


def _problem(error: ValidationError, shape: str, data: object) -> str:
    """The first thing wrong with an answer, in one line: where in `data`, what was found, what was due."""
    problems = error.errors(include_url=False)
    first = problems[0]
    where = _where(tuple(first["loc"]), data)
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    found, context = first.get("input"), first.get("ctx") or {}
    if first["type"] == "union_tag_invalid":
        tag, expected = context.get("tag"), context.get("expected_tags")
        field = str(context.get("discriminator", "")).strip("'")
        return f"`{where}.{field}` is {_shorten(repr(tag))}, expected one of {expected}{more}"
    if first["type"] == "union_tag_not_found":
        return f"`{where}.{str(context.get('discriminator', '')).strip(chr(39))}` is missing{more}"
    if first["type"] == "missing":
        return f"`{where}` is missing{more}"
    if where == "data":
        return f"`data` is {_kind_of(found)}, expected {shape}{more}"
    shown = _kind_of(found) if isinstance(found, dict | list) or found is None else _shorten(repr(found))
    return f"`{where}`: {first['msg'][:1].lower()}{first['msg'][1:]}, got {shown}{more}"
