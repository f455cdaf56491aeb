"""The Loki test server answers as Loki's documentation says (its docstring lists what it follows)."""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from tests.loki_server.server import LokiStore, loki_server

STREAM = {"service_name": "tiktickets-backend", "service_namespace": "tiktickets"}


@pytest.fixture
def loki() -> Iterator[tuple[str, LokiStore]]:
    with loki_server() as (url, store):
        now = time.time_ns()
        store.push(STREAM, "saved", {"severity_number": "9", "tenant_id": "acme", "trace_id": "ab"}, now - 3)
        store.push(STREAM, "boom", {"severity_number": "17", "tenant_id": "acme"}, now - 2)
        store.push(STREAM, "worse", {"severity_number": "21", "tenant_id": "globex"}, now - 1)
        store.push({"service_name": "vector"}, "disk full", {"severity_number": "oops"}, now)
        yield url, store


def get(url: str, path: str, **params: str) -> Any:
    with urllib.request.urlopen(f"{url}{path}?{urllib.parse.urlencode(params)}", timeout=5) as response:
        body = json.loads(response.read())
    assert body["status"] == "success"
    return body["data"]


def lines(url: str, query: str, **params: str) -> list[tuple[dict[str, str], str]]:
    data = get(url, "/loki/api/v1/query_range", query=query, **params)
    assert data["resultType"] == "streams"
    return [(stream["stream"], line) for stream in data["result"] for _, line in stream["values"]]


def test_structured_metadata_is_filtered_with_a_label_filter_and_returned_as_labels(
    loki: tuple[str, LokiStore],
) -> None:
    url, _ = loki
    found = lines(url, '{service_name="tiktickets-backend"} | severity_number >= 17')
    assert sorted(line for _, line in found) == ["boom", "worse"]
    assert all(labels["service_namespace"] == "tiktickets" and "tenant_id" in labels for labels, _ in found)
    assert [line for _, line in lines(url, '{service_name="tiktickets-backend"} | tenant_id="globex"')] == [
        "worse"
    ]


def test_regex_matchers_are_anchored_and_or_joins_alternatives(loki: tuple[str, LokiStore]) -> None:
    url, _ = loki
    assert lines(url, '{service_name=~"tiktickets"}') == []
    query = '{service_name=~"tiktickets-.*"} | tenant_id="globex" or severity_number < 10'
    assert sorted(line for _, line in lines(url, query)) == ["saved", "worse"]


def test_label_format_and_drop(loki: tuple[str, LokiStore]) -> None:
    url, _ = loki
    query = (
        '{service_name="tiktickets-backend"} | label_format marker="x" | marker="x" | drop marker, trace_id'
    )
    found = lines(url, query)
    assert len(found) == 3 and all("marker" not in labels and "trace_id" not in labels for labels, _ in found)


def test_a_numeric_filter_drops_lines_without_the_field_and_flags_values_that_are_not_numbers(
    loki: tuple[str, LokiStore],
) -> None:
    url, store = loki
    store.push(STREAM, "no severity", {"tenant_id": "acme"})
    assert "no severity" not in [
        line for _, line in lines(url, '{service_name="tiktickets-backend"} | severity_number >= 1')
    ]
    flagged = lines(url, '{service_name="vector"} | severity_number >= 17')
    assert [(labels["__error__"], line) for labels, line in flagged] == [("LabelFilterErr", "disk full")]


@pytest.mark.parametrize(
    ("pipeline", "kept"),
    [
        ('|= "o"', ["boom", "worse"]),
        ('!= "o"', ["saved"]),
        ('|~ "o+m"', ["boom"]),
        ('!~ "^s"', ["boom", "worse"]),
        ('|= "o" != "w"', ["boom"]),
        ('|= "o" |= "w"', ["worse"]),
        ('| tenant_id="acme" != "s"', ["boom"]),
        ('| tenant_id != "acme"', ["worse"]),
    ],
)
def test_line_filters_keep_lines_by_substring_or_unanchored_regex(
    loki: tuple[str, LokiStore], pipeline: str, kept: list[str]
) -> None:
    """Loki's four line filters (query/log_queries: "Line filter expression"): `|=` and `!=` test
    for a substring, `|~` and `!~` for a regex match anywhere in the line (not anchored, unlike label
    matchers); several are and-ed. `!=` after a label name is a label filter, not a line filter."""
    url, _ = loki
    found = lines(url, '{service_name="tiktickets-backend"} ' + pipeline)
    assert sorted(line for _, line in found) == kept


