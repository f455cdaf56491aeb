"""The Collector config: a consistent hub whose connectors produce exactly the contract's series."""

from __future__ import annotations

from typing import Any

from dashboards_as_code.contract.model import Instrument, prometheus_base_name
from telemetry.contract import (
    LATENCY_THRESHOLD_SECONDS,
    SPAN_CALLS,
    SPAN_DURATION,
    TENANT_SLOW_SPAN_CALLS,
    TENANT_SPAN_CALLS,
)
from tests.stack.conftest import MONITORING

SPANMETRICS_DEFAULT_NAMESPACE = "traces.span.metrics"
"""The connector's default namespace (connector/spanmetricsconnector factory, since PR #34485)."""
SPANMETRICS_DEFAULT_DIMENSIONS = ("service.name", "span.name", "span.kind", "status.code")


def components(collector: dict[str, Any], section: str) -> set[str]:
    return set(collector.get(section) or {})


def used(collector: dict[str, Any], role: str) -> set[str]:
    return {
        name for pipeline in collector["service"]["pipelines"].values() for name in pipeline.get(role, [])
    }


def test_every_component_used_is_defined_and_every_defined_one_is_used(collector: dict[str, Any]) -> None:
    connectors = components(collector, "connectors")
    for role, section in (
        ("receivers", "receivers"),
        ("processors", "processors"),
        ("exporters", "exporters"),
    ):
        defined = components(collector, section) | (connectors if role != "processors" else set())
        assert used(collector, role) <= defined, (
            f"{role} used but not defined: {used(collector, role) - defined}"
        )
        assert components(collector, section) <= used(collector, role), f"unused {section}"
    assert connectors <= used(collector, "exporters") & used(collector, "receivers")  # both ends wired
    assert set(collector["service"]["extensions"]) == components(collector, "extensions")


