"""A backend outage with a Collector crash in it: nothing the hub acknowledged is lost.

The real Collector runs the committed config (its sending queues on disk, `file_storage/queue`) with
its addresses and queue folder rendered for 127.0.0.1 by monitoring/loopback.py, as `make stack`
runs it. While the real Jaeger and the Loki stand-in are both down, the test sends a known number
of spans and log records, each carrying its own sequence number. The moment the last export is
acknowledged it kills the Collector (SIGKILL, as an OOM kill does: no flush, no shutdown), starts
it again (the backends still down), then starts the backends and counts what arrives: every number
must arrive; a number arriving twice is a duplicate (allowed; counted for log records, while Jaeger's
query drops identical spans); a missing one is a loss. The same steps with the sending queues in
memory (the exporter helper's default: the committed config without `storage`) lose everything:
the test that the counting can see a loss.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitoring import loopback
from monitoring.tools import JAEGER, OTELCOL
from tests.conftest import REPO
from tests.e2e.test_hub import (
    COLLECTOR,
    COMPOSE,
    HEALTH,
    LOKI,
    OTLP_HTTP,
    _post,
    _scrape,
    collector_environment,
    collector_url,
    loopback_plan,
    wait_healthy,
)
from tests.e2e.test_jaeger import JAEGER_HEALTH, JAEGER_QUERY, JAEGER_SERVICE, _start_jaeger
from tests.loki_server.server import LokiStore, loki_server
from tests.tooling import require_tool

COLLECTOR_CONFIG = REPO / "monitoring" / "otel-collector" / "config.yaml"
CONTAINER_CONFIG = "/etc/otelcol-contrib/config.yaml"
"""Where compose mounts the Collector's config (its `--config`); a test's variant is put there."""
QUEUED_EXPORTERS = {"otlp_http/loki": "log_records", "otlp_grpc/jaeger": "spans"}
"""Each exporter that queues on disk, and the items it carries."""
SERVICE = "outage-test"
"""service.name of every span and record sent here: Jaeger's search finds exactly these."""
SEQUENCE = "outage.seq"
BATCHES, PER_BATCH = 20, 50
"""1,000 spans and 1,000 log records, in 20 export requests each."""
SENT = BATCHES * PER_BATCH
TELEMETRY_PORT = 8888
"""The Collector's own metrics port in its container (its config's default)."""


@dataclass
class Outcome:
    spans: Counter[int]
    """Spans in Jaeger by sequence number. Jaeger's query drops identical spans (its deduplicating
    adjuster), so a span sent twice shows once: span duplicates cannot be counted here."""
    records: Counter[int]
    """Log records in the Loki stand-in by sequence number: a record sent twice counts twice."""
    before_kill: dict[tuple[str, str], float]
    """The first Collector's own metrics, read right after the last export was acknowledged."""
    after_drain: dict[tuple[str, str], float]
    """The second Collector's own metrics once everything arrived."""
    drain_seconds: float
    """From both backends up to the last item arriving (or to giving up)."""

    @staticmethod
    def lost(seen: Counter[int]) -> int:
        return SENT - len(set(seen) & set(range(SENT)))

    @staticmethod
    def duplicates(seen: Counter[int]) -> int:
        return sum(seen.values()) - len(seen)


def _resource() -> dict[str, Any]:
    return {"attributes": [{"key": "service.name", "value": {"stringValue": SERVICE}}]}


def _send(otlp: str) -> None:
    """SENT spans (one trace per request) and SENT log records, numbered 0..SENT-1."""
    now = time.time_ns()
    for batch in range(BATCHES):
        trace_id = f"{0xA0000000 + batch:032x}"
        numbers = range(batch * PER_BATCH, (batch + 1) * PER_BATCH)
        spans = [
            {
                "traceId": trace_id,
                "spanId": f"{n + 1:016x}",
                "name": "outage span",
                "kind": 2,
                "startTimeUnixNano": str(now - 1_000_000),
                "endTimeUnixNano": str(now),
                "attributes": [
                    {"key": SEQUENCE, "value": {"intValue": str(n)}},
                    {"key": "tenant_id", "value": {"stringValue": "acme"}},
                ],
            }
            for n in numbers
        ]
        records = [
            {
                "timeUnixNano": str(now + n),
                "severityNumber": 9,
                "body": {"stringValue": f"outage record {n}"},
                "traceId": trace_id,
                "spanId": f"{n + 1:016x}",
                "attributes": [
                    {"key": SEQUENCE, "value": {"intValue": str(n)}},
                    {"key": "tenant_id", "value": {"stringValue": "acme"}},
                ],
            }
            for n in numbers
        ]
        scope = {"scope": {"name": "outage-test"}}
        _post(
            f"{otlp}/v1/traces",
            {"resourceSpans": [{"resource": _resource(), "scopeSpans": [{**scope, "spans": spans}]}]},
        )
        _post(
            f"{otlp}/v1/logs",
            {"resourceLogs": [{"resource": _resource(), "scopeLogs": [{**scope, "logRecords": records}]}]},
        )


