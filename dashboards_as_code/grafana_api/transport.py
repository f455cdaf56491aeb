"""The one HTTP session every request to Grafana goes through: a total deadline and answers checked.

niquests' timeout bounds each socket read, not a request: a server that sends its headers and then
one byte a second keeps a plain request busy for as long as it likes. `DeadlineSession` streams the
body itself, a chunk at a time, and gives up when the request's deadline passes, so a request takes
at most its timeout (plus the time one pending read may already have been granted, which is cut to
what is left before each read).

It also refuses what an API client must not take for an answer, before grafana-client looks at it:
a redirect (an authenticating proxy's login page is never followed), 429 (the caller waits and
retries), an HTML page, an empty or non-JSON body where JSON is expected, and a body cut short.
Each becomes an `AnswerError` naming the endpoint; `Grafana.call` turns it into a message.
"""

from __future__ import annotations

import json
import socket
import time
from contextlib import suppress
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import niquests
from urllib3.exceptions import HTTPError as Urllib3Error

CHUNK = 64 * 1024


class AnswerError(Exception):
    """The exchange with `path` gave nothing usable; `what` says what came back instead (no server text)."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path}: {what}")
        self.path = path
        self.what = what


class DeadlineExceededError(AnswerError):
    """The answer did not arrive whole within the request's time."""


class BodyCutShortError(AnswerError):
    """The connection dropped in the middle of the body (a truncated answer): worth one more try."""


class RedirectedError(AnswerError):
    """A 3xx: Grafana's API never redirects, so something in front of it (a login proxy) did."""

    def __init__(self, path: str, status: int, location: str) -> None:
        super().__init__(path, f"a {status} redirect to {location or 'nowhere'}")
        self.location = location


class RateLimitedError(AnswerError):
    """A 429; `retry_after` is the wait the server asked for (None when it named none)."""

    def __init__(self, path: str, retry_after: float | None) -> None:
        super().__init__(path, "429 Too Many Requests")
        self.retry_after = retry_after


class NotJsonError(AnswerError):
    """A 2xx whose body is not JSON. `html` marks a web page: a proxy or another server answered."""

    def __init__(self, path: str, what: str, *, html: bool = False) -> None:
        super().__init__(path, what)
        self.html = html


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The wait a `Retry-After` header asks for (seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class DeadlineSession(niquests.Session):
    """A niquests session whose every request ends by `min(timeout, deadline - now)` seconds.

    `deadline` (a `time.monotonic()` instant) is set by `Grafana.call` for the whole call, retries
    included; `timeout` bounds one request.
    """

    def __init__(self, timeout: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.request_timeout = timeout
        self.deadline: float | None = None

    def _budget(self, path: str) -> float:
        budget = self.request_timeout
        if self.deadline is not None:
            budget = min(budget, self.deadline - time.monotonic())
        if budget <= 0:
            raise DeadlineExceededError(path, "no time left for another request")
        return budget

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> niquests.Response:
        """Send, read the whole body before the deadline, and refuse what no API answer looks like."""
        path = urlsplit(url).path
        budget = self._budget(path)
        ends = time.monotonic() + budget
        kwargs.update(
            stream=True,
            allow_redirects=False,
            timeout=niquests.TimeoutConfiguration(connect=budget, read=budget),
        )
        response = super().request(method, url, *args, **kwargs)
        try:
            response._content = _read_body(response, ends, path, budget)
        finally:
            response.close()
        response._content_consumed = True
        _check(response, path)
        return response


def _read_body(response: niquests.Response, ends: float, path: str, budget: float) -> bytes:
    """The body, read a chunk at a time; each read may wait only for what is left of the budget."""
    raw: Any = response.raw
    if raw is None:
        return b""
    sock = _socket(raw)
    pooled_timeout = sock.gettimeout() if sock is not None else None
    chunks: list[bytes] = []
    try:
        while True:
            left = ends - time.monotonic()
            if left <= 0:
                raise DeadlineExceededError(path, f"the answer was not complete after {budget:g} s")
            if sock is not None:
                sock.settimeout(max(0.01, left))
            try:
                chunk: bytes = raw.read1(CHUNK, decode_content=True)
            except (Urllib3Error, niquests.exceptions.RequestException, OSError) as error:
                if time.monotonic() >= ends:
                    raise DeadlineExceededError(
                        path, f"the answer was not complete after {budget:g} s"
                    ) from None
                raise BodyCutShortError(path, f"the answer was cut short ({type(error).__name__})") from None
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        if sock is not None:
            with suppress(OSError):  # the connection goes back to the pool as it came
                sock.settimeout(pooled_timeout)


def _socket(raw: Any) -> socket.socket | None:
    """The response's socket, to cut each read to the time left (None where the backend hides it)."""
    connection = getattr(raw, "_connection", None) or getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _check(response: niquests.Response, path: str) -> None:
    status = response.status_code or 0
    if 300 <= status < 400:
        raise RedirectedError(path, status, response.headers.get("Location", ""))
    if status == 429:
        raise RateLimitedError(path, retry_after_seconds(response.headers.get("Retry-After")))
    if not 200 <= status < 300 or status == 204:
        return  # errors are grafana-client's to read (it raises GrafanaClientError and friends)
    content_type = response.headers.get("Content-Type", "").lower()
    body = response.content or b""
    if "html" in content_type or body.lstrip()[:1] == b"<":
        raise NotJsonError(path, "an HTML page", html=True)
    if not body.strip():
        raise NotJsonError(path, f"an empty body ({status})")
    try:
        json.loads(body)
    except ValueError:
        raise NotJsonError(path, f"a body that is not JSON ({status}, {len(body)} bytes)") from None
