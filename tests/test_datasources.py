"""Datasources: the three correlations exist, point at provisioned uids, survive Grafana's `$` expansion."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.formats import dump_provisioning_yaml
from dashboards_as_code.render.provisioning_escape import expand
from datasources import DATASOURCES
from tests.conftest import REPO


def stored_by_grafana(node: Any) -> Any:
    """What Grafana keeps after reading the YAML: every string expanded with an empty environment."""
    if isinstance(node, str):
        return expand(node)
    if isinstance(node, dict):
        return {k: stored_by_grafana(v) for k, v in node.items()}
    if isinstance(node, list):
        return [stored_by_grafana(v) for v in node]
    return node


@pytest.fixture(scope="module")
def written() -> dict[str, Any]:
    """The datasources file as the project renders it (with each source's correlations)."""
    text = dump_provisioning_yaml(build_documents(load_project(REPO)).datasources, "datasources/")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


@pytest.fixture(scope="module")
def stored(written: dict[str, Any]) -> dict[str, Any]:
    document = stored_by_grafana(written)
    return {d["uid"]: d for d in document["datasources"]}


def test_file_shape(written: dict[str, Any]) -> None:
    assert written["apiVersion"] == 1
    assert [d["isDefault"] for d in written["datasources"]].count(True) == 1


def test_uids_urls_and_types(stored: dict[str, Any]) -> None:
    assert {uid: (d["type"], d["url"]) for uid, d in stored.items()} == {
        "prometheus": ("prometheus", "http://prometheus:9090"),
        "loki": ("loki", "http://loki:3100"),
        "jaeger": ("jaeger", "http://jaeger:16686"),
        "alertmanager": ("alertmanager", "http://alertmanager:9093"),
    }
    assert all(d["editable"] is False and d["access"] == "proxy" for d in stored.values())


def test_alertmanager_is_read_as_prometheus_alertmanager(stored: dict[str, Any]) -> None:
    """Grafana's default implementation is Mimir's, whose API Prometheus' Alertmanager does not serve:
    the alerts list would be empty. Grafana-managed alerts stay in Grafana (none are sent to it)."""
    assert stored["alertmanager"]["jsonData"] == {
        "implementation": "prometheus",
        "handleGrafanaManagedAlerts": False,
    }


def test_prometheus_exemplars_link_to_jaeger(stored: dict[str, Any]) -> None:
    (destination,) = stored["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert destination["name"] == "trace_id"  # the exemplar label the spanmetrics connector writes
    assert destination["datasourceUid"] == "jaeger"


def test_loki_trace_id_links_to_jaeger(stored: dict[str, Any]) -> None:
    (field,) = stored["loki"]["jsonData"]["derivedFields"]
    assert field["matcherType"] == "label"
    assert field["matcherRegex"] == "^trace_id$"
    assert field["url"] == "${__value.raw}"
    assert field["datasourceUid"] == "jaeger"


def test_jaeger_trace_links_to_loki_logs_and_metrics(stored: dict[str, Any]) -> None:
    logs = stored["jaeger"]["jsonData"]["tracesToLogsV2"]
    assert logs["datasourceUid"] == "loki"
    assert logs["customQuery"] is True
    assert logs["query"] == '{${__tags}} | trace_id="${__trace.traceId}"'
    assert logs["tags"] == [{"key": "service.name", "value": "service_name"}]
    assert logs["spanStartTimeShift"].startswith("-") and not logs["spanEndTimeShift"].startswith("-")
    metrics = stored["jaeger"]["jsonData"]["tracesToMetrics"]
    assert metrics["datasourceUid"] == "prometheus"
    # The whole query, written out: the span's tags pick the series, over a fixed 5m window (Explore).
    assert metrics["queries"] == [
        {"name": "Request rate", "query": "sum(rate(traces_span_metrics_calls_total{$__tags}[5m]))"},
        {
            "name": "Latency p95",
            "query": "histogram_quantile(0.95, sum by (le) "
            "(rate(traces_span_metrics_duration_seconds_bucket{$__tags}[5m])))",
        },
    ]


def test_every_link_points_at_a_provisioned_uid(stored: dict[str, Any]) -> None:
    uids = set(stored)
    links = [(d.uid, field, target) for d in DATASOURCES for field, target in d.links()]
    assert len(links) == 4
    for source, field, target in links:
        assert target in uids, f"{source} {field} -> {target}"


def test_escaping_is_what_makes_the_values_survive(written: dict[str, Any]) -> None:
    """Without `$$`, Grafana would store these values empty: the check above is not vacuous."""
    (field,) = written["datasources"][1]["jsonData"]["derivedFields"]
    assert field["url"] == "$${__value.raw}"
    assert expand("${__value.raw}") == ""


def test_correlation_variables_survive_grafanas_expansion(stored: dict[str, Any]) -> None:
    """Each correlation's query reaches Grafana with its `${field}` variables intact, and would not
    without the escaping (`$${traceID}` in the file)."""
    correlations = load_project(REPO).definitions["correlation"]
    for correlation in correlations:
        listed = stored[correlation.source_uid]["correlations"]
        (entry,) = [c for c in listed if c["label"] == correlation.label]
        assert entry["config"]["target"] == correlation.target
    variables = [v for c in correlations for v in c.target.values() if isinstance(v, str) and "${" in v]
    assert variables and all(expand(v) != v for v in variables)


def test_committed_file_is_what_grafana_should_store(stored: dict[str, Any]) -> None:
    committed = stored_by_grafana(
        yaml.safe_load((REPO / "provisioning/datasources/datasources.yaml").read_text())
    )
    assert {d["uid"]: d for d in committed["datasources"]} == stored


def test_the_provisioning_file_has_no_prune() -> None:
    """Grafana 13 is reported to fail at startup on `prune: true` (collector-facts.md, Grafana)."""
    document = yaml.safe_load((REPO / "provisioning/datasources/datasources.yaml").read_text())
    assert "prune" not in document and len(document["datasources"]) == len(DATASOURCES)