def _own_metrics(plan: loopback.Plan, env: dict[str, str]) -> dict[tuple[str, str], float]:
    """(metric name, exporter) -> value summed over its other labels, from the Collector's own metrics."""
    port = int(env.get("TELEMETRY_PORT") or plan.port(COLLECTOR, TELEMETRY_PORT))
    found: dict[tuple[str, str], float] = {}
    for series in _scrape(f"http://127.0.0.1:{port}/metrics"):
        key = (series.name, series.labels.get("exporter", ""))
        found[key] = found.get(key, 0.0) + series.value
    return found


def _spans_in_jaeger(query: str) -> Counter[int]:
    """Every span of SERVICE Jaeger returns, counted by its sequence number."""
    url = f"{query}/api/traces?service={SERVICE}&limit={BATCHES * 2}&lookback=1h"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            traces = json.loads(response.read())["data"] or []
    except OSError:
        return Counter()
    seen: Counter[int] = Counter()
    for trace in traces:
        for span in trace["spans"]:
            tags = {tag["key"]: tag["value"] for tag in span["tags"]}
            if SEQUENCE in tags:
                seen[int(tags[SEQUENCE])] += 1
    return seen


def _records_in_loki(store: LokiStore) -> Counter[int]:
    with store.lock:
        return Counter(
            int(entry.metadata[SEQUENCE.replace(".", "_")])
            for entry in store.entries
            if SEQUENCE.replace(".", "_") in entry.metadata
        )


def _config_in_memory(workdir: Path) -> Path:
    """The committed config with the sending queues in memory (no `storage`), as the exporter
    helper runs them by default."""
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    for name in QUEUED_EXPORTERS:
        config["exporters"][name]["sending_queue"] = {
            k: v for k, v in config["exporters"][name]["sending_queue"].items() if k != "storage"
        }
    path = workdir / "in-memory.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _stop(process: subprocess.Popen[bytes], grace: float = 30) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds: cleanup after the counting is done must not fail
    the test (Jaeger once took over 30 s to stop on a loaded machine, the Collector still calling it)."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("a") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        _stop(process)


def run_outage(workdir: Path, *, on_disk: bool, patience: float = 90) -> Outcome:
    """Both backends down; send; kill the Collector (SIGKILL, as the kernel's OOM killer does: no
    flush, no shutdown) the moment the last export is acknowledged; start it again; backends up;
    count what arrives (within `patience` seconds of the backends coming back)."""
    collector, jaeger = require_tool(OTELCOL), require_tool(JAEGER)
    plan = loopback_plan(workdir)
    env = collector_environment(plan)
    rendered = {} if on_disk else {CONTAINER_CONFIG: _config_in_memory(workdir)}
    command = [collector, *loopback.host_command(COMPOSE, COLLECTOR, plan, rendered)]
    log = workdir / "collector.log"
    health = f"{collector_url(plan, HEALTH)}/"
    with ExitStack() as running:
        first = running.enter_context(_process(command, env, log))
        wait_healthy(health, first, log)
        _send(collector_url(plan, OTLP_HTTP))
        before_kill = _own_metrics(plan, env)
        first.kill()
        first.wait(timeout=30)
        second = running.enter_context(_process(command, env, log))
        wait_healthy(health, second, log)
        store = LokiStore()
        running.enter_context(loki_server(store, port=plan.port(LOKI, 3100)))
        jaeger_log = workdir / "jaeger.log"
        backend = _start_jaeger(jaeger, plan, jaeger_log)
        running.callback(_stop, backend)
        wait_healthy(f"{plan.url(JAEGER_SERVICE, JAEGER_HEALTH)}/status", backend, jaeger_log)
        up = time.monotonic()
        query = plan.url(JAEGER_SERVICE, JAEGER_QUERY)

        def arrived() -> bool:
            return Outcome.lost(_spans_in_jaeger(query)) == 0 and Outcome.lost(_records_in_loki(store)) == 0

        # The exporters' retry backoff grows to 30 s between tries: 90 s is three tries' room.
        deadline = time.monotonic() + patience
        while not arrived() and time.monotonic() < deadline:
            time.sleep(0.5)
        drain = time.monotonic() - up
        time.sleep(2)  # a duplicate sent late would still be on its way
        after_drain = _own_metrics(plan, env)
        return Outcome(_spans_in_jaeger(query), _records_in_loki(store), before_kill, after_drain, drain)


