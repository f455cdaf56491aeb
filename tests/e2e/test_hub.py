"""The real hub: the Collector built from Go modules, fed by the demo backend on the OTel Node.js SDK.

The committed config runs unchanged; its `${env:NAME:-default}` addresses are rendered for 127.0.0.1
by monitoring/loopback.py, as `make stack` renders them, on ports chosen here (only the span-metrics
flush interval is shortened, to keep the test short). A recording OTLP receiver stands in for Loki's
OTLP endpoint at Loki's own path (Loki is AGPL, not built here); Jaeger's address is a closed port
(traces are checked through the span metrics the Collector derives from them). What the Collector
exports is checked against the contract.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.contract.model import (
    OVERFLOW_ATTRIBUTE,
    Instrument,
    prometheus_base_name,
    prometheus_label,
)
from dashboards_as_code.defaults import ALL_TENANTS, TENANT_VARIABLE
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import recorded_series
from dashboards_as_code.external_tools import NODE, PROMETHEUS
from dashboards_as_code.promql.tree import as_prometheus_receives
from dashboards_as_code.render.documents import build_documents
from monitoring import loopback
from monitoring.tools import DEMO, OTELCOL
from telemetry.contract import CONTRACT, SPAN_KIND_SERVER
from tests.conftest import REPO
from tests.demo.otlp_receiver import Received, attributes, otlp_receiver
from tests.doctor.stack import panels_by_kind, run_doctor
from tests.local_http import free_port
from tests.loki_server.server import loki_server
from tests.prometheus.rules import rules_for_the_test
from tests.prometheus.server import Prometheus, running_prometheus
from tests.tooling import require_tool

COMPOSE = loopback.Compose()
COLLECTOR, JAEGER, LOKI = "otel-collector", "jaeger", "loki"
HEALTH, OTLP_HTTP, EXPORTER = 13133, 4318, 8889
"""The Collector's container ports (its config's defaults): health check, OTLP/HTTP, Prometheus exporter."""
SERIES = re.compile(
    r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>.*?)\})? (?P<value>\S+)(?: # \{(?P<exemplar>.*?)\})?"
)
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass
class Series:
    name: str
    labels: dict[str, str]
    value: float
    exemplar: dict[str, str]


@dataclass
class Hub:
    live: list[Series]
    """Scraped while the demo's traffic flows (exemplars are attached to the points of recent flushes)."""
    series: list[Series]
    """Scraped after the demo stopped and the tenant-less span and log were sent."""
    loki: Received
    log: str
    prometheus: Prometheus
    """A real Prometheus that scraped the real Collector, with the rules the definitions render now
    (evaluated each second)."""


def _post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _without_tenant(otlp: str) -> None:
    """One span and one log record that carry no tenant_id, as a careless emitter would send them."""
    resource = {
        "attributes": [
            {"key": "service.name", "value": {"stringValue": CONTRACT.resource.service_name}},
            {"key": "service.namespace", "value": {"stringValue": CONTRACT.resource.service_namespace}},
        ]
    }
    now = time.time_ns()
    span = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "b7ad6b7169203331",
        "name": "GET /api/orphan",
        "kind": 2,
        "startTimeUnixNano": str(now - 10_000_000),
        "endTimeUnixNano": str(now),
    }
    _post(f"{otlp}/v1/traces", {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]})
    record = {
        "timeUnixNano": str(now),
        "severityNumber": 9,
        "severityText": "info",
        "body": {"stringValue": "no tenant"},
        "traceId": span["traceId"],
        "spanId": span["spanId"],
    }
    _post(
        f"{otlp}/v1/logs", {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": [record]}]}]}
    )


OVERFLOWED = "hub.test.folded"
"""A gauge outside the contract, sent by the test as an SDK past its cardinality limit sends one."""


def _folded_by_an_sdk(otlp: str) -> None:
    """A gauge with the series an OTel SDK writes once it reaches its cardinality limit (every later
    attribute set folded into one point carrying only `otel.metric.overflow` = true), beside a point
    of a careless emitter that names no tenant."""
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "overflow-test"}}]}
    now = str(time.time_ns())
    overflow = [{"key": OVERFLOW_ATTRIBUTE, "value": {"boolValue": True}}]
    points = [
        {"timeUnixNano": now, "asDouble": 7, "attributes": overflow},
        {"timeUnixNano": now, "asDouble": 1},
    ]
    metric = {"name": OVERFLOWED, "gauge": {"dataPoints": points}}
    body = {"resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": [metric]}]}]}
    _post(f"{otlp}/v1/metrics", body)


