"""The telemetry contract holds the names the issue and the reference fix, and enforces its rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config import CONFIG
from dashboards_as_code.contract.markdown import contract_markdown
from dashboards_as_code.contract.model import (
    ContractError,
    Instrument,
    LogSignal,
    MetricSignal,
    prometheus_base_name,
)
from dashboards_as_code.definitions.loader import CONTRACT_SOURCE
from telemetry.contract import (
    BACKEND_LOGS,
    CONTRACT,
    SOCKETIO_CONNECTIONS,
    SPAN_CALLS,
    SPAN_DURATION,
    TENANT_SPAN_CALLS,
    WHATSAPP_MESSAGES_SENT,
    WHATSAPP_SESSIONS_ACTIVE,
)

# Expected series, copied from the issue text (not from the code): OTel name -> Prometheus names.
EXPECTED_SERIES = {
    "traces.span.metrics.calls": ("traces_span_metrics_calls_total",),
    "traces.span.metrics.duration": (
        "traces_span_metrics_duration_seconds_bucket",
        "traces_span_metrics_duration_seconds_sum",
        "traces_span_metrics_duration_seconds_count",
    ),
    "tenant.span.metrics.calls": ("tenant_span_metrics_calls_total",),
    # Issue 22's per-tenant latency SLI; the name the real Collector 0.161.0 wrote for this namespace.
    "tenant.slow.span.metrics.calls": ("tenant_slow_span_metrics_calls_total",),
    "tiktickets.whatsapp.sessions.active": ("tiktickets_whatsapp_sessions_active",),
    "tiktickets.socketio.connections": ("tiktickets_socketio_connections",),
    "tiktickets.whatsapp.messages.sent": ("tiktickets_whatsapp_messages_sent_total",),
}


def test_every_expected_signal_is_in_the_contract_with_its_series() -> None:
    got = {m.otel_name: m.series_names for m in CONTRACT.metrics}
    assert got == EXPECTED_SERIES


@pytest.mark.parametrize("signal", CONTRACT.metrics, ids=lambda s: s.key)
def test_declared_names_follow_the_collector_translation(signal: MetricSignal) -> None:
    assert prometheus_base_name(signal.otel_name, signal.unit, signal.instrument) == signal.prometheus_name


@pytest.mark.parametrize(
    ("otel", "unit", "instrument", "expected"),
    [
        # Examples from the reference (telemetry-contract.md §2.5), independent of this contract.
        ("http.server.request.duration", "s", Instrument.HISTOGRAM, "http_server_request_duration_seconds"),
        ("http.server.duration", "ms", Instrument.HISTOGRAM, "http_server_duration_milliseconds"),
        (
            "tiktickets.whatsapp.messages.sent",
            "{message}",
            Instrument.COUNTER,
            "tiktickets_whatsapp_messages_sent_total",
        ),
        (
            "tiktickets.socketio.connections",
            "{connection}",
            Instrument.UP_DOWN_COUNTER,
            "tiktickets_socketio_connections",
        ),
        # collector-facts.md (otlptranslator normalizeName): `_ratio` only for a gauge of unit 1,
        ("cache.hit.share", "1", Instrument.GAUGE, "cache_hit_share_ratio"),
        ("queue.fill", "1", Instrument.UP_DOWN_COUNTER, "queue_fill"),
        # an existing `total` token moves to the end instead of doubling,
        ("requests.total.count", "", Instrument.COUNTER, "requests_count_total"),
        # the unit suffix is not repeated when its word is already in the name,
        ("process.seconds.used", "s", Instrument.GAUGE, "process_seconds_used"),
        # and a rate unit `a/b` becomes `a_per_b`.
        ("network.io", "By/s", Instrument.GAUGE, "network_io_bytes_per_second"),
    ],
)
def test_translation_rule(otel: str, unit: str, instrument: Instrument, expected: str) -> None:
    assert prometheus_base_name(otel, unit, instrument) == expected


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(ContractError, match="furlongs"):
        prometheus_base_name("a.b", "furlongs", Instrument.COUNTER)


def test_types_follow_the_instruments() -> None:
    assert [m.prom_type.value for m in CONTRACT.metrics] == [
        "counter",
        "histogram",
        "counter",
        "counter",
        "gauge",
        "gauge",
        "counter",
    ]


def test_spanmetrics_labels_and_exemplars() -> None:
    for signal in (SPAN_CALLS, SPAN_DURATION):
        assert set(signal.labels) >= {
            "service_name",
            "span_name",
            "span_kind",
            "status_code",
            "http_route",
            "http_request_method",
            "http_response_status_code",
        }
        assert "tenant_id" not in signal.labels  # route-level series never carry the tenant
        assert signal.exemplar_labels == ("trace_id", "span_id")
    assert SPAN_DURATION.unit == "s"
    assert "le" in SPAN_DURATION.series_labels("traces_span_metrics_duration_seconds_bucket")
    assert set(TENANT_SPAN_CALLS.labels) >= {"tenant_id", "span_kind", "status_code", "service_name"}
    assert "http_route" not in TENANT_SPAN_CALLS.labels


def test_business_metrics_carry_tenant_and_job() -> None:
    assert WHATSAPP_SESSIONS_ACTIVE.labels[:2] == ("tenant_id", "whatsapp_id")
    assert SOCKETIO_CONNECTIONS.labels[0] == "tenant_id"
    assert WHATSAPP_MESSAGES_SENT.labels[:2] == ("tenant_id", "whatsapp_id")
    for signal in (WHATSAPP_SESSIONS_ACTIVE, SOCKETIO_CONNECTIONS, WHATSAPP_MESSAGES_SENT):
        assert signal.identity == (("job", "tiktickets/tiktickets-backend"),)


def test_backend_logs_labels_and_metadata() -> None:
    assert BACKEND_LOGS.stream == (
        ("service_namespace", "tiktickets"),
        ("service_name", "tiktickets-backend"),
    )
    assert set(BACKEND_LOGS.index_labels) == {
        "service_name",
        "service_namespace",
        "service_instance_id",
        "deployment_environment_name",
    }
    assert set(BACKEND_LOGS.structured_metadata) == {
        "trace_id",
        "span_id",
        "severity_text",
        "severity_number",
        "tenant_id",
    }
    assert BACKEND_LOGS.error_severity_number == 17


def test_trace_id_can_never_be_a_prometheus_label() -> None:
    data = {**SOCKETIO_CONNECTIONS.model_dump(), "attributes": ("tenant_id", "trace_id")}
    with pytest.raises(ValidationError, match="trace_id must never be a Prometheus label"):
        MetricSignal.model_validate(data)


def test_tenant_id_can_never_be_a_loki_stream_label() -> None:
    data = {**BACKEND_LOGS.model_dump(), "index_labels": ("service_name", "service_namespace", "tenant_id")}
    with pytest.raises(ValidationError, match="tenant_id must never be a Loki stream label"):
        LogSignal.model_validate(data)


def test_stream_labels_must_be_labels_loki_indexes() -> None:
    data = {**BACKEND_LOGS.model_dump(), "index_labels": ("service_name", "service_namespace", "level")}
    with pytest.raises(ValidationError, match="does not index"):
        LogSignal.model_validate(data)


def test_unknown_signal_lookup_names_the_known_ones() -> None:
    with pytest.raises(ContractError, match=r"unknown metric signal 'http_requests_total'.*span_calls"):
        CONTRACT.metric("http_requests_total")
    assert CONTRACT.metric("tiktickets_socketio_connections") is SOCKETIO_CONNECTIONS


@pytest.mark.parametrize("signal", CONTRACT.metrics, ids=lambda s: s.key)
def test_a_metric_signal_is_found_by_its_key_its_prometheus_name_and_its_otel_name(
    signal: MetricSignal,
) -> None:
    """`CONTRACT.metric` finds each signal of the contract under any of its three names.

    The backend team writes a metric by its OTel name (`traces.span.metrics.calls`), Prometheus and a
    query by its Prometheus name, and the definitions by the contract's key. A definition, rule or query
    helper may name a signal in any of these forms; each must find the same signal, not fail with
    "unknown metric signal". The signals are those of the project's contract, so a new one is covered too."""
    names = {"key": signal.key, "Prometheus name": signal.prometheus_name, "OTel name": signal.otel_name}
    for form, name in names.items():
        try:
            found = CONTRACT.metric(name)
        except ContractError as error:
            pytest.fail(f"{signal.key} not found by its {form} {name!r}: {error}")
        assert found is signal, f"{signal.key}: its {form} {name!r} finds {found.key}"


