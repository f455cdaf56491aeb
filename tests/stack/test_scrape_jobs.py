"""Each Prometheus scrape job against what the Collector serves on its port.

The Collector exports two kinds of series on two ports: the application's (and spanmetrics') through
its `prometheus` exporter, each carrying the `job`/`instance` of the service that sent them, and its
own telemetry. Prometheus must scrape the first with `honor_labels: true`, or every application
series gets `job="<scrape job>"` and `exported_job="tiktickets/tiktickets-backend"`, and every business
panel (all selecting `job="tiktickets/tiktickets-backend"`) is empty. Comparing only the set of targets
cannot see two jobs' targets swapped. The Collector's own series carry no job of their own and are
labelled by their scrape job, so that job leaves `honor_labels` at Prometheus' default (false), as
does the job of Prometheus' own metrics (its exemplar ring, which an alert watches).
Here each target's job is held with its `honor_labels`, and the ports come from the Collector
config and the hosts from the compose file, not from prometheus.yml.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.stack.conftest import MONITORING, load

COLLECTOR_CONFIG = "./otel-collector/config.yaml"
PROMETHEUS_CONFIG = "./prometheus/prometheus.yml"
PROMETHEUS_LISTEN_DEFAULT = 9090
"""Prometheus' `--web.listen-address` default (0.0.0.0:9090), for a compose command that sets none."""


def _component_type(component_id: str) -> str:
    """`prometheus/app` -> `prometheus`: the Collector's `type[/name]` ids."""
    return component_id.partition("/")[0]


def _port(endpoint: str) -> int:
    return int(endpoint.rpartition(":")[2])


def _host_of(compose: dict[str, Any], config: str) -> str:
    """The compose service that mounts `config`: its name is its host name on the network."""
    (name,) = [
        name
        for name, service in compose["services"].items()
        if any(str(volume).startswith(f"{config}:") for volume in service.get("volumes", []))
    ]
    return str(name)


def _prometheus_itself(compose: dict[str, Any]) -> str:
    """host:port where the Prometheus that reads prometheus.yml serves its own /metrics."""
    host = _host_of(compose, PROMETHEUS_CONFIG)
    flags = [a for a in compose["services"][host].get("command", []) if a.startswith("--web.listen-address=")]
    return f"{host}:{_port(flags[-1]) if flags else PROMETHEUS_LISTEN_DEFAULT}"


def _alertmanagers(prometheus: dict[str, Any]) -> list[str]:
    """The Alertmanagers Prometheus sends alerts to: each is scraped for its notifications' failures."""
    return [
        target
        for manager in prometheus["alerting"]["alertmanagers"]
        for group in manager["static_configs"]
        for target in group["targets"]
    ]


def _application_exporter_ports(collector: dict[str, Any]) -> set[int]:
    """Ports of the `prometheus` exporters a metrics pipeline fed by a receiver (not a connector:
    the application's OTLP) writes to."""
    receivers = set(collector["receivers"])
    ports = set()
    for pipeline_id, pipeline in collector["service"]["pipelines"].items():
        if _component_type(pipeline_id) != "metrics" or not receivers & set(pipeline["receivers"]):
            continue
        for exporter in pipeline["exporters"]:
            if _component_type(exporter) == "prometheus":
                ports.add(_port(collector["exporters"][exporter]["endpoint"]))
    return ports


def _own_telemetry_ports(collector: dict[str, Any]) -> set[int]:
    """Ports the Collector serves its own metrics on (`service.telemetry.metrics` pull readers)."""
    readers = collector["service"]["telemetry"]["metrics"]["readers"]
    return {int(reader["pull"]["exporter"]["prometheus"]["port"]) for reader in readers if "pull" in reader}


def _scraped(prometheus: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Every target -> (the job scraping it, that job's honor_labels, false when unset as in Prometheus)."""
    found: dict[str, tuple[str, bool]] = {}
    for job in prometheus["scrape_configs"]:
        for group in job.get("static_configs", []):
            for target in group["targets"]:
                assert target not in found, f"{target} is scraped by {found[target][0]} and {job['job_name']}"
                found[target] = (job["job_name"], job.get("honor_labels", False) is True)
    return found


@pytest.fixture
def prometheus() -> dict[str, Any]:
    document: dict[str, Any] = load(MONITORING / "prometheus" / "prometheus.yml")
    return document


def test_the_collector_config_serves_application_series_and_its_own_on_different_ports(
    collector: dict[str, Any],
) -> None:
    application, own = _application_exporter_ports(collector), _own_telemetry_ports(collector)
    assert len(application) == 1 and len(own) == 1 and application != own


def test_each_scrape_job_reads_one_collector_port_with_the_honor_labels_its_series_need(
    compose: dict[str, Any], collector: dict[str, Any], prometheus: dict[str, Any]
) -> None:
    host = _host_of(compose, COLLECTOR_CONFIG)
    expected = {f"{host}:{port}": True for port in _application_exporter_ports(collector)}
    expected |= {f"{host}:{port}": False for port in _own_telemetry_ports(collector)}
    expected |= {_prometheus_itself(compose): False}
    expected |= dict.fromkeys(_alertmanagers(prometheus), False)
    scraped = _scraped(prometheus)
    assert {target: honor for target, (_, honor) in scraped.items()} == expected
    jobs = [job for job, _ in scraped.values()]
    assert len(jobs) == len(set(jobs)), "one job per port: honor_labels is set per job"