@pytest.fixture(scope="module")
def on_disk(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return run_outage(tmp_path_factory.mktemp("outage-on-disk"), on_disk=True)


def test_every_span_and_record_sent_during_the_outage_arrives_after_it(on_disk: Outcome) -> None:
    assert Outcome.lost(on_disk.spans) == 0, f"{Outcome.lost(on_disk.spans)} of {SENT} spans lost"
    assert Outcome.lost(on_disk.records) == 0, f"{Outcome.lost(on_disk.records)} of {SENT} log records lost"
    assert set(on_disk.spans) == set(on_disk.records) == set(range(SENT)), "an item nobody sent arrived"
    queued = {name: on_disk.before_kill[("otelcol_exporter_queue_size", name)] for name in QUEUED_EXPORTERS}
    print(  # the figures the README and the closing note quote (pytest -s)
        f"\noutage: sent {SENT} spans and {SENT} log records; Jaeger holds {len(on_disk.spans)} distinct "
        "spans (span duplicates cannot be seen there); the Loki stand-in got "
        f"{sum(on_disk.records.values())} records ({Outcome.duplicates(on_disk.records)} duplicates); "
        f"queued when killed {queued} bytes; "
        f"drained {on_disk.drain_seconds:.1f} s after the backends came back"
    )


def test_what_the_collector_acknowledged_was_on_disk_when_it_was_killed(on_disk: Outcome) -> None:
    """At the kill, the receiver had accepted every item and no exporter had sent any: all of it was
    in the queues (no batch processor holds acknowledged data in memory), and each queue held bytes."""
    metrics = on_disk.before_kill
    assert metrics.get(("otelcol_receiver_accepted_spans", ""), 0) == SENT, metrics
    assert metrics.get(("otelcol_receiver_accepted_log_records", ""), 0) == SENT, metrics
    for name, items in QUEUED_EXPORTERS.items():
        assert metrics.get((f"otelcol_exporter_sent_{items}", name), 0) == 0, name
        assert metrics.get(("otelcol_exporter_queue_size", name), 0) > 0, name


def test_the_series_the_queue_alerts_read_are_the_ones_the_collector_writes(on_disk: Outcome) -> None:
    """prometheus_rules/alerts.py reads each exporter's queue size and capacity and its sent counter
    (without `_total`, as 0.161 writes it): after the drain each is there, the queue empty, its
    capacity the config's, and the sent counter at least what was sent."""
    config = yaml.safe_load(COLLECTOR_CONFIG.read_text())
    metrics = on_disk.after_drain
    for name, items in QUEUED_EXPORTERS.items():
        assert metrics[("otelcol_exporter_queue_size", name)] == 0, name
        capacity = config["exporters"][name]["sending_queue"]["queue_size"]
        assert metrics[("otelcol_exporter_queue_capacity", name)] == capacity, name
        assert metrics[(f"otelcol_exporter_sent_{items}", name)] >= SENT, name


def test_the_same_outage_with_queues_in_memory_loses_data(tmp_path: Path) -> None:
    """The counting can see a loss: with the exporter helper's default queue (memory), what waited
    for the backends at the kill is gone."""
    outcome = run_outage(tmp_path, on_disk=False, patience=15)  # an emptied queue: nothing to retry
    assert Outcome.lost(outcome.spans) == SENT and Outcome.lost(outcome.records) == SENT, (
        Outcome.lost(outcome.spans),
        Outcome.lost(outcome.records),
    )
