"""The committed monitoring/cortex/cortex.yaml against what 10,000 tenants ask of it.

A series lookup over thousands of tenants answers more than gRPC's 4 MiB default between Cortex's own
components: with that default, the scale benchmark's `/api/v1/series` at 10,000 tenants failed with
a 500 ("received message larger than max"), and a push that large is refused the same way. Here one
Cortex, started from the committed file, takes one OTLP push of that size (the shards' path) and
answers a lookup above 4 MiB.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)

from tests.cortex.server import running_cortex

TENANT = "size-test"
SERIES = 24_000
GRPC_DEFAULT = 4 * 1024 * 1024
METRIC = "lookup_size_test"
ROUTE = "/api/v1/tenants/{tenant_id}/whatsapp/sessions/{session_id}/messages/{message_id}/attachments" * 2
"""A long label value, as routes are: the answer passes 4 MiB with fewer series."""


def _request(now_ns: int) -> bytes:
    points = [
        NumberDataPoint(
            time_unix_nano=now_ns,
            as_double=1.0,
            attributes=[
                KeyValue(key="tenant_id", value=AnyValue(string_value=f"tenant-{n:05d}")),
                KeyValue(key="http_route", value=AnyValue(string_value=ROUTE)),
            ],
        )
        for n in range(SERIES)
    ]
    metric = Metric(name=METRIC, gauge=Gauge(data_points=points))
    resource = ResourceMetrics(scope_metrics=[ScopeMetrics(metrics=[metric])])
    resource.resource.attributes.append(
        KeyValue(key="service.name", value=AnyValue(string_value="size-test"))
    )
    encoded: bytes = ExportMetricsServiceRequest(resource_metrics=[resource]).SerializeToString()
    return encoded


def _send(request: urllib.request.Request) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body: bytes = response.read()
            return response.status, body
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_a_push_and_a_series_lookup_over_four_mib_are_taken_and_answered(tmp_path: Path) -> None:
    with running_cortex(tmp_path) as base:
        push = urllib.request.Request(
            f"{base}/api/v1/otlp/v1/metrics",
            data=_request(time.time_ns()),
            headers={"X-Scope-OrgID": TENANT, "Content-Type": "application/x-protobuf"},
            method="POST",
        )
        pushed, answer = _send(push)
        assert pushed == 200, answer[:500]
        now = time.time()
        query = urllib.parse.urlencode({"match[]": METRIC, "start": now - 600, "end": now + 60})
        lookup = urllib.request.Request(
            f"{base}/prometheus/api/v1/series?{query}", headers={"X-Scope-OrgID": TENANT}
        )
        status, body = _send(lookup)
    assert status == 200, body[:500]
    assert len(body) > GRPC_DEFAULT, f"the premise: the answer ({len(body):,} B) is over gRPC's default"
    assert len(json.loads(body)["data"]) == SERIES
