"""A Loki test server: its OTLP push endpoint and the query API `doctor` reads, per Loki's documentation.

What it follows (grafana/loki docs: send-data/otel, get-started/labels/structured-metadata,
query/log_queries, reference/loki-http-api):
- `POST /otlp/v1/logs`: only resource attributes in Loki's default list become index labels
  (dots -> underscores; `service_name="unknown_service"` when absent); every log attribute, the
  other resource attributes, `trace_id`, `span_id`, `severity_number` and `severity_text` become
  structured metadata. The line is the body as a string.
- `GET /loki/api/v1/query_range` (start/end in ns, `limit`, `direction`): stream selector, then
  label filters (on index labels and structured metadata, `or`/`and`, string and numeric
  comparisons), `label_format a="literal"`, `drop`, and the line filters `|=`, `!=` (the line
  contains / does not contain the string) and `|~`, `!~` (an unanchored regex finds / does not find
  a match), each operator one token (`| = "x"` is a parse error, as in Loki; `!=` needs no pipe of
  its own). Structured metadata come back merged
  into the stream's labels (no categorize-labels header). A numeric filter on a label a line lacks
  drops that line; on a value that is not a number it keeps the line and adds
  `__error__="LabelFilterErr"`. Anything else is a 400 with a plain-text parse error, as Loki answers.
- `GET /loki/api/v1/labels` and `/loki/api/v1/label/<name>/values`: index labels only.
Regex matchers are fully anchored, as in Prometheus and Loki.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber

from tests.demo.otlp_receiver import attributes, decode_export, read_body
from tests.local_http import QuietHandler, serving

INDEX_ATTRIBUTES = (
    "service.name", "service.namespace", "service.instance.id", "deployment.environment",
    "deployment.environment.name", "cloud.region", "cloud.availability_zone", "k8s.cluster.name",
    "k8s.namespace.name", "k8s.pod.name", "k8s.container.name", "container.name", "k8s.replicaset.name",
    "k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name", "k8s.cronjob.name", "k8s.job.name",
)  # fmt: skip
"""Loki's `-distributor.otlp.default_resource_attributes_as_index_labels`."""


class ParseError(ValueError):
    pass


def _name(attribute: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", attribute)


@dataclass(frozen=True)
class Entry:
    ns: int
    line: str
    stream: dict[str, str]
    metadata: dict[str, str]


@dataclass
class LokiStore:
    entries: list[Entry] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(
        self, stream: dict[str, str], line: str, metadata: dict[str, str] | None = None, ns: int = 0
    ) -> None:
        with self.lock:
            self.entries.append(Entry(ns or time.time_ns(), line, dict(stream), dict(metadata or {})))

    def push_otlp(self, document: dict[str, Any]) -> None:
        for resource_logs in document.get("resourceLogs", []):
            resource = attributes(resource_logs.get("resource", {}))
            stream = {_name(k): str(v) for k, v in resource.items() if k in INDEX_ATTRIBUTES}
            stream.setdefault("service_name", "unknown_service")
            shared = {_name(k): str(v) for k, v in resource.items() if k not in INDEX_ATTRIBUTES}
            for scope in resource_logs.get("scopeLogs", []):
                for record in scope.get("logRecords", []):
                    metadata = {**shared, **{_name(k): str(v) for k, v in attributes(record).items()}}
                    for key, name in (
                        ("traceId", "trace_id"),
                        ("spanId", "span_id"),
                        ("severityText", "severity_text"),
                    ):
                        if record.get(key):
                            metadata[name] = str(record[key])
                    if record.get("severityNumber"):
                        metadata["severity_number"] = str(_severity(record["severityNumber"]))
                    body = record.get("body", {})
                    line = str(next(iter(body.values()), "")) if body else ""
                    self.push(stream, line, metadata, int(record.get("timeUnixNano") or 0))

    def forget_before(self, ns: int) -> int:
        """Drop the entries older than `ns` (the local stack's retention); how many were dropped."""
        with self.lock:
            kept = [entry for entry in self.entries if entry.ns >= ns]
            dropped = len(self.entries) - len(kept)
            self.entries[:] = kept
        return dropped

    def index_labels(self, start: int, end: int) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        with self.lock:
            for entry in self.entries:
                if start <= entry.ns <= end:
                    for name, value in entry.stream.items():
                        found.setdefault(name, set()).add(value)
        return found


def _severity(value: Any) -> int:
    """OTLP JSON carries the number; protobuf decoded by MessageToDict, the enum's name."""
    if isinstance(value, str) and not value.isdigit():
        return int(SeverityNumber.Value(value))
    return int(value)


_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')
_COMPARISON = re.compile(
    r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|>=|<=|==|=|>|<)\s*("(?:[^"\\]|\\.)*"|`[^`]*`|[0-9.]+)\s*'
)


