"""The stack's four rules, as checks on the files that implement them."""

from __future__ import annotations

from typing import Any

from telemetry.contract import CONTRACT, Emitter
from tests.stack.conftest import MONITORING, load, readme_block

BACKEND_ENV = readme_block("dotenv", "### Backend `.env`")


def env_lines() -> dict[str, str]:
    return dict(line.split("=", 1) for line in BACKEND_ENV.strip().splitlines())


def test_rule_1_the_backend_talks_only_to_the_collector(compose: dict[str, Any]) -> None:
    env = env_lines()
    endpoints = {k: v for k, v in env.items() if "ENDPOINT" in k or "://" in v}
    assert endpoints == {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318"}
    for backend in ("prometheus", "loki", "jaeger", "9090", "3100", "16686"):
        assert backend not in BACKEND_ENV
    # The backend joins `ingest`; only the Collector and the senders (Vector, the demo backend) are on it.
    on_ingest = {name for name, s in compose["services"].items() if "ingest" in s.get("networks", [])}
    assert on_ingest == {"otel-collector", "vector", "demo"}


def test_rule_2_the_backend_uses_only_the_otel_sdk() -> None:
    env = env_lines()
    assert env and all(key.startswith("OTEL_") for key in env)
    assert env["OTEL_SERVICE_NAME"] == CONTRACT.resource.service_name
    assert f"service.namespace={CONTRACT.resource.service_namespace}" in env["OTEL_RESOURCE_ATTRIBUTES"]


def test_rule_3_the_collector_is_the_hub(compose: dict[str, Any], collector: dict[str, Any]) -> None:
    vector = load(MONITORING / "vector" / "vector.yaml")
    assert all(
        sink["protocol"]["uri"].startswith("http://otel-collector:") for sink in vector["sinks"].values()
    )
    destinations = {e.get("endpoint") for e in collector["exporters"].values()}
    assert destinations == {"0.0.0.0:8889", "http://loki:3100/otlp", "jaeger:4317"}
    prometheus = load(MONITORING / "prometheus" / "prometheus.yml")
    targets = {t for job in prometheus["scrape_configs"] for g in job["static_configs"] for t in g["targets"]}
    # The Collector, Prometheus itself (its exemplar ring's metrics) and Alertmanager (its failed
    # notifications); nothing of the application.
    assert {t.split(":")[0] for t in targets} == {"otel-collector", "prometheus", "alertmanager"}
    # Loki and Jaeger sit on the observability network only, where the application is not.
    for backend in ("prometheus", "loki", "jaeger"):
        assert compose["services"][backend]["networks"] == ["observability"]


def test_rule_4_every_signal_carries_trace_id_and_tenant_id(collector: dict[str, Any]) -> None:
    transform = collector["processors"]["transform/tenant"]
    assert {"trace_statements", "log_statements", "metric_statements"} <= set(transform)
    # A metric carries tenant_id as a label and trace_id as an exemplar, never as a label. Exemplars
    # come from the Collector's route-level spanmetrics, the only emitter that can make them (the
    # Node.js SDK has none), and they stay off the per-tenant counts: Prometheus keeps one exemplar
    # ring for every series, and 2 per tenant x thousands of tenants pushed out the latency exemplars
    # the P99 panel links to traces with (issue 21). A tenant's traces are found from its logs.
    for signal in CONTRACT.metrics:
        if signal.emitter == Emitter.BACKEND or signal.tenant_budget is not None:
            assert "tenant_id" in signal.labels, signal.key
        else:
            assert signal.exemplar_labels[0] == "trace_id", signal.key
    for log in CONTRACT.logs:
        assert {"trace_id", "tenant_id"} <= set(log.structured_metadata)
    for trace in CONTRACT.traces:
        assert "tenant_id" in trace.attributes