def test_receivers_listen_inside_the_network(collector: dict[str, Any]) -> None:
    protocols = collector["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert collector["extensions"]["health_check"]["endpoint"].endswith(":13133")


def test_processor_order(collector: dict[str, Any]) -> None:
    """memory_limiter first everywhere. A pipeline feeding an exporter that queues on disk has no
    batch processor (the queue batches, after the data is on disk: nothing acknowledged is held in
    memory); every other pipeline batches last."""
    for name, pipeline in collector["service"]["pipelines"].items():
        processors = pipeline["processors"]
        assert processors[0] == "memory_limiter", name
        queued = [
            e
            for e in pipeline["exporters"]
            if "storage" in (collector["exporters"].get(e) or {}).get("sending_queue", {})
        ]
        if queued:
            assert "batch" not in processors, (name, queued)
            for exporter in queued:
                assert collector["exporters"][exporter]["sending_queue"]["batch"]["flush_timeout"], exporter
        else:
            assert processors[-1] == "batch", name


def test_pipelines_route_signals_to_their_backends(collector: dict[str, Any]) -> None:
    pipelines = collector["service"]["pipelines"]
    assert set(pipelines["traces"]["exporters"]) == {"otlp_grpc/jaeger", "span_metrics"}
    # The per-tenant counts read the same spans, narrowed to requests, in a pipeline of their own.
    assert pipelines["traces/tenant"]["receivers"] == pipelines["traces"]["receivers"]
    assert pipelines["traces/tenant"]["exporters"] == ["span_metrics/tenant"]
    assert pipelines["traces/tenant_slow"]["receivers"] == pipelines["traces"]["receivers"]
    assert pipelines["traces/tenant_slow"]["exporters"] == ["span_metrics/tenant_slow"]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    assert set(pipelines["metrics/spanmetrics"]["receivers"]) == {
        "span_metrics",
        "span_metrics/tenant",
        "span_metrics/tenant_slow",
    }
    assert pipelines["logs"]["exporters"] == ["otlp_http/loki"]
    assert collector["exporters"]["otlp_grpc/jaeger"]["endpoint"] == "jaeger:4317"
    assert collector["exporters"]["otlp_http/loki"]["endpoint"] == "http://loki:3100/otlp"


def test_exemplars_survive_to_prometheus(collector: dict[str, Any]) -> None:
    assert collector["exporters"]["prometheus"]["enable_open_metrics"] is True
    assert collector["exporters"]["prometheus"]["endpoint"] == "0.0.0.0:8889"
    for name, signal in (
        ("span_metrics", SPAN_CALLS),
        ("span_metrics/tenant", TENANT_SPAN_CALLS),
        ("span_metrics/tenant_slow", TENANT_SLOW_SPAN_CALLS),
    ):
        # Exemplars where the contract declares them (a panel reads them), nowhere else: Prometheus
        # keeps one ring of exemplars for every series.
        assert collector["connectors"][name]["exemplars"]["enabled"] is bool(signal.exemplar_labels), name
        # A label whose value changes at every Collector start would break every rate() across it.
        assert "collector.instance.id" in collector["connectors"][name]["exclude_dimensions"]
    assert SPAN_DURATION.exemplar_labels, "the latency panel's exemplars come from the route-level connector"
    # The contract's series carry no otel_scope_* labels.
    assert collector["exporters"]["prometheus"]["without_scope_info"] is True


def _dimensions(connector: dict[str, Any]) -> list[str]:
    return [d["name"] for d in connector.get("dimensions", [])]


def test_spanmetrics_produce_the_contract_series(collector: dict[str, Any]) -> None:
    route = collector["connectors"]["span_metrics"]
    namespace = route.get("namespace", SPANMETRICS_DEFAULT_NAMESPACE)
    assert f"{namespace}.calls" == SPAN_CALLS.otel_name
    assert f"{namespace}.duration" == SPAN_DURATION.otel_name
    unit = route["histogram"]["unit"]
    assert (
        prometheus_base_name(SPAN_DURATION.otel_name, unit, Instrument.HISTOGRAM)
        == SPAN_DURATION.prometheus_name
    )
    assert _all_dimensions(route) == list(SPAN_CALLS.attributes)
    assert "tenant_id" not in _dimensions(route)

    tenant = collector["connectors"]["span_metrics/tenant"]
    assert f"{tenant['namespace']}.calls" == TENANT_SPAN_CALLS.otel_name
    assert tenant["histogram"]["disable"] is True
    assert _all_dimensions(tenant) == list(TENANT_SPAN_CALLS.attributes)

    slow = collector["connectors"]["span_metrics/tenant_slow"]
    assert f"{slow['namespace']}.calls" == TENANT_SLOW_SPAN_CALLS.otel_name
    assert slow["histogram"]["disable"] is True
    assert _all_dimensions(slow) == list(TENANT_SLOW_SPAN_CALLS.attributes)


def test_the_per_tenant_slow_count_cuts_where_the_latency_slo_does(collector: dict[str, Any]) -> None:
    """The per-tenant latency SLI (1 - slow / all) and the fleet's (the histogram's `le` bucket at the
    threshold over all) must call the same requests slow: the Collector drops, from the slow count's
    pipeline, server spans of at most the threshold (a span of exactly it is within, like `le`), and
    the route-level histogram has a bucket boundary at it."""
    nanoseconds = round(float(LATENCY_THRESHOLD_SECONDS) * 1e9)
    within = collector["processors"]["filter/within_latency_target"]["traces"]["span"]
    assert within == [f"span.end_time_unix_nano - span.start_time_unix_nano <= {nanoseconds}"]
    slow = collector["service"]["pipelines"]["traces/tenant_slow"]["processors"]
    tenant = collector["service"]["pipelines"]["traces/tenant"]["processors"]
    # The same requests as the per-tenant calls (server spans, one resource), then only the slow ones.
    assert [p for p in slow if p != "filter/within_latency_target"] == tenant
    assert slow.index("filter/within_latency_target") > slow.index("filter/server_spans")
    buckets = collector["connectors"]["span_metrics"]["histogram"]["explicit"]["buckets"]
    seconds = [float(b[:-2]) / 1000 if b.endswith("ms") else float(b[:-1]) for b in buckets]
    assert float(LATENCY_THRESHOLD_SECONDS) in seconds


def _all_dimensions(connector: dict[str, Any]) -> list[str]:
    """The connector's default dimensions it does not exclude, then its own."""
    excluded = set(connector.get("exclude_dimensions", []))
    return [d for d in SPANMETRICS_DEFAULT_DIMENSIONS if d not in excluded] + _dimensions(connector)


def test_histogram_buckets_are_the_sdk_advice_buckets(collector: dict[str, Any]) -> None:
    buckets = collector["connectors"]["span_metrics"]["histogram"]["explicit"]["buckets"]
    seconds = [float(b[:-2]) / 1000 if b.endswith("ms") else float(b[:-1]) for b in buckets]
    assert seconds == [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]


def test_tenant_step_covers_spans_logs_and_application_metrics(collector: dict[str, Any]) -> None:
    transform = collector["processors"]["transform/tenant"]
    for key, context in (
        ("trace_statements", "span"),
        ("log_statements", "log"),
        ("metric_statements", "datapoint"),
    ):
        (statement,) = transform[key]
        attribute = f'{context}.attributes["tenant_id"]'
        # An SDK's overflow point is many tenants, not one called "unknown" (tests/e2e/test_hub.py).
        unless_overflow = (
            f' and {context}.attributes["otel.metric.overflow"] == nil' if context == "datapoint" else ""
        )
        assert statement == f'set({attribute}, "unknown") where {attribute} == nil{unless_overflow}'
    pipelines = collector["service"]["pipelines"]
    for name in ("traces", "traces/tenant", "traces/tenant_slow", "metrics", "logs"):
        assert "transform/tenant" in pipelines[name]["processors"], name
    # Route-level spanmetrics stay tenant-free (the contract says so); they are derived from spans
    # that all carry tenant_id, and the per-tenant rates come from spanmetrics/tenant.
    assert "transform/tenant" not in pipelines["metrics/spanmetrics"]["processors"]
    assert collector["connectors"]["span_metrics/tenant"]["dimensions"] == [
        {"name": "tenant_id", "default": "unknown"}
    ]


def test_sampling_warning_is_written_next_to_the_pipelines() -> None:
    text = (MONITORING / "otel-collector" / "config.yaml").read_text()
    assert "Sampling, if it is ever added, must come after the spanmetrics connectors" in text


BACKEND_EXPORTERS = ("otlp_http/loki", "otlp_grpc/jaeger")
"""The exporters that push to a backend which can be down (the Prometheus exporter is scraped)."""


def test_what_waits_for_a_backend_is_on_disk_and_waits_until_it_is_back(
    collector: dict[str, Any], compose: dict[str, Any]
) -> None:
    """The comment: "queue on disk and retry until the backend is back": each backend exporter's
    sending queue names a file_storage extension the service starts, whose folder is a named volume
    of the Collector's service (not the container's own layer, gone at the next `up`); its retries
    never stop (max_elapsed_time 0: after the default 5 min the batch would be dropped, disk or not);
    and the queue is bounded in bytes, the unit the volume fills in."""
    service = compose["services"]["otel-collector"]
    volumes = {
        target: source
        for source, target, *_ in (str(mount).split(":") for mount in service["volumes"])
        if source in compose["volumes"]
    }
    for name in BACKEND_EXPORTERS:
        exporter = collector["exporters"][name]
        queue = exporter["sending_queue"]
        storage = queue["storage"]
        assert storage.split("/")[0] == "file_storage" and storage in collector["service"]["extensions"], name
        assert collector["extensions"][storage]["directory"] in volumes, (name, volumes)
        assert queue["sizer"] == "bytes" and queue["queue_size"] > 0, name
        assert exporter["retry_on_failure"]["max_elapsed_time"] == 0, name
