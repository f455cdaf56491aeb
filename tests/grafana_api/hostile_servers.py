"""Servers that answer like a broken network, a proxy or the wrong service would, for the bad-input tests.

Each one answers `/api/health` and `/api/frontend/settings` like Grafana (unless it is the point of
the server not to), so the client gets past its connection check and meets the fault on a real call.
All listen on 127.0.0.1 at a port chosen at run time; each records the paths it was asked for.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

from tests.local_http import QuietHandler, serving

HEALTH = {"database": "ok", "version": "11.6.0", "commit": "hostile"}
OPEN_PATHS = ("/api/health", "/api/frontend/settings")
ANSI = "\x1b[2J\x1b[31mdisk on fire\x1b[0m"
"""An error message that would clear the screen and turn it red, printed raw."""
DASHBOARD_ANSWER = {
    "dashboard": {"uid": "hostile", "title": "Hostile", "version": 3, "panels": []},
    "meta": {"provisioned": False, "folderUid": ""},
}

Reply = Callable[["HostileHandler"], None]


class HostileHandler(QuietHandler):
    """Answers the open paths like Grafana; every other request goes to `fault`."""

    protocol_version = "HTTP/1.1"
    fault: Reply
    seen: list[str]

    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802  (http.server's naming)
        self._serve()

    def _serve(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path.split("?")[0] in OPEN_PATHS:
            self.reply(200, json.dumps(HEALTH).encode())
            return
        if self.path.startswith("/apis"):  # a Grafana without the resource API: the faults are the legacy
            self.json(404, {"message": "Not found"})  # API's, whose endpoints these scenarios name
            return
        type(self).fault(self)

    def json(self, status: int, value: Any) -> None:
        self.reply(status, json.dumps(value).encode())


def answering(value: Any) -> Reply:
    """200 with `value` as JSON, whatever was asked."""
    return lambda handler: handler.json(200, value)


def raw_body(body: bytes, content_type: str = "application/json", status: int = 200) -> Reply:
    return lambda handler: handler.reply(status, body, content_type)


def trickle(handler: HostileHandler) -> None:
    """Headers at once, then the body one byte a second (up to a minute: the client must give up first)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.flush()
    try:
        for _ in range(60):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(1)
    except OSError:
        return  # the client gave up: that is the point
    handler.close_connection = True


def cut_short(handler: HostileHandler) -> None:
    """Content-Length promises 100 bytes; 12 come, then the connection closes."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    handler.wfile.write(b'{"dashboard"')
    handler.wfile.flush()
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


def login_redirect(handler: HostileHandler) -> None:
    """What an authenticating proxy does to a request without its session cookie."""
    handler.send_response(302)
    handler.send_header("Location", "/login?redirect=%2F")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def server_error_with_escapes(handler: HostileHandler) -> None:
    handler.json(500, {"message": ANSI})


def rate_limited(retry_after: str) -> Reply:
    """429 with `Retry-After: retry_after` on the first request for a path, the dashboard after that."""
    asked: set[str] = set()

    def reply(handler: HostileHandler) -> None:
        if handler.path in asked:
            handler.json(200, DASHBOARD_ANSWER)
            return
        asked.add(handler.path)
        body = b'{"message": "slow down"}'
        handler.send_response(429)
        handler.send_header("Retry-After", retry_after)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return reply


def always_failing(status: int, retry_after: str | None = None) -> Reply:
    """`status` to every request, with `Retry-After: retry_after` if given: a Grafana that never recovers."""

    def reply(handler: HostileHandler) -> None:
        body = b'{"message": "try again later"}'
        handler.send_response(status)
        if retry_after is not None:
            handler.send_header("Retry-After", retry_after)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return reply


@contextmanager
def hostile(fault: Reply) -> Iterator[tuple[str, list[str]]]:
    """Serve `fault`; yields (root URL, the requests seen so far)."""
    seen: list[str] = []
    handler = type("Handler", (HostileHandler,), {"fault": staticmethod(fault), "seen": seen})
    with serving(handler) as url:
        yield url, seen


@contextmanager
def tcp_service(greeting: bytes) -> Iterator[str]:
    """A TCP service that is not HTTP: it accepts, reads the request, writes `greeting`, and closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            with connection, suppress(OSError):  # the client may hang up first
                connection.settimeout(2)
                connection.recv(65536)  # the request, read first so closing sends no reset
                connection.sendall(greeting)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


def login_proxy(upstream: str, open_prefixes: tuple[str, ...]) -> Reply:
    """An authenticating proxy in front of `upstream`: paths under `open_prefixes` pass, the rest go
    to /login. Health and the credentials check are always open (see HostileHandler)."""
    host, port = upstream.removeprefix("http://").split(":")

    def reply(handler: HostileHandler) -> None:
        if not handler.path.startswith(open_prefixes):
            login_redirect(handler)
            return
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
        connection.request(handler.command, handler.path, body=body, headers=headers)
        answer = connection.getresponse()
        handler.reply(answer.status, answer.read(), answer.getheader("Content-Type") or "application/json")
        connection.close()

    return reply


class ProxyHandler(HostileHandler):
    """Like HostileHandler, but the body is left for the proxy to forward."""

    def _serve(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        if self.path.split("?")[0] in OPEN_PATHS:
            self.reply(200, json.dumps(HEALTH).encode())
            return
        if self.path.startswith("/apis"):  # a Grafana without the resource API: the faults are the legacy
            self.json(404, {"message": "Not found"})  # API's, whose endpoints these scenarios name
            return
        type(self).fault(self)


@contextmanager
def proxied(upstream: str, open_prefixes: tuple[str, ...]) -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    fault = staticmethod(login_proxy(upstream, open_prefixes))
    handler = type("Handler", (ProxyHandler,), {"fault": fault, "seen": seen})
    with serving(handler) as url:
        yield url, seen


@contextmanager
def all_of(servers: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Start every server in `servers` (name -> context manager yielding a URL, or (URL, seen))."""
    with ExitStack() as stack:
        urls = {}
        for name, manager in servers.items():
            entered = stack.enter_context(manager)
            urls[name] = entered[0] if isinstance(entered, tuple) else entered
        yield urls
