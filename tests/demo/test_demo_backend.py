"""The demo backend, on the real OpenTelemetry Node.js SDK, emits the telemetry contract.

A bounded run (DEMO_DURATION) exports to a recording OTLP receiver in both OTLP/HTTP encodings;
every expectation is read from telemetry/contract.py, not spelled here.
"""

from __future__ import annotations

import os
import signal as signal_module
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import pytest

from engine.contract.model import Instrument
from engine.external_tools import DEMO, NODE
from telemetry.contract import CONTRACT, SERVER_SPANS, Emitter
from tests.demo.otlp_receiver import Received, attributes, otlp_receiver
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


def run_demo(endpoint: str, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    node, script = require_tool(NODE), require_tool(DEMO)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DEMO_"))}
    started = time.monotonic()
    completed = subprocess.run(
        [node, script],
        env={
            **clean,
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_METRIC_EXPORT_INTERVAL": "1000",
            "OTEL_BSP_SCHEDULE_DELAY": "500",
            "OTEL_BLRP_SCHEDULE_DELAY": "500",
            "DEMO_STATUS_INTERVAL": "2s",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=DURATION_SECONDS + 30,
        check=False,
    )
    return completed, time.monotonic() - started


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


def test_every_backend_metric_arrives_with_its_unit_kind_and_attributes(demo: Run) -> None:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for _, metric in demo.received.metrics():
        by_name.setdefault(metric["name"], []).append(metric)
    for signal in BACKEND_METRICS:
        assert signal.otel_name in by_name, f"{signal.otel_name} never arrived (got {sorted(by_name)})"
        for metric in by_name[signal.otel_name]:
            assert metric["unit"] == signal.unit
            assert "sum" in metric, f"{signal.otel_name}: a {signal.instrument.value} is an OTLP sum"
            assert bool(metric["sum"].get("isMonotonic", False)) == (signal.instrument is Instrument.COUNTER)
            for point in metric["sum"]["dataPoints"]:
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
