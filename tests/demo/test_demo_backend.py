"""The demo backend, on the real OpenTelemetry Node.js SDK, emits the telemetry contract.

A bounded run (DEMO_DURATION) exports to a recording OTLP receiver in both OTLP/HTTP encodings;
every expectation is read from telemetry/contract.py, not spelled here.
"""

from __future__ import annotations

import os
import re
import signal as signal_module
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from dashboards_as_code.contract.model import Instrument
from dashboards_as_code.external_tools import NODE
from monitoring.tools import DEMO
from telemetry.contract import CONTRACT, SERVER_SPANS, Emitter
from tests.demo.otlp_receiver import Received, attributes, data_points, otlp_receiver, typed_attributes
from tests.local_http import free_port
from tests.tooling import require_tool

DURATION_SECONDS = 5
TENANTS = 8
CONTENT_TYPES = {"http/protobuf": "application/x-protobuf", "http/json": "application/json"}
BACKEND_METRICS = [m for m in CONTRACT.metrics if m.emitter == Emitter.BACKEND]


@dataclass
class Run:
    protocol: str
    received: Received
    completed: subprocess.CompletedProcess[str]
    seconds: float


LONGEST_RUN_SECONDS = 120.0
"""No test runs the demo longer than this."""


def run_seconds(duration: str | None) -> float:
    """How long a run of DEMO_DURATION `duration` (`500ms`, `20s`) lasts, at least DURATION_SECONDS and at
    most LONGEST_RUN_SECONDS: what the time allowed for a run (startup and flush on top) is counted from.
    A longer one is a hostile knob the demo must refuse at once (tests/demo/test_demo_knobs.py)."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s)", duration or "")
    if found is None:
        return DURATION_SECONDS
    seconds = float(found[1]) / (1000 if found[2] == "ms" else 1)
    return min(LONGEST_RUN_SECONDS, max(DURATION_SECONDS, seconds))


def demo_environment(endpoint: str, **env: str) -> dict[str, str]:
    """The demo's environment in a test: this one without any OTEL_ or DEMO_ setting of the shell,
    exporting to `endpoint` every second (spans and logs every 500 ms), then `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DEMO_"))}
    return {
        **clean,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_BSP_SCHEDULE_DELAY": "500",
        "OTEL_BLRP_SCHEDULE_DELAY": "500",
        "DEMO_STATUS_INTERVAL": "2s",
        **env,
    }


@contextmanager
def started_demo(endpoint: str, **env: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`node demo.js` running (its environment as demo_environment gives it), with its first line (the
    start line: `demo: backend on 127.0.0.1:<port>, ...`) read; killed on the way out, whatever happened.
    The caller stops it gracefully (SIGTERM, then communicate) when its end is part of the test."""
    node, script = require_tool(NODE), require_tool(DEMO)
    process = subprocess.Popen(
        [node, script],
        env=demo_environment(endpoint, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process, process.stdout.readline()
    finally:
        if process.poll() is None:  # not stopped by the test: kill it and close its pipes
            process.kill()
            process.communicate(timeout=30)


def run_demo(endpoint: str, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    node, script = require_tool(NODE), require_tool(DEMO)
    started = time.monotonic()
    completed = subprocess.run(
        [node, script],
        env=demo_environment(endpoint, **env),
        capture_output=True,
        text=True,
        timeout=run_seconds(env.get("DEMO_DURATION")) + 30,
        check=False,
    )
    return completed, time.monotonic() - started


def received_from_demo(**env: str) -> tuple[str, Received]:
    """A bounded demo run (DEMO_DURATION in `env`) into a fresh recording receiver: its stdout and
    what it sent, once it has exited cleanly."""
    with otlp_receiver() as (endpoint, received):
        completed, _ = run_demo(endpoint, **env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout, received


@pytest.fixture(scope="module", params=list(CONTENT_TYPES))
def demo(request: pytest.FixtureRequest) -> Run:
    with otlp_receiver() as (endpoint, received):
        completed, seconds = run_demo(
            endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL=request.param,
            DEMO_DURATION=f"{DURATION_SECONDS}s",
            DEMO_TENANTS=str(TENANTS),
            DEMO_RPS="40",
            DEMO_ERROR_RATIO="0.2",
        )
    return Run(request.param, received, completed, seconds)


def _is(value: Any, name: str, number: int) -> bool:
    """OTLP enums: protobuf-as-JSON writes their names, OTLP JSON their numbers."""
    return value in (name, number)


def test_exits_by_itself_and_flushes(demo: Run) -> None:
    assert demo.completed.returncode == 0, demo.completed.stdout + demo.completed.stderr
    assert demo.seconds < DURATION_SECONDS + 10
    assert f"ran for {DURATION_SECONDS}s; flushing telemetry" in demo.completed.stdout
    assert "requests sent" in demo.completed.stdout and "0 export failures" in demo.completed.stdout
    assert demo.received.content_types == {CONTENT_TYPES[demo.protocol]}


OTLP_KIND = {
    Instrument.COUNTER: "sum",
    Instrument.UP_DOWN_COUNTER: "sum",
    Instrument.GAUGE: "gauge",
    Instrument.HISTOGRAM: "histogram",
}
"""The OTLP data kind of each instrument (the OTel metrics data model): a counter or up-down counter
is a sum (monotonic or not), a gauge a gauge."""


def test_every_backend_metric_arrives_with_its_unit_kind_and_attributes(demo: Run) -> None:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for _, metric in demo.received.metrics():
        by_name.setdefault(metric["name"], []).append(metric)
    for signal in BACKEND_METRICS:
        assert signal.otel_name in by_name, f"{signal.otel_name} never arrived (got {sorted(by_name)})"
        kind = OTLP_KIND[signal.instrument]
        for metric in by_name[signal.otel_name]:
            assert metric["unit"] == signal.unit
            assert kind in metric, f"{signal.otel_name}: a {signal.instrument.value} is an OTLP {kind}"
            if kind == "sum":
                monotonic = bool(metric["sum"].get("isMonotonic", False))
                assert monotonic == (signal.instrument is Instrument.COUNTER)
            for point in metric[kind]["dataPoints"]:
                assert set(attributes(point)) == set(signal.attributes), signal.otel_name


def test_nothing_is_emitted_that_the_contract_lacks(demo: Run) -> None:
    names = {metric["name"] for _, metric in demo.received.metrics()}
    assert names == {signal.otel_name for signal in BACKEND_METRICS}


def test_server_spans_carry_the_contract_attributes_and_some_fail(demo: Run) -> None:
    server = [span for _, span in demo.received.spans() if _is(span.get("kind"), "SPAN_KIND_SERVER", 2)]
    assert len(server) > 50
    for span in server:
        assert set(SERVER_SPANS.attributes) <= set(attributes(span)), attributes(span)
    failed = [s for s in server if _is(s.get("status", {}).get("code"), "STATUS_CODE_ERROR", 2)]
    assert failed and all(int(attributes(s)["http.response.status_code"]) >= 500 for s in failed)
    routes = {attributes(s)["http.route"] for s in server}
    assert "/api/tickets/:id" in routes and "/api/whatsapp/:id/qrcode" in routes  # templates, not paths


def test_a_failed_requests_log_record_names_the_route_template_its_server_span_names(demo: Run) -> None:
    """A failed request's error log record carries `http.route` so Loki can select it by route, as
    the dashboards select its spans: the same template (`/api/tickets/:id`), never the path a request
    asked for (`/api/tickets/169`), which would make every id its own value and miss the query."""
    server = [span for _, span in demo.received.spans() if _is(span.get("kind"), "SPAN_KIND_SERVER", 2)]
    templates = {attributes(s)["http.route"] for s in server}
    routed = [attributes(r)["http.route"] for _, r in demo.received.logs() if "http.route" in attributes(r)]
    assert routed, "no log record names its route"
    assert set(routed) <= templates, sorted(set(routed) - templates)
    assert not [route for route in routed if re.search(r"/\d+(/|$)", route)], routed


def test_every_span_and_log_record_carries_trace_id_and_tenant_id(demo: Run) -> None:
    spans = [span for _, span in demo.received.spans()]
    assert spans and all(attributes(span).get("tenant_id") for span in spans)
    records = [record for _, record in demo.received.logs()]
    assert records
    for record in records:
        assert len(record.get("traceId", "")) == 32 and len(record.get("spanId", "")) == 16, record
        assert attributes(record).get("tenant_id")
        assert record.get("severityText") and record.get("severityNumber")
    errors = [r for r in records if _is(r["severityNumber"], "SEVERITY_NUMBER_ERROR", 17)]
    assert errors, "no error log records"


def test_the_resource_names_the_service(demo: Run) -> None:
    resources = [
        resource for resource, _ in demo.received.spans() + demo.received.metrics() + demo.received.logs()
    ]
    for resource in resources:
        found = attributes(resource)
        assert found["service.name"] == CONTRACT.resource.service_name
        assert found["service.namespace"] == CONTRACT.resource.service_namespace
        assert found["service.instance.id"] and found["deployment.environment.name"] == "demo"
    assert len({attributes(r)["service.instance.id"] for r in resources}) == 1


def test_a_single_instance_is_named_after_its_host_alone(demo: Run) -> None:
    """The contract's `instance` example is `demo-vm`: the demo run as the only instance (DEMO_INSTANCE
    unset, 1/1) is `demo-<host name>`, stable across restarts, and only one of several adds its number
    (`-k`, test_demo_instances.py): a plain run keeps its series when instances are not in play."""
    ids = {str(attributes(resource)["service.instance.id"]) for resource, _ in demo.received.metrics()}
    assert ids == {f"demo-{socket.gethostname()}"}, ids


def test_every_tenant_appears(demo: Run) -> None:
    tenants = {attributes(span)["tenant_id"] for _, span in demo.received.spans()}
    assert len(tenants) >= TENANTS


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DEMO_RPS", "-1"), ("DEMO_DURATION", "soon"), ("DEMO_TENANTS", "many"), ("DEMO_ERROR_RATIO", "2")],
)
def test_a_bad_knob_is_named(variable: str, value: str) -> None:
    completed, _ = run_demo("http://127.0.0.1:9", **{variable: value})
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert variable in completed.stderr and repr(value).strip("'") in completed.stderr
    assert "Error:" not in completed.stderr  # a message, not a Node stack trace


@pytest.mark.parametrize("signal", [signal_module.SIGTERM, signal_module.SIGINT])
def test_a_signal_stops_it_after_a_flush(signal: signal_module.Signals) -> None:
    node, script = require_tool(NODE), require_tool(DEMO)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DEMO_"))}
    with otlp_receiver() as (endpoint, received):
        process = subprocess.Popen(
            [node, script],
            env={**clean, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "DEMO_TENANTS": "3"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            assert "backend on 127.0.0.1" in process.stdout.readline()
            time.sleep(1.5)
            process.send_signal(signal)
            out, err = process.communicate(timeout=20)
        finally:
            process.kill()
    assert process.returncode == 0, err
    assert "flushing telemetry" in out
    # Spans (5 s batches) and metrics (15 s) had not been due yet: they arrive because of the flush.
    assert received.spans() and received.metrics()


# Attribute values. demo.js names its tenants `tenant-001` ... (`tenant-${String(i + 1).padStart(3, '0')}`
# for i below DEMO_TENANTS) and each tenant's WhatsApp connection `<tenant>-wa-1`; a value that is not
# one of these (`undefined`, `unknown`, empty, another type) is a tenant picker offering a tenant
# nobody has, or a panel splitting one tenant in two.
DEMO_TENANT_IDS = frozenset(f"tenant-{number:03d}" for number in range(1, TENANTS + 1))
NOT_A_VALUE = frozenset({"", "undefined", "unknown", "null", "None", "NaN", "[object Object]"})
INT_ATTRIBUTES = frozenset({"http.response.status_code"})
"""OTel semantic conventions: the status code is an int; every other contract attribute is a string."""
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})


def _value_problem(key: str, kind: str, value: Any) -> str | None:
    """What is wrong with one attribute value, or None: the OTLP kind the conventions give the key,
    a real value (not a JS stringified undefined), and the demo's own names for tenants and numbers."""
    if key in INT_ATTRIBUTES:
        if kind != "intValue" or not str(value).isdigit():
            return f"{key} is {kind} {value!r}, not an int"
        return None if 100 <= int(value) <= 599 else f"{key} {value} is no HTTP status"
    if kind != "stringValue" or not isinstance(value, str):
        return f"{key} is {kind} {value!r}, not a string"
    if value.strip() in NOT_A_VALUE or value.startswith(("undefined", "unknown")):
        return f"{key} is {value!r}"
    if key == "tenant_id" and value not in DEMO_TENANT_IDS:
        return f"tenant_id {value!r} is not one of the demo's tenants"
    if key == "http.request.method" and value not in HTTP_METHODS:
        return f"http.request.method {value!r}"
    if key == "http.route" and not value.startswith("/"):
        return f"http.route {value!r} is not a route template"
    return None


def _problems(item: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    found = typed_attributes(item)
    problems = [_value_problem(key, *found[key]) if key in found else f"no {key}" for key in keys]
    tenant, whatsapp = found.get("tenant_id", ("", None))[1], found.get("whatsapp_id", ("", None))[1]
    if "whatsapp_id" in keys and whatsapp != f"{tenant}-wa-1":
        problems.append(f"whatsapp_id {whatsapp!r} is not the WhatsApp connection of {tenant!r}")
    return [problem for problem in problems if problem]


def test_every_metric_data_point_has_a_real_value_for_each_contract_attribute(demo: Run) -> None:
    signals = {signal.otel_name: signal for signal in BACKEND_METRICS}
    seen: set[str] = set()
    for _, metric in demo.received.metrics():
        keys = signals[metric["name"]].attributes
        for point in data_points(metric):
            assert _problems(point, keys) == [], (metric["name"], typed_attributes(point))
            seen.add(typed_attributes(point)["tenant_id"][1])
    assert seen == DEMO_TENANT_IDS


def test_every_server_span_has_a_real_value_for_each_contract_attribute(demo: Run) -> None:
    server = [span for _, span in demo.received.spans() if _is(span.get("kind"), "SPAN_KIND_SERVER", 2)]
    assert server
    for span in server:
        assert _problems(span, SERVER_SPANS.attributes) == [], (span["name"], typed_attributes(span))
    assert {typed_attributes(span)["tenant_id"][1] for span in server} == DEMO_TENANT_IDS


def test_every_span_and_log_record_names_a_demo_tenant(demo: Run) -> None:
    items = [span for _, span in demo.received.spans()] + [record for _, record in demo.received.logs()]
    assert items
    for item in items:
        keys = ("tenant_id", "whatsapp_id") if "whatsapp_id" in typed_attributes(item) else ("tenant_id",)
        assert _problems(item, keys) == [], (
            item.get("name") or item.get("body"),
            typed_attributes(item),
        )


SEVERITY_RANGES = {
    "trace": (1, 4),
    "debug": (5, 8),
    "info": (9, 12),
    "warn": (13, 16),
    "error": (17, 20),
    "fatal": (21, 24),
}
"""The OpenTelemetry log data model's severity ranges, by the short name a severity text starts with."""
SEVERITY_NAMES = {f"SEVERITY_NUMBER_{name.upper()}": low for name, (low, _) in SEVERITY_RANGES.items()}


def _severity_number(value: Any) -> int:
    """protobuf-as-JSON writes the enum's name (SEVERITY_NUMBER_WARN), OTLP JSON its number (13)."""
    return int(value) if str(value).isdigit() else SEVERITY_NAMES[str(value)]


def test_each_log_records_severity_text_and_number_name_the_same_level(demo: Run) -> None:
    """Loki keeps both (the contract's structured metadata severity_text and severity_number): a
    panel filtering on one and an alert on the other must see the same records. A failed request
    logs an error, a dropped WhatsApp session a warning, everything else is information."""
    records = [record for _, record in demo.received.logs()]
    levels: set[str] = set()
    for record in records:
        text = str(record["severityText"]).lower()
        level = next(name for name in SEVERITY_RANGES if text.startswith(name))
        low, high = SEVERITY_RANGES[level]
        number = _severity_number(record["severityNumber"])
        assert low <= number <= high, (record["severityText"], record["severityNumber"], record.get("body"))
        body = str(next(iter(record.get("body", {}).values()), ""))
        if "failed" in body:
            assert level == "error", (level, body)
        elif "disconnected" in body:
            assert level == "warn", (level, body)
        else:
            assert level == "info", (level, body)
        levels.add(level)
    # A dropped session in 5 s is likely, not certain (tests/demo/test_demo_traffic.py runs 20 s for it).
    assert {"info", "error"} <= levels <= {"info", "warn", "error"}, levels


CLIENT_IDLE_SECONDS = 5
"""How long Node's client agent (the demo's load loop, as the users' clients) keeps an idle connection."""


def _length(answer: bytes) -> int:
    """The Content-Length of an HTTP answer's head (0 until it is there)."""
    found = re.search(rb"(?im)^content-length:\s*(\d+)", answer.partition(b"\r\n\r\n")[0])
    return int(found[1]) if found else 0


def test_the_backend_keeps_an_idle_connection_longer_than_its_clients_do() -> None:
    """demo.js: a server that closed idle connections when the client did (5 s each) raced the client
    reusing one at that very moment (ECONNRESET, hundreds of requests lost at 10,000 tenants); the
    server waits longer, so the client always lets go first. A connection idle a little past the
    client's 5 s is still open."""
    port = free_port()
    with (
        otlp_receiver() as (endpoint, _),
        started_demo(endpoint, DEMO_TENANTS="2", DEMO_PORT=str(port)) as (
            _process,
            first,
        ),
    ):
        assert "backend on 127.0.0.1" in first
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(
                b"GET /api/tickets HTTP/1.1\r\nHost: demo\r\nx-tenant-id: tenant-001\r\n"
                b"Connection: keep-alive\r\n\r\n"
            )
            answer = b""
            while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < _length(answer):
                chunk = connection.recv(65536)
                assert chunk, f"the backend closed the connection mid-answer: {answer!r}"
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200"), answer
            time.sleep(CLIENT_IDLE_SECONDS + 1.5)
            connection.setblocking(False)
            try:
                closed = connection.recv(1, socket.MSG_PEEK) == b""
            except BlockingIOError:
                closed = False  # nothing to read and not closed: still open
    assert not closed, f"the backend closed an idle connection within {CLIENT_IDLE_SECONDS + 1.5} s"


SLOW_ROUTE = "/api/whatsapp/:id/qrcode"
"""The README's "a slow WhatsApp QR-code route": a QR code takes a WhatsApp round trip (a median of
hundreds of milliseconds), every other route tens of milliseconds."""
SLOW_ROUTE_FLOOR_SECONDS = 0.2


def _median_seconds(spans: list[dict[str, Any]]) -> float:
    seconds = sorted((int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"])) / 1e9 for s in spans)
    return seconds[len(seconds) // 2]


def test_the_qr_code_route_is_the_slow_one(demo: Run) -> None:
    by_route: dict[str, list[dict[str, Any]]] = {}
    for _, span in demo.received.spans():
        if _is(span.get("kind"), "SPAN_KIND_SERVER", 2):
            by_route.setdefault(str(attributes(span)["http.route"]), []).append(span)
    assert SLOW_ROUTE in by_route, sorted(by_route)  # 4 % of ~200 requests: absent once in ~3,000 runs
    medians = {route: _median_seconds(spans) for route, spans in by_route.items()}
    others = [m for route, m in medians.items() if route != SLOW_ROUTE]
    # The QR route has ~8 requests a run, each log-normal around 400 ms (sigma 0.6): one is under 200 ms
    # 12 % of the time, so the median of so few fell under 200 ms about once in a few hundred runs (seen
    # in CI: 0.198 s). Under 100 ms is 1 % for one request and about 1 in 10,000 for the median; every
    # other route's median, tens of milliseconds over dozens of requests, stays under 200 ms.
    assert medians[SLOW_ROUTE] > SLOW_ROUTE_FLOOR_SECONDS / 2, medians
    assert medians[SLOW_ROUTE] > max(others), medians
    assert all(m < SLOW_ROUTE_FLOOR_SECONDS for m in others), medians


LONG_TAIL_SHARE = 0.04
"""The README's "a long-tailed latency": demo.js draws a log-normal latency (sigma 0.6) capped at 12x
the route's median, so about 12 % of the requests take over twice their route's median; a latency
that hugged the median would have almost none."""


def test_latency_has_a_long_tail_over_twice_each_routes_median(demo: Run) -> None:
    by_route: dict[str, list[float]] = {}
    for _, span in demo.received.spans():
        if _is(span.get("kind"), "SPAN_KIND_SERVER", 2):
            seconds = (int(span["endTimeUnixNano"]) - int(span["startTimeUnixNano"])) / 1e9
            by_route.setdefault(str(attributes(span)["http.route"]), []).append(seconds)
    spans = over = 0
    for durations in by_route.values():
        median = sorted(durations)[len(durations) // 2]
        spans += len(durations)
        over += sum(d > 2 * median for d in durations)
    assert spans > 100 and over / spans >= LONG_TAIL_SHARE, (
        f"{over} of {spans} requests over twice their median"
    )
