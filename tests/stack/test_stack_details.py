"""Details of the stack's configs that are promises to a person or to another component.

How long logs and traces are kept is what the README's service table tells the operator; the
Collector must speak to Jaeger the way Jaeger listens (plain gRPC inside the compose network); and
the two span-metrics connectors must hand Prometheus fresh, matching numbers at every scrape, or the
per-tenant request rate and the per-route one disagree over the same window.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.grafana_math import parse_duration, range_seconds
from dashboards_as_code.render.documents import build_documents
from prometheus_rules.slo import SLO_PERIOD, WINDOWS
from tests.conftest import REPO
from tests.stack.conftest import MONITORING, load, with_defaults

UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(duration: str) -> float:
    """A Go/Prometheus duration of one unit (`15s`, `168h`, `7d`) in seconds."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", str(duration))
    assert found, f"not a duration: {duration!r}"
    return float(found[1]) * UNITS[found[2]]


def readme_row(service: str) -> str:
    """The README's service table row whose first cell names `service`."""
    rows = [
        line for line in (REPO / "README.md").read_text().splitlines() if line.startswith(f"| {service} (")
    ]
    assert len(rows) == 1, f"the README's service table has {len(rows)} rows for {service}"
    return rows[0]


def readme_days(service: str) -> float:
    """How many days the README says `service` keeps its data ("7-day retention", "for 7 days")."""
    found = re.search(r"(\d+)-day retention|for (\d+) days", readme_row(service))
    assert found, f"the README no longer says how long {service} keeps data: {readme_row(service)}"
    return float(found[1] or found[2])


def test_loki_keeps_logs_as_long_as_the_readme_says() -> None:
    config: dict[str, Any] = load(MONITORING / "loki" / "config.yaml")
    kept = seconds(config["limits_config"]["retention_period"])
    assert kept == readme_days("loki") * 86400, config["limits_config"]
    assert config["compactor"]["retention_enabled"] is True  # without it nothing is ever deleted


def test_prometheus_keeps_an_slo_period_and_what_the_readme_says(compose: dict[str, Any]) -> None:
    """The 30-day budgets (the Tenant dashboard's, the fleet's) sum 30 days of recorded rates: with a
    shorter retention they silently cover what is left, and read a budget that is too large."""
    command = compose["services"]["prometheus"]["command"]
    [flag] = [f for f in command if f.startswith("--storage.tsdb.retention.time=")]
    kept = parse_duration(flag.split("=", 1)[1])
    assert kept >= parse_duration(SLO_PERIOD), flag
    assert kept == readme_days("prometheus") * 86400, flag


def test_jaeger_keeps_traces_as_long_as_the_readme_says() -> None:
    config: dict[str, Any] = with_defaults(load(MONITORING / "jaeger" / "config.yaml"))
    (backend,) = config["extensions"]["jaeger_storage"]["backends"].values()
    assert seconds(backend["badger"]["ttl"]["spans"]) == readme_days("jaeger") * 86400, backend


def test_the_collector_speaks_to_jaeger_the_way_jaeger_listens(collector: dict[str, Any]) -> None:
    """Jaeger's OTLP gRPC receiver has no TLS: a Collector exporter that expects TLS never delivers
    a span (the handshake fails at every export). It must send plaintext, to the receiver's port."""
    jaeger: dict[str, Any] = with_defaults(load(MONITORING / "jaeger" / "config.yaml"))
    receiver = jaeger["receivers"]["otlp"]["protocols"]["grpc"]
    exporter = collector["exporters"]["otlp_grpc/jaeger"]
    if "tls" not in receiver:
        assert exporter.get("tls", {}).get("insecure") is True, exporter
    assert str(exporter["endpoint"]).rsplit(":", 1)[1] == str(receiver["endpoint"]).rsplit(":", 1)[1]