def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    if text.startswith('"'):
        return str(json.loads(text))
    return text


def _matches(op: str, actual: str, wanted: str) -> bool:
    if op in ("=", "=="):
        return actual == wanted
    if op == "!=":
        return actual != wanted
    hit = re.fullmatch(wanted, actual, re.S) is not None
    return hit if op == "=~" else not hit


def _selector(text: str) -> list[tuple[str, str, str]]:
    inner, found, position = text.strip()[1:-1], [], 0
    while position < len(inner.strip()):
        match = _MATCHER.match(inner, position)
        if not match:
            raise ParseError(f"parse error : syntax error in stream selector {text}")
        found.append((match.group(1), match.group(2), _unquote(f'"{match.group(3)}"')))
        position = match.end()
    if not found:
        raise ParseError("parse error : queries require at least one regexp or equality matcher")
    return found


def _split(query: str) -> tuple[str, list[str]]:
    end = query.find("}")
    while end >= 0 and query[:end].count('"') % 2:
        end = query.find("}", end + 1)
    if not query.lstrip().startswith("{") or end < 0:
        raise ParseError(f"parse error at line 1, col 1: syntax error: unexpected {query[:10]!r}")
    stages, current, quote = [], "", ""
    for char in query[end + 1 :]:
        if quote:
            quote = "" if char == quote else quote
        elif char in '"`':
            quote = char
        elif char == "|" or (char == "!" and current.rstrip()[-1:] in ("", '"', "`")):
            # `!=` / `!~` start a line filter with no pipe of their own, after the selector or a
            # stage's closed string; in a label filter (`| a != "x"`) the `!` follows a name
            stages.append(current)
            current = ""
            if char == "|":
                continue
        current += char
    stages.append(current)
    if stages[0].strip():
        raise ParseError(f"parse error : unexpected {stages[0].strip()!r} after the stream selector")
    for stage in stages[1:]:
        if stage[:1].isspace() and stage.strip()[:1] in "=~":  # `| = "x"`: Loki's lexer knows only `|=`, `|~`
            raise ParseError(f"parse error : syntax error: unexpected {stage.strip()[:1]!r} after '|'")
    return query[: end + 1], [s.strip() for s in stages[1:]]


def _label_filter(stage: str, labels: dict[str, str]) -> tuple[bool, bool]:
    """(keep, conversion error) for `a = "x" or b >= 3 and ...` (and binds tighter than or)."""
    alternatives = re.split(r"\s+or\s+", stage)
    error = False
    for alternative in alternatives:
        keep = True
        for part in re.split(r"\s+and\s+|\s*,\s*", alternative):
            match = _COMPARISON.fullmatch(part)
            if not match:
                raise ParseError(f"parse error : syntax error in label filter {stage!r}")
            name, op, raw = match.groups()
            if raw[0] in '"`':
                keep = keep and _matches(op, labels.get(name, ""), _unquote(raw))
                continue
            if name not in labels:
                keep = False
                continue
            try:
                actual = float(labels[name])
            except ValueError:
                error = True
                continue
            wanted = float(raw)
            keep = keep and {
                ">": actual > wanted, ">=": actual >= wanted, "<": actual < wanted, "<=": actual <= wanted,
                "==": actual == wanted, "=": actual == wanted, "!=": actual != wanted,
            }[op]  # fmt: skip
        if keep:
            return True, error
    return error, error


