"""Datasources that misbehave, for `doctor`'s bad-input tests: each is a small local server.

- `fake_prometheus` (and `fake_loki`): valid, empty answers everywhere, except the paths given in
  `answers` (a bad shape, a status error with escape sequences, ...).
- `trickling`: sends its headers, then the body one byte at a time; with `headers_too`, even the
  headers trickle. urllib's per-operation timeout never trips on either.
- `not_http`: a service on the port that is not HTTP (an SSH banner).
- `truncated`: announces a body longer than the one it sends, then closes the connection.
- `healthy_loki`: the Loki test server, seeded with error lines for every tenant.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar

from tests.doctor.stack import seed_logs
from tests.local_http import QuietHandler, serving
from tests.loki_server.server import loki_server

DEAD_URL = "http://127.0.0.1:9"
"""The discard port: nothing listens on it here, so a connection is refused at once."""
TRICKLE_FOR_S = 60.0
"""How long a trickling server keeps sending: far longer than any test waits."""

BUILD_INFO = {"version": "3.0.0", "revision": "x", "branch": "HEAD", "goVersion": "go1.23"}
HEALTHY: dict[str, Any] = {
    "/api/v1/status/buildinfo": BUILD_INFO,
    "/api/v1/query": {"resultType": "vector", "result": []},
    "/api/v1/labels": [],
    "/api/v1/label/": [],  # any label's values
    "/api/v1/query_exemplars": [],
    "/api/v1/rules": {"groups": []},
    "/api/v1/targets": {"activeTargets": [], "droppedTargets": []},
    "/api/v1/status/config": {"yaml": "global:\n  scrape_interval: 15s\n"},
    "/api/v1/status/flags": {"enable-feature": "exemplar-storage"},
}
"""`data` of each path a healthy Prometheus with no series at all would answer."""
HEALTHY_LOKI: dict[str, Any] = {
    "/loki/api/v1/labels": ["service_name"],
    "/loki/api/v1/label/": ["tiktickets-backend"],
    "/loki/api/v1/query_range": {"resultType": "streams", "result": []},
}
ONE_SAMPLE = {
    "resultType": "vector",
    "result": [{"metric": {"tenant_id": "acme"}, "value": [1700000000, "1"]}],
}
"""A query answer with data: what a panel needs before its exemplars are looked at."""


def success(data: Any) -> bytes:
    return json.dumps({"status": "success", "data": data}).encode()


def raw(document: Any) -> bytes:
    """A whole body, as given (for answers that break the envelope itself)."""
    return document if isinstance(document, bytes) else json.dumps(document).encode()


Params = Mapping[str, list[str]]
"""A request's query string as parsed: each parameter's values."""


class Reply:
    """A prepared answer: status code and body bytes; `trickle` sends the body a byte at a time;
    `unless` (a fragment of the `query` parameter -> another Reply) answers some queries otherwise;
    `by_params` makes the answer from the request's parameters (what a time range selects, say)."""

    def __init__(
        self,
        body: bytes = b"",
        status: int = 200,
        *,
        trickle: bool = False,
        unless: tuple[str, Reply] | None = None,
        by_params: Callable[[Params], Reply] | None = None,
    ) -> None:
        self.body, self.status, self.trickle, self.unless = body, status, trickle, unless
        self.by_params = by_params

    def to(self, query: str, params: Params | None = None) -> Reply:
        if self.by_params is not None:
            return self.by_params(params or {})
        if self.unless and self.unless[0] in query:
            return self.unless[1]
        return self


def _route(answers: Mapping[str, Reply], path: str) -> Reply:
    """The longest configured prefix of `path` wins; unknown paths are a 404 as Prometheus answers."""
    matches = [prefix for prefix in answers if path.startswith(prefix)]
    if not matches:
        return Reply(b"404 page not found\n", 404)
    return answers[max(matches, key=len)]


@contextmanager
def _fake(
    healthy: Mapping[str, Any],
    answers: Mapping[str, Reply] | None,
    seen: list[str] | None = None,
    paths: list[str] | None = None,
) -> Iterator[str]:
    routes = {path: Reply(success(data)) for path, data in healthy.items()} | dict(answers or {})
    asked = seen if seen is not None else []
    requested = paths if paths is not None else []

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            # The request target as sent: http.server collapses a leading `//` in `self.path`.
            requested.append(self.requestline.split(" ")[1].partition("?")[0])
            url = urllib.parse.urlsplit(self.path)
            params = urllib.parse.parse_qs(url.query)
            query = " ".join(params.get("query", []))
            if query:
                asked.append(query)
            reply = _route(routes, url.path).to(query, params)
            if reply.trickle:
                _trickle(self, headers_too=False)
            else:
                self.reply(reply.status, reply.body)

    with serving(Handler) as url:
        yield url


def fake_prometheus(
    answers: Mapping[str, Reply] | None = None,
    seen: list[str] | None = None,
    paths: list[str] | None = None,
) -> AbstractContextManager[str]:
    """A Prometheus that answers `HEALTHY`, but `answers` (path prefix -> Reply) where given; every
    `query` parameter it is sent is appended to `seen` (when given), to assert what Prometheus received,
    and every request path as sent to `paths` (when given), to assert where it was asked."""
    return _fake(HEALTHY, answers, seen, paths)


def fake_loki(
    answers: Mapping[str, Reply] | None = None,
    seen: list[str] | None = None,
    paths: list[str] | None = None,
) -> AbstractContextManager[str]:
    """A Loki that answers `HEALTHY_LOKI`, but `answers` (path prefix -> Reply) where given; every
    `query` parameter it is sent is appended to `seen` (when given), to assert what Loki received,
    and every request path as sent to `paths` (when given)."""
    return _fake(HEALTHY_LOKI, answers, seen, paths)


def _trickle(handler: QuietHandler, *, headers_too: bool) -> None:
    """Headers at once (or trickled too), then a byte every 0.2 s until the client gives up."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    body = success({"resultType": "vector", "result": []}).ljust(100000)
    stream = head + body if headers_too else body
    deadline = time.monotonic() + TRICKLE_FOR_S
    try:
        if not headers_too:
            handler.wfile.write(head)
        for index in range(len(stream)):
            if time.monotonic() > deadline:
                return
            handler.wfile.write(stream[index : index + 1])
            handler.wfile.flush()
            time.sleep(0.2)
    except OSError:
        return  # the client gave up: what the test wants


class _Trickle(QuietHandler):
    headers_too: ClassVar[bool] = False

    def do_GET(self) -> None:  # noqa: N802
        _trickle(self, headers_too=self.headers_too)


@contextmanager
def trickling(*, headers_too: bool = False) -> Iterator[str]:
    handler = type("Trickle", (_Trickle,), {"headers_too": headers_too})
    with serving(handler) as url:
        yield url


class _NotHttp(QuietHandler):
    def handle(self) -> None:
        self.wfile.write(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")
        self.wfile.flush()
        time.sleep(0.2)


@contextmanager
def not_http() -> Iterator[str]:
    with serving(_NotHttp) as url:
        yield url


class _Truncated(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = success(BUILD_INFO)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) + 500))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True


@contextmanager
def truncated() -> Iterator[str]:
    with serving(_Truncated) as url:
        yield url


@contextmanager
def healthy_loki() -> Iterator[str]:
    with loki_server() as (url, store):
        seed_logs(store)
        yield url