def _scrape(url: str) -> list[Series]:
    request = urllib.request.Request(url, headers={"Accept": "application/openmetrics-text"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    found = []
    for line in text.splitlines():
        match = SERIES.match(line)
        if match and not line.startswith("#"):
            found.append(Series(
                match["name"], dict(LABEL.findall(match["labels"] or "")), float(match["value"]),
                dict(LABEL.findall(match["exemplar"] or "")),
            ))  # fmt: skip
    return found


def _scrape_until_exemplars(url: str, traffic: subprocess.Popen[bytes]) -> list[Series]:
    """Scrape while the demo runs until the span metrics carry exemplars (they are on the points of
    recent flushes); polled, not a fixed wait: on a loaded machine the SDK's first export can come
    seconds late (a 6 s sleep once scraped before any). The last scrape if none ever shows."""
    while True:
        running = traffic.poll() is None
        live = _scrape(url)
        if not running or any(s.exemplar and s.name.startswith("traces_span_metrics") for s in live):
            return live
        time.sleep(0.5)


def loopback_plan(workdir: Path, **taken: int) -> loopback.Plan:
    """Free 127.0.0.1 ports for the Collector, Jaeger and Loki, as `make stack --ports free` picks them;
    `taken` gives a service's port where a test server already listens (`loki=...`)."""
    return loopback.plan(
        COMPOSE,
        [COLLECTOR, JAEGER, LOKI],
        workdir,
        pick=lambda endpoint: taken.get(endpoint.service) or free_port(),
        published=False,
    )


def collector_environment(plan: loopback.Plan) -> dict[str, str]:
    """This environment without OTEL_*, and the committed Collector config's `${env:...}` as `make stack`
    renders them, with the span metrics flushed every second instead of 15 s (a test's patience)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        **loopback.config_environment(COMPOSE, COLLECTOR, plan),
        "SPAN_METRICS_FLUSH_INTERVAL": "1s",
    }


def collector_url(plan: loopback.Plan, port: int) -> str:
    return plan.url(COLLECTOR, port)


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    """Poll a health endpoint until it answers (never a blind sleep); fail with the log if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    collector, node, demo = require_tool(OTELCOL), require_tool(NODE), require_tool(DEMO)
    workdir = tmp_path_factory.mktemp("hub")
    log = workdir / "collector.log"
    with otlp_receiver(prefix="/otlp") as (loki, received):
        plan = loopback_plan(workdir, loki=int(loki.rsplit(":", 1)[1]))  # Jaeger's port: nothing listens
        with (
            log.open("w") as output,
            running_prometheus(
                require_tool(PROMETHEUS),
                workdir,
                plan.address(COLLECTOR, EXPORTER),
                [rules_for_the_test(workdir)],
            ) as prometheus,
        ):
            env = collector_environment(plan)
            command = [collector, *loopback.host_command(COMPOSE, COLLECTOR, plan)]
            process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
            try:
                wait_healthy(f"{collector_url(plan, HEALTH)}/", process, log)
                otlp = collector_url(plan, OTLP_HTTP)
                scrape = f"{collector_url(plan, EXPORTER)}/metrics"
                # 20 requests per second per tenant: in 12 s each tenant passes, with room, the 100
                # requests a tenant needs in the hour for the Tenants dashboard's burn-rate bars.
                traffic = subprocess.Popen(
                    [node, demo],
                    env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp, "DEMO_DURATION": "12s",
                         "DEMO_TENANTS": "4", "DEMO_RPS": "80", "DEMO_ERROR_RATIO": "0.2",
                         "OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_BSP_SCHEDULE_DELAY": "300",
                         "OTEL_BLRP_SCHEDULE_DELAY": "300"},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                try:
                    live = _scrape_until_exemplars(scrape, traffic)
                    assert traffic.wait(timeout=30) == 0
                finally:
                    traffic.kill()
                _without_tenant(otlp)
                _folded_by_an_sdk(otlp)
                time.sleep(3)  # the orphan's span metrics flush, its log record is batched out
                yield Hub(live, _scrape(scrape), received, log.read_text(), prometheus)
            finally:
                process.terminate()
                process.wait(timeout=20)


def test_every_contract_series_is_exported(hub: Hub) -> None:
    names = {s.name for s in hub.series}
    for signal in CONTRACT.metrics:
        for series in signal.series_names:
            assert series in names, f"the Collector exports no {series} ({sorted(names)})"


def test_no_label_the_contract_lacks_and_none_missing_on_server_series(hub: Hub) -> None:
    for signal in CONTRACT.metrics:
        for name in signal.series_names:
            expected = set(signal.series_labels(name))
            found = [s for s in hub.series if s.name == name]
            for series in found:
                assert set(series.labels) <= expected, (
                    f"{name}: labels {sorted(set(series.labels) - expected)} are not in the contract"
                )
            # The demo's server spans carry everything; the hand-made orphan span (no instance, no
            # http attributes) is there for the rule-4 test only.
            server = [
                s
                for s in found
                if s.labels.get("span_kind", SPAN_KIND_SERVER) == SPAN_KIND_SERVER
                and s.labels.get("span_name") != "GET /api/orphan"
            ]
            assert server, name
            for series in server:
                assert expected <= set(series.labels), (name, sorted(expected - set(series.labels)))


def test_the_label_values_the_contract_page_lists_are_the_ones_the_collector_writes(hub: Hub) -> None:
    """The contract page tells query authors what to type after `label=`: a closed list must hold every
    value the real Collector wrote, and every value the page gives for a closed list is spelled as the
    Collector spells it (the demo emits server and internal spans, unset and error statuses)."""
    seen: dict[str, set[str]] = {}
    for series in hub.series:
        for label, value in series.labels.items():
            seen.setdefault(label, set()).add(value)
    closed = [entry for entry in CONTRACT.label_values if entry.closed]
    assert closed, "the contract describes no closed list of values"
    for entry in CONTRACT.label_values:
        assert entry.label in seen, f"no series carries {entry.label!r}"
        if entry.closed:
            assert seen[entry.label] <= set(entry.values), (entry.label, sorted(seen[entry.label]))
    for label in ("span_kind", "status_code"):
        assert len(seen[label]) >= 2, (label, seen[label])


def test_counters_count_and_exemplars_carry_trace_ids(hub: Hub) -> None:
    calls = [
        s
        for s in hub.series
        if s.name == "traces_span_metrics_calls_total" and s.labels.get("span_kind") == SPAN_KIND_SERVER
    ]
    assert sum(s.value for s in calls) > 50
    assert any(s.labels.get("status_code") == "STATUS_CODE_ERROR" for s in calls)
    with_exemplars = [s for s in hub.live if s.exemplar and s.name.startswith("traces_span_metrics")]
    assert with_exemplars
    for series in with_exemplars:
        assert re.fullmatch(r"[0-9a-f]{32}", series.exemplar["trace_id"]) and re.fullmatch(
            r"[0-9a-f]{16}", series.exemplar["span_id"]
        )
        assert "trace_id" not in series.labels


def test_rule_4_a_span_without_tenant_id_is_counted_as_unknown(hub: Hub) -> None:
    tenants = {s.labels.get("tenant_id") for s in hub.series if s.name == "tenant_span_metrics_calls_total"}
    assert "unknown" in tenants and len(tenants - {"unknown"}) >= 4


def test_an_sdk_overflow_series_is_not_disguised_as_a_tenant(hub: Hub) -> None:
    """The tenant step names the tenant of a point that has none "unknown", but an SDK's overflow point
    is not one tenant: it keeps no tenant_id, so the overflow alert and doctor can find it."""
    name = prometheus_base_name(OVERFLOWED, "", Instrument.GAUGE)
    found = {tuple(sorted(s.labels.items())) for s in hub.series if s.name == name}
    label = prometheus_label(OVERFLOW_ATTRIBUTE)
    folded = [dict(labels) for labels in found if dict(labels).get(label) == "true"]
    careless = [dict(labels) for labels in found if label not in dict(labels)]
    assert len(folded) == 1 and "tenant_id" not in folded[0], found
    assert len(careless) == 1 and careless[0]["tenant_id"] == "unknown", found


def test_logs_reach_loki_with_stream_resource_and_structured_metadata(hub: Hub) -> None:
    records = hub.loki.logs()
    assert len(records) > 20
    stream = {label for log in CONTRACT.logs for label, _ in log.stream}
    for resource, record in records:
        found = attributes(resource)
        assert {label.replace("_", ".") for label in stream} <= set(found), sorted(found)
        assert len(record.get("traceId", "")) == 32 and len(record.get("spanId", "")) == 16
        assert record.get("severityNumber") and attributes(record).get("tenant_id")
    assert "unknown" in {attributes(record)["tenant_id"] for _, record in records}


def test_the_collector_logs_no_warning_about_its_config(hub: Hub) -> None:
    assert "deprecated" not in hub.log
    assert "Everything is ready" in hub.log


def _tenant_values(board: dict[str, Any]) -> list[str]:
    """What `$tenant` can hold on this dashboard, as Grafana sends it: one tenant always; two as a
    regex where it is multi-value; its All value where it has All (`__all__` or `.*`)."""
    variable = next((v for v in board["templating"]["list"] if v["name"] == TENANT_VARIABLE), None)
    if variable is None:
        return ["tenant-001"]
    values = ["tenant-001"] + (["(tenant-001|tenant-002)"] if variable.get("multi") else [])
    return values + ([str(variable.get("allValue") or ".*")] if variable.get("includeAll") else [])


def _dashboard_queries() -> list[tuple[str, str, dict[str, object]]]:
    """(dashboard / panel, a value of `$tenant` it can take, target) of every Prometheus query."""
    documents = build_documents(load_project(REPO))
    return [
        (f"{board.uid} / {panel['title']}", tenant, target)
        for board in documents.dashboards
        for tenant in _tenant_values(board.document)
        for panel in board.document["panels"]
        for target in panel.get("targets", [])
        if target["datasource"]["type"] == "prometheus"
    ]


def test_every_dashboard_query_returns_data_from_the_real_collector(hub: Hub) -> None:
    assert {tenant for _, tenant, _ in _dashboard_queries()} >= {ALL_TENANTS, "tenant-001"}
    for title, tenant, target in _dashboard_queries():
        expr = as_prometheus_receives(str(target["expr"]), {TENANT_VARIABLE: tenant}, interval="10s")
        assert hub.prometheus.query(expr), f"{title}, $tenant = {tenant}: no data for {expr}"


def test_the_recorded_series_the_dashboard_reads_exist(hub: Hub) -> None:
    for name in recorded_series(load_project(REPO).rule_groups):
        assert hub.prometheus.query(name), (
            f"the rule recording {name} produced nothing from the Collector's output"
        )


def test_latency_exemplars_reach_prometheus_with_trace_ids(hub: Hub) -> None:
    now = time.time()
    found = hub.prometheus.exemplars(
        'traces_span_metrics_duration_seconds_bucket{span_kind="SPAN_KIND_SERVER"}', now - 120, now
    )
    exemplars = [e for series in found for e in series["exemplars"]]
    assert exemplars and all(re.fullmatch(r"[0-9a-f]{32}", e["labels"]["trace_id"]) for e in exemplars)


def test_doctor_finds_every_panel_ok_on_the_real_collectors_output(hub: Hub) -> None:
    """The demo's telemetry through the real Collector: Prometheus for metrics; for logs, the records the
    Collector exported, loaded into the Loki test server as Loki's OTLP endpoint stores them."""
    with loki_server() as (loki_url, store):
        with hub.loki.lock:
            documents = list(hub.loki.requests["/v1/logs"])
        for document in documents:
            store.push_otlp(document)
        doctor = run_doctor({"PROMETHEUS_URL": hub.prometheus.url, "LOKI_URL": loki_url})
    assert doctor.code == 0, doctor.reports
    checked = sum(len(names) for names in panels_by_kind().values())
    assert set(doctor.statuses().values()) == {"ok"} and len(doctor.reports) == checked