def evaluate(
    store: LokiStore, query: str, *, start: int, end: int, limit: int, backward: bool
) -> list[dict[str, Any]]:
    selector, stages = _split(query)
    matchers = _selector(selector)
    for stage in stages:  # Loki parses the whole query before it reads a line
        _stage(stage, "", {})
    with store.lock:
        entries = [e for e in store.entries if start <= e.ns <= end]
    entries.sort(key=lambda e: e.ns, reverse=backward)
    streams: dict[tuple[tuple[str, str], ...], list[list[str]]] = {}
    kept = 0
    for entry in entries:
        if not all(_matches(op, entry.stream.get(name, ""), value) for name, op, value in matchers):
            continue
        labels: dict[str, str] | None = {**entry.stream, **entry.metadata}
        for stage in stages:
            labels = _stage(stage, entry.line, labels) if labels is not None else None
        if labels is None:
            continue
        streams.setdefault(tuple(sorted(labels.items())), []).append([str(entry.ns), entry.line])
        kept += 1
        if kept >= limit:
            break
    return [{"stream": dict(key), "values": values} for key, values in streams.items()]


def _stage(stage: str, line: str, labels: dict[str, str]) -> dict[str, str] | None:
    if stage.startswith("="):
        return labels if _unquote(stage[1:].strip()) in line else None
    if stage.startswith("~"):
        return labels if re.search(_unquote(stage[1:].strip()), line) else None
    if stage.startswith("!="):
        return None if _unquote(stage[2:].strip()) in line else labels
    if stage.startswith("!~"):
        return None if re.search(_unquote(stage[2:].strip()), line) else labels
    if stage.startswith("label_format "):
        for name, op, value, _ in _MATCHER.findall(stage.removeprefix("label_format ")):
            if op != "=":
                raise ParseError(f'parse error : label_format takes name="value": {stage!r}')
            labels = {**labels, name: value}
        return labels
    if stage.startswith("drop "):
        dropped = {name.strip() for name in stage.removeprefix("drop ").split(",")}
        return {k: v for k, v in labels.items() if k not in dropped}
    keep, error = _label_filter(stage, labels)
    if not keep:
        return None
    return {**labels, "__error__": "LabelFilterErr"} if error else labels


class _Handler(QuietHandler):
    store: LokiStore

    def do_POST(self) -> None:  # noqa: N802 (http.server dispatches on this name)
        if self.path != "/otlp/v1/logs":
            self.reply(404, b"404 page not found\n", "text/plain")
            return
        decoded = decode_export("/v1/logs", read_body(self), self.headers)
        if isinstance(decoded, int):
            self.reply(decoded, b"", "text/plain")
            return
        self.store.push_otlp(decoded[0])
        self.reply(204, b"", "text/plain")

    def do_GET(self) -> None:  # noqa: N802 (http.server dispatches on this name)
        url = urllib.parse.urlsplit(self.path)
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        now = time.time_ns()
        start = int(float(params.get("start", now - 3600 * 10**9)))
        end = int(float(params.get("end", now)))
        if url.path == "/ready":
            self.reply(200, b"ready\n", "text/plain")
            return
        if url.path == "/loki/api/v1/labels":
            self._data(sorted(self.store.index_labels(start, end)))
            return
        values = re.fullmatch(r"/loki/api/v1/label/([^/]+)/values", url.path)
        if values:
            self._data(sorted(self.store.index_labels(start, end).get(values.group(1), set())))
            return
        if url.path == "/loki/api/v1/query_range":
            try:
                result = evaluate(
                    self.store, params.get("query", ""), start=start, end=end,
                    limit=int(params.get("limit", "100")),
                    backward=params.get("direction", "backward") == "backward",
                )  # fmt: skip
            except (ParseError, re.error) as error:
                self.reply(400, f"{error}\n".encode(), "text/plain; charset=utf-8")
                return
            self._data({"resultType": "streams", "result": result, "stats": {}})
            return
        self.reply(404, b"404 page not found\n", "text/plain")

    def _data(self, data: Any) -> None:
        self.reply(200, json.dumps({"status": "success", "data": data}).encode(), "application/json")


@contextmanager
def loki_server(store: LokiStore | None = None, port: int = 0) -> Iterator[tuple[str, LokiStore]]:
    """A Loki stand-in on 127.0.0.1 at `port` (0: one chosen now): (its root URL, its store)."""
    store = store or LokiStore()
    with serving(type("Handler", (_Handler,), {"store": store}), port) as url:
        yield url, store