def test_series_lookup_covers_histogram_parts() -> None:
    assert CONTRACT.metric_for_series("traces_span_metrics_duration_seconds_count") is SPAN_DURATION
    assert CONTRACT.metric_for_series("traces_span_metrics_duration_seconds") is None
    assert CONTRACT.metric_for_series("http_server_request_duration_seconds_count") is None


def test_markdown_tells_the_backend_team_every_name() -> None:
    text = contract_markdown(CONTRACT, title=CONFIG.contract_title, source=CONTRACT_SOURCE)
    for signal in CONTRACT.metrics:
        assert f"`{signal.otel_name}`" in text
        for series in signal.series_names:
            assert f"`{series}`" in text
    assert '`{service_namespace="tiktickets", service_name="tiktickets-backend"}`' in text
    assert "`severity_number >= 17`" in text


@pytest.mark.parametrize(
    ("instrument", "expected"),
    [
        # The OTLP -> Prometheus mapping the Collector's exporters follow: a monotonic sum (Counter) is a
        # counter; a non-monotonic sum (UpDownCounter: connections, sessions, queue depth) goes up and
        # down, so it is exported as a gauge, and rate() over it would be meaningless.
        (Instrument.COUNTER, "counter"),
        (Instrument.UP_DOWN_COUNTER, "gauge"),
        (Instrument.GAUGE, "gauge"),
        (Instrument.HISTOGRAM, "histogram"),
    ],
)
def test_each_instrument_is_the_prometheus_type_the_collector_exports(
    instrument: Instrument, expected: str
) -> None:
    name = {"counter": "queue_items_total", "histogram": "queue_items"}.get(expected, "queue_items")
    signal = MetricSignal(
        key="queue",
        otel_name="queue.items",
        unit="{item}",
        instrument=instrument,
        emitter="the worker",
        description="Items.",
        attributes=(),
        identity=(("job", "shop/worker"),),
        prometheus_name=name,
        grafana_unit="short",
    )
    assert signal.prom_type.value == expected
