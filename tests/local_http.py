"""Small HTTP servers for tests: on 127.0.0.1, at a port chosen at run time, served from a thread."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that answers with one call and logs nothing (tests assert on state, not on logs)."""

    def reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], port: int = 0) -> Iterator[str]:
    """Serve `handler` until the block ends, on `port` (0: one the kernel picks); yields the root URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port() -> int:
    """A free 127.0.0.1 port for a program that must be told its port (the Collector, Jaeger).

    It is taken below the kernel's ephemeral range: every server started on port 0 (Prometheus, the
    test servers) gets a port from that range, so it can never be handed the same port between this
    probe and the program's bind. Each port is handed out once per test run.
    """
    floor = _ephemeral_floor()
    with _handed_out_lock:
        for _ in range(1000):
            port = random.randrange(max(1024, floor - 12000), floor)
            if port in _handed_out:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port below the ephemeral range")