def test_direction_limit_and_time_window(loki: tuple[str, LokiStore]) -> None:
    url, _ = loki
    newest = lines(url, '{service_namespace="tiktickets"}', limit="2", direction="backward")
    assert [line for _, line in newest] == ["worse", "boom"]
    oldest = lines(url, '{service_namespace="tiktickets"}', limit="1", direction="forward")
    assert [line for _, line in oldest] == ["saved"]
    later = str(time.time_ns() + 10**9)
    assert lines(url, '{service_namespace="tiktickets"}', start=later, end=later) == []


def test_labels_lists_index_labels_only_and_values_per_label(loki: tuple[str, LokiStore]) -> None:
    url, _ = loki
    assert get(url, "/loki/api/v1/labels") == ["service_name", "service_namespace"]
    assert get(url, "/loki/api/v1/label/service_name/values") == ["tiktickets-backend", "vector"]
    assert get(url, "/loki/api/v1/label/tenant_id/values") == []


@pytest.mark.parametrize(
    "query",
    [
        'service_name="x"',
        '{service_name="x"} | json(',
        "{}",
        '{service_name="x"} | what is this',
        '{service_name="x"} | = "a"',
        '{service_name="x"} | ~ "a"',
    ],
)
def test_a_bad_query_is_a_400_with_a_plain_text_parse_error(loki: tuple[str, LokiStore], query: str) -> None:
    url, _ = loki
    with pytest.raises(urllib.error.HTTPError) as error:
        lines(url, query)
    assert error.value.code == 400
    assert error.value.headers["Content-Type"].startswith("text/plain")
    assert b"parse error" in error.value.read()


def _otlp_record(**extra: Any) -> dict[str, Any]:
    return {
        "timeUnixNano": str(time.time_ns()),
        "severityNumber": 17,
        "severityText": "error",
        "body": {"stringValue": "payment failed"},
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "b7ad6b7169203331",
        "attributes": [{"key": "tenant.id", "value": {"stringValue": "acme"}}],
        **extra,
    }


def test_otlp_push_maps_resource_attributes_to_index_labels_and_the_rest_to_structured_metadata() -> None:
    resource = {
        "attributes": [
            {"key": "service.name", "value": {"stringValue": "tiktickets-backend"}},
            {"key": "service.version", "value": {"stringValue": "1.2.3"}},
        ]
    }
    document = {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": [_otlp_record()]}]}]}
    with loki_server() as (url, _):
        request = urllib.request.Request(
            f"{url}/otlp/v1/logs",
            data=gzip.compress(json.dumps(document).encode()),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 204
        assert get(url, "/loki/api/v1/labels") == ["service_name"]
        [(labels, line)] = lines(url, '{service_name="tiktickets-backend"} | tenant_id="acme"')
    assert line == "payment failed"
    assert labels == {
        "service_name": "tiktickets-backend",
        "service_version": "1.2.3",
        "tenant_id": "acme",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "severity_text": "error",
        "severity_number": "17",
    }


def test_otlp_push_in_protobuf_and_a_record_without_service_name() -> None:
    request = ExportLogsServiceRequest()
    record = request.resource_logs.add().scope_logs.add().log_records.add()
    record.time_unix_nano, record.severity_number = time.time_ns(), 17
    record.body.string_value = "orphan"
    with loki_server() as (url, _):
        post = urllib.request.Request(
            f"{url}/otlp/v1/logs",
            data=request.SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
        with urllib.request.urlopen(post, timeout=5):
            pass
        [(labels, line)] = lines(url, '{service_name="unknown_service"} | severity_number = 17')
    assert line == "orphan" and labels["severity_number"] == "17"