def test_span_metrics_are_flushed_together_and_often_enough_for_the_rules(collector: dict[str, Any]) -> None:
    """Every connector flushes at one interval (else the per-tenant and the per-route rate of the same
    window disagree, and a tenant's slow share compares counts of different moments), and the
    shortest range the Prometheus rules take holds at least four flushes (Prometheus's own rule of
    thumb for a rate() range and the samples in it): the counts change only at a flush, so a slower
    one makes a 5m rate jump in steps or read nothing."""
    rules = (MONITORING / "prometheus" / "rules" / "tiktickets.yml").read_text()
    ranges = [seconds(found) for found in re.findall(r"\[(\d+[smhd])\]", rules)]
    assert ranges, "the rules take no range: nothing to hold the flush interval against"
    connectors = {
        name: seconds(connector["metrics_flush_interval"])
        for name, connector in collector["connectors"].items()
        if name.split("/")[0] == "span_metrics"
    }
    assert {"span_metrics", "span_metrics/tenant", "span_metrics/tenant_slow"} <= set(connectors), connectors
    assert len(set(connectors.values())) == 1, f"the span-metrics connectors flush apart: {connectors}"
    assert 4 * max(connectors.values()) <= min(ranges), f"{connectors}: too slow for a {min(ranges):g}s range"


def test_vector_leaves_out_the_containers_it_means_to_by_their_compose_names(compose: dict[str, Any]) -> None:
    """Vector's docker_logs source matches `exclude_containers` as prefixes of container names or ids,
    and compose names a container `<project>-<service>-<n>` unless it sets container_name. The
    Collector's and Vector's own logs would loop through the Collector; the demo's go out by OTLP
    already. A bare service name ("otel-collector") matches none of them."""
    config: dict[str, Any] = load(MONITORING / "vector" / "vector.yaml")
    (source,) = (s for s in config["sources"].values() if s["type"] == "docker_logs")
    excluded = source["exclude_containers"]
    for service in ("otel-collector", "vector", "demo"):
        definition = compose["services"][service]
        container = definition.get("container_name") or f"{compose['name']}-{service}-1"
        assert any(container.startswith(prefix) for prefix in excluded), (
            f"Vector ships the logs of {container}: none of {excluded} is a prefix of it"
        )


def test_prometheus_keeps_the_longest_window_an_slo_alert_reads(compose: dict[str, Any]) -> None:
    """The slow burn-rate ticket compares error ratios over its long window (3 days): a retention
    shorter than that makes the ratio read only what is left, and the alert judges a part as all."""
    flags = compose["services"]["prometheus"]["command"]
    (retention,) = [f.split("=", 1)[1] for f in flags if f.startswith("--storage.tsdb.retention.time=")]
    longest = max(parse_duration(window.long) for window in WINDOWS)
    assert seconds(retention) >= longest, (
        f"Prometheus keeps {retention}; an SLO alert reads {longest:g}s back"
    )


def test_only_the_collector_joins_both_networks(compose: dict[str, Any]) -> None:
    """The rule "applications talk only to the Collector" holds by construction: whatever joins the
    ingest network (Vector, the demo) joins nothing else, so Prometheus, Loki and Jaeger are out of
    its reach; only the Collector bridges the two."""
    bridges = {
        name
        for name, service in compose["services"].items()
        if {"ingest", "observability"} <= set(service.get("networks", []))
    }
    assert bridges == {"otel-collector"}, bridges
    for name, service in compose["services"].items():
        if "ingest" in service.get("networks", []) and name != "otel-collector":
            assert service["networks"] == ["ingest"], (name, service["networks"])


def test_the_exemplar_ring_holds_the_default_range_of_every_dashboard_at_the_measured_rate() -> None:
    """Prometheus keeps one ring of exemplars for every series: at the rate the hub benchmark measured
    (the most exemplars per second of its runs after issue 21), the ring the committed config sizes
    outlasts the time range each dashboard opens on, so the P99 panel's dots reach back to its left
    edge. A panel that adds exemplars, or traffic that raises the rate, shows in the benchmark first."""
    rates = [
        run["exemplars"]["appended_per_s"]
        for results in sorted((REPO / "bench" / "results").glob("hub-at-scale*.json"))  # two instances too
        for key, run in json.loads(results.read_text()).items()
        if "before" not in key
    ]
    assert rates, "the premise: the benchmark has runs after issue 21"
    size = load(MONITORING / "prometheus" / "prometheus.yml")["storage"]["exemplars"]["max_exemplars"]
    for board in build_documents(load_project(REPO)).dashboards:
        opened = range_seconds(str(board.document["time"]["from"]))
        assert size / max(rates) >= opened, (board.uid, size, max(rates), opened)
