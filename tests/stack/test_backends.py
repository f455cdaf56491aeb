"""Prometheus (promtool), Loki, Jaeger and Vector configs: they parse and hold the structure we rely on."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from dashboards_as_code.external_tools import PROMTOOL
from tests.stack.conftest import MONITORING, load, with_defaults
from tests.tooling import require_tool


def promtool_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool(PROMTOOL), "check", "config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_prometheus_config_passes_promtool() -> None:
    result = promtool_check(MONITORING / "prometheus" / "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_rejects_a_broken_config(tmp_path: Path) -> None:
    broken = tmp_path / "prometheus.yml"
    broken.write_text((MONITORING / "prometheus" / "prometheus.yml").read_text().replace("15s", "fifteen"))
    result = promtool_check(broken)
    assert result.returncode != 0 and "fifteen" in result.stdout + result.stderr


def test_prometheus_scrapes_the_collector_with_honor_labels_itself_and_alertmanager() -> None:
    config: dict[str, Any] = load(MONITORING / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {t for job in jobs.values() for group in job["static_configs"] for t in group["targets"]}
    assert targets == {"otel-collector:8889", "otel-collector:8888", "prometheus:9090", "alertmanager:9093"}
    assert jobs["otel-collector-exporter"]["honor_labels"] is True
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]


def test_prometheus_flags(compose: dict[str, Any]) -> None:
    flags = compose["services"]["prometheus"]["command"]
    assert "--enable-feature=exemplar-storage" in flags
    assert (
        "--enable-feature=created-timestamp-zero-ingestion" in flags
    )  # tests/prometheus/test_first_counts.py
    assert "--web.enable-lifecycle" in flags
    # It receives nothing pushed: no remote-write or OTLP receiver for an application to use.
    assert not any("remote-write-receiver" in f or "otlp" in f for f in flags)


def test_loki_stores_otlp_logs_with_structured_metadata_and_retention() -> None:
    config: dict[str, Any] = load(MONITORING / "loki" / "config.yaml")
    (schema,) = config["schema_config"]["configs"]
    assert (schema["store"], schema["schema"]) == ("tsdb", "v13")
    assert config["limits_config"]["allow_structured_metadata"] is True
    assert config["limits_config"]["retention_period"] == "168h"
    assert config["compactor"]["retention_enabled"] is True
    assert config["server"]["http_listen_port"] == 3100


def test_jaeger_v2_takes_otlp_only_and_serves_the_ui_on_16686(compose: dict[str, Any]) -> None:
    config: dict[str, Any] = with_defaults(load(MONITORING / "jaeger" / "config.yaml"))
    assert set(config["receivers"]) == {"otlp"}
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc"}
    assert config["service"]["pipelines"]["traces"]["receivers"] == ["otlp"]
    store = config["extensions"]["jaeger_query"]["storage"]["traces"]
    assert store in config["extensions"]["jaeger_storage"]["backends"]
    assert config["exporters"]["jaeger_storage_exporter"]["trace_storage"] == store
    assert config["extensions"]["jaeger_query"]["http"]["endpoint"].endswith(":16686")
    assert compose["services"]["jaeger"]["image"].split(":")[-1].startswith("2.")


def test_vector_sends_infrastructure_logs_to_the_collector_only() -> None:
    config: dict[str, Any] = load(MONITORING / "vector" / "vector.yaml")
    (sink,) = config["sinks"].values()
    assert sink["type"] == "opentelemetry"
    assert sink["protocol"]["uri"] == "http://otel-collector:4318/v1/logs"
    assert sink["protocol"]["batch"]["max_events"] == 1
    remap = config["transforms"]["to_otlp"]["source"]
    assert '{"key": "service.namespace", "value": {"stringValue": "infra"}}' in remap
    assert "loki" not in json.dumps(config).lower()


def test_jaeger_keeps_traces_in_badger_on_a_named_volume(compose: dict[str, Any]) -> None:
    config: dict[str, Any] = with_defaults(load(MONITORING / "jaeger" / "config.yaml"))
    (backend,) = config["extensions"]["jaeger_storage"]["backends"].values()
    badger = backend["badger"]
    assert badger["ephemeral"] is False
    directory = badger["directories"]["keys"].rsplit("/", 1)[0]
    assert f"jaeger-data:{directory}" in compose["services"]["jaeger"]["volumes"]
