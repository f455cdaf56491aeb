"""A recording OTLP/HTTP receiver: what the Collector's `otlp` receiver would get, kept for assertions.

It accepts `/v1/traces`, `/v1/metrics` and `/v1/logs` in both OTLP/HTTP encodings, gzipped or not
(protobuf, decoded with `opentelemetry-proto`, and JSON), and normalises both to the OTLP JSON shape,
with trace and span ids as lower-case hex (protobuf carries bytes, JSON hex): tests read one form.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.local_http import QuietHandler, serving

REQUESTS: dict[str, Any] = {
    "/v1/traces": ExportTraceServiceRequest,
    "/v1/metrics": ExportMetricsServiceRequest,
    "/v1/logs": ExportLogsServiceRequest,
}
ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(node: Any) -> Any:
    """Protobuf's bytes ids come out of MessageToDict as base64; OTLP JSON writes them as hex."""
    if isinstance(node, dict):
        return {
            key: base64.b64decode(value).hex()
            if key in ID_FIELDS and isinstance(value, str)
            else _hex_ids(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(item) for item in node]
    return node


@dataclass
class Received:
    """Every export request, normalised, by path; and the content types seen."""

    requests: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {path: [] for path in REQUESTS})
    content_types: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def resources(self, path: str) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
        """(resource, scope, item) for every span / metric / log record received on `path`."""
        top, scoped, items = {
            "/v1/traces": ("resourceSpans", "scopeSpans", "spans"),
            "/v1/metrics": ("resourceMetrics", "scopeMetrics", "metrics"),
            "/v1/logs": ("resourceLogs", "scopeLogs", "logRecords"),
        }[path]
        with self.lock:
            requests = list(self.requests[path])
        for request in requests:
            for resource in request.get(top, []):
                for scope in resource.get(scoped, []):
                    for item in scope.get(items, []):
                        yield resource.get("resource", {}), scope.get("scope", {}), item

    def spans(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [(resource, span) for resource, _, span in self.resources("/v1/traces")]

    def metrics(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [(resource, metric) for resource, _, metric in self.resources("/v1/metrics")]

    def logs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [(resource, record) for resource, _, record in self.resources("/v1/logs")]


METRIC_KINDS = ("sum", "gauge", "histogram", "exponentialHistogram", "summary")
"""The data kinds of an OTLP metric: exactly one of them holds its data points."""


def data_points(metric: dict[str, Any]) -> list[dict[str, Any]]:
    """An OTLP metric's data points, whatever its kind (a counter's are under `sum`, a gauge's under
    `gauge`)."""
    [kind] = [kind for kind in METRIC_KINDS if kind in metric]
    return list(metric[kind]["dataPoints"])


def attributes(item: dict[str, Any]) -> dict[str, Any]:
    """OTLP's `[{key, value: {stringValue|intValue|...}}]` as a plain dict."""
    found = {}
    for attribute in item.get("attributes", []):
        value = attribute.get("value", {})
        found[attribute["key"]] = next(iter(value.values()), None) if value else None
    return found


def typed_attributes(item: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """OTLP's attributes as {key: (value kind, value)}: `("stringValue", "tenant-001")`,
    `("intValue", "200")` (protobuf-as-JSON writes an int64 as a string, OTLP JSON may write a number),
    `("", None)` for an attribute sent without a value."""
    found: dict[str, tuple[str, Any]] = {}
    for attribute in item.get("attributes", []):
        value = attribute.get("value") or {}
        found[attribute["key"]] = next(iter(value.items()), ("", None))
    return found


def decode_export(path: str, body: bytes, headers: Message) -> tuple[dict[str, Any], bytes, str] | int:
    """An OTLP/HTTP export request as (OTLP JSON document, reply body, content type), or an HTTP status."""
    content_type = (headers.get("Content-Type") or "").split(";")[0]
    if headers.get("Content-Encoding") == "gzip":  # the Collector's otlp_http exporter compresses
        body = gzip.decompress(body)
    message = REQUESTS.get(path)
    if message is None:
        return 404
    if content_type == "application/x-protobuf":
        request = message()
        request.ParseFromString(body)
        return _hex_ids(MessageToDict(request)), b"", content_type  # an empty response is no bytes
    if content_type == "application/json":
        return json.loads(body), b"{}", content_type
    return 415


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, chunked or with a Content-Length."""
    if handler.headers.get("Transfer-Encoding") == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().strip(), 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"  # the Node exporters keep connections alive
    received: Received
    prefix: str

    def do_POST(self) -> None:  # noqa: N802 (http.server dispatches on this name)
        path = self.path.removeprefix(self.prefix) if self.path.startswith(f"{self.prefix}/") else ""
        decoded = decode_export(path, read_body(self), self.headers)
        if isinstance(decoded, int):
            self.reply(decoded, b"")
            return
        document, reply, content_type = decoded
        with self.received.lock:
            self.received.requests[path].append(document)
            self.received.content_types.add(content_type)
        self.reply(200, reply, content_type)


@contextmanager
def otlp_receiver(prefix: str = "") -> Iterator[tuple[str, Received]]:
    """A receiver on 127.0.0.1 at a port chosen now; yields its endpoint and what it received.

    With `prefix` it takes `<prefix>/v1/logs` (and the others) instead, as Loki's OTLP endpoint takes
    `/otlp/v1/logs`: the Collector's exporter then posts where the config sends it; what it received
    is kept under `/v1/logs` all the same."""
    received = Received()
    with serving(type("Handler", (_Handler,), {"received": received, "prefix": prefix})) as url:
        yield url, received


@dataclass
class Rejections:
    """Every header of every export request a refusing receiver answered, in order."""

    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _RefusingHandler(QuietHandler):
    protocol_version = "HTTP/1.1"
    refused: Rejections

    def handle(self) -> None:
        """The demo exits right after its last export, dropping the kept-alive connection: not news."""
        with suppress(ConnectionResetError):
            super().handle()

    def do_POST(self) -> None:  # noqa: N802 (http.server dispatches on this name)
        """401, with the request's own header values in the reason phrase and in the body: what a
        careless proxy or collector says ("rejected credentials Bearer ..."), so a client that prints
        the exporter's error must mask them."""
        read_body(self)
        headers = {name.lower(): value for name, value in self.headers.items()}
        with self.refused.lock:
            self.refused.headers.append(headers)
        echoed = "; ".join(f"{name}: {value}" for name, value in sorted(headers.items()))
        said = f"rejected credentials {echoed}"
        reason = said.encode("latin-1", "replace").decode("latin-1").replace("\r", " ").replace("\n", " ")
        self.send_response(401, reason)
        body = said.encode()
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def refusing_receiver() -> Iterator[tuple[str, Rejections]]:
    """An OTLP endpoint on 127.0.0.1 that refuses every export with a 401 repeating the request's
    headers (Authorization and every other one); yields its endpoint and the headers it was sent."""
    refused = Rejections()
    with serving(type("Handler", (_RefusingHandler,), {"refused": refused})) as url:
        yield url, refused
