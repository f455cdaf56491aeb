"""The scaled topology with the real programs: the demo -> the gateway Collector -> two shard Collectors
-> Cortex (issue 26, README "When one Prometheus is not enough").

The committed configs run as monitoring/docker-compose.scale.yml runs them: the gateway with
otel-collector/gateway.yaml, each shard with config.yaml and shard.yaml over it, Cortex with
cortex/cortex.yaml and `-config.expand-env=true`. Only their environment is set here: ports on
127.0.0.1 chosen at run time, folders in a temporary directory, the span metrics flushed each second.
Jaeger v2 (from its Go module) receives the shards' traces, so that the trace ids of Cortex's exemplars
can be looked up; a recording OTLP receiver stands in for Loki (AGPL, not built here). The rule groups
the definitions render now are loaded into Cortex's ruler through its API, each evaluated every second.
"""

from __future__ import annotations

import contextlib
import math
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from dashboards_as_code.defaults import TENANT_VARIABLE
from dashboards_as_code.define import Instrument
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import recorded_series
from dashboards_as_code.external_tools import NODE, PROMETHEUS
from dashboards_as_code.promql.tree import as_prometheus_receives
from dashboards_as_code.ruler_api.client import Ruler
from dashboards_as_code.ruler_api.sync import synchronise_rules
from monitoring.scaled_topology import (
    COLLECTOR_CONFIG,
    CORTEX_CONFIG,
    GATEWAY_CONFIG,
    SHARD_LABEL,
    SHARDS,
    gateway_environment,
    listen_addresses,
    shard_command,
    shard_environment,
)
from monitoring.tools import CORTEX, DEMO, JAEGER, OTELCOL
from telemetry.contract import CONTRACT, SPAN_KIND_SERVER, Emitter
from tests.conftest import REPO
from tests.cortex.server import environment_for_tests
from tests.demo.otlp_receiver import Received, attributes, otlp_receiver
from tests.e2e.test_hub import (
    HEALTH,
    OTLP_HTTP,
    _dashboard_queries,
    collector_environment,
    collector_url,
    loopback_plan,
    wait_healthy,
)
from tests.e2e.test_jaeger import JAEGER_HEALTH, JAEGER_QUERY, JAEGER_SERVICE, _start_jaeger, _trace
from tests.local_http import free_port
from tests.processes import stop
from tests.prometheus.rules import rules_for_the_test
from tests.prometheus.server import Prometheus, running_prometheus
from tests.tooling import require_tool

SHARD_LOGS = tuple(f"shard-{shard}" for shard in SHARDS)
ENVIRONMENT_TENANT = "env-test"
"""The one Cortex tenant of this run (one per environment, never one per TikTickets tenant)."""
STATUS = re.compile(
    r"^demo: (?P<sent>\d+) requests sent, (?P<errors>\d+) errors, \d+/\d+ tenants, "
    r"(?P<failures>\d+) export failures, (?P<dropped>\d+) spans dropped",
    re.MULTILINE,
)
SERVER_CALLS = f'traces_span_metrics_calls_total{{span_kind="{SPAN_KIND_SERVER}"}}'
COUNTERS = tuple(
    signal.prometheus_name
    for signal in CONTRACT.metrics
    if signal.emitter != Emitter.BACKEND and signal.instrument is Instrument.COUNTER
)
"""The span-metrics counters (the Collector's, from the contract) every request rule reads: both engines
must hold the same totals first."""


@dataclass
class Scaled:
    cortex: Prometheus
    """Cortex's Prometheus API (`<cortex>/prometheus`, this run's tenant in X-Scope-OrgID)."""
    single: Prometheus
    """The single-node path's Prometheus, scraping a Collector that got the same traffic."""
    cortex_base: str
    jaeger_query: str
    sent: int
    """Requests the demo says it sent (its last status line)."""
    loki: Received
    logs: dict[str, Path]
    settled_at: float
    """An instant at which both engines hold every count of the run and have evaluated their rules on
    them: the comparison asks both at this one instant (a moving `now` would see the two rule engines'
    last evaluations, and `offset 1m` expressions, fall on different sides of it)."""


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Started in the log's folder: nothing a program writes relative to its working directory lands
    in the checkout."""
    with log.open("w") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=log.parent)


def _load_rules(cortex_base: str, rules: Path, backups: Path) -> None:
    """The rendered rule file into Cortex's ruler the way `push-rules` loads it (its engine code, with the
    groups evaluated each second for the test)."""
    groups = yaml.safe_load(rules.read_text())["groups"]
    ruler = Ruler(cortex_base, ENVIRONMENT_TENANT, timeout=30)
    report = synchronise_rules(ruler, "tiktickets", groups, "tiktickets", apply=True, backup_dir=backups)
    assert report.ok and report.count() == {"written": len(groups)}, [
        (a.uid, a.op, a.error) for a in report.actions
    ]


def _processes(stack: contextlib.ExitStack) -> list[subprocess.Popen[bytes]]:
    """A list whose processes are stopped, last started first, when `stack` closes."""
    processes: list[subprocess.Popen[bytes]] = []

    def stop_all() -> None:
        for process in reversed(processes):
            stop(process, timeout=20)

    stack.callback(stop_all)
    return processes


def _teed_to(workdir: Path, single_otlp: str) -> Path:
    """A config laid over gateway.yaml for this test only: its traces and metrics also go to the single
    Collector (config.yaml as the single-node stack runs it), so Prometheus sees the same traffic as
    Cortex. Logs are not teed: Loki's stand-in would get each record twice."""
    pipelines = yaml.safe_load(GATEWAY_CONFIG.read_text())["service"]["pipelines"]
    tee = {
        "exporters": {"otlp_grpc/single": {"endpoint": single_otlp, "tls": {"insecure": True}}},
        "service": {
            "pipelines": {
                name: {"exporters": [*pipelines[name]["exporters"], "otlp_grpc/single"]}
                for name in ("traces", "metrics")
            }
        },
    }
    path = workdir / "gateway-tee.yaml"
    path.write_text(yaml.safe_dump(tee))
    return path


def _settled(engine: Prometheus, single: Prometheus) -> float:
    """Once both engines hold the same total of every span-metrics counter (polled, 60 s at most), an
    instant a few rule evaluations later (both evaluate each second), waited for."""
    for name in COUNTERS:
        deadline = time.monotonic() + 60
        while (
            _value(engine, f"sum({name})") != _value(single, f"sum({name})") and time.monotonic() < deadline
        ):
            time.sleep(0.5)
    settled_at = time.time() + 3
    time.sleep(4)
    return settled_at


def _run_demo(node: str, demo: str, env: dict[str, str], otlp: str) -> int:
    """The demo for twenty seconds through the gateway (a rate over it then hangs little on its two
    edges, where the engines sample at different instants); the number of requests its last status line says
    it sent, with no export failure and no span dropped."""
    completed = subprocess.run(
        [node, demo],
        env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
             "DEMO_DURATION": "20s", "DEMO_TENANTS": "4", "DEMO_RPS": "60", "DEMO_ERROR_RATIO": "0.2",
             "DEMO_STATUS_INTERVAL": "60s", "OTEL_METRIC_EXPORT_INTERVAL": "1000",
             "OTEL_BSP_SCHEDULE_DELAY": "300", "OTEL_BLRP_SCHEDULE_DELAY": "300"},
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    status = list(STATUS.finditer(completed.stdout))
    assert status, completed.stdout[-2000:]
    last = status[-1]
    assert (last["failures"], last["dropped"]) == ("0", "0"), last.group(0)
    return int(last["sent"])


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scaled]:
    collector, cortex, jaeger = require_tool(OTELCOL), require_tool(CORTEX), require_tool(JAEGER)
    node, demo, prometheus = require_tool(NODE), require_tool(DEMO), require_tool(PROMETHEUS)
    workdir = tmp_path_factory.mktemp("scaled")
    logs = {name: workdir / f"{name}.log" for name in ("cortex", "jaeger", "gateway", "single", *SHARD_LOGS)}
    with contextlib.ExitStack() as stack:
        loki, received = stack.enter_context(otlp_receiver(prefix="/otlp"))
        plan = loopback_plan(workdir, loki=int(loki.rsplit(":", 1)[1]))
        processes = _processes(stack)
        # Jaeger, for the exemplars' traces.
        processes.append(_start_jaeger(jaeger, plan, logs["jaeger"]))
        wait_healthy(f"{plan.url(JAEGER_SERVICE, JAEGER_HEALTH)}/status", processes[-1], logs["jaeger"])
        # Cortex, with the rules the definitions render now in its ruler.
        http = free_port()
        cortex_base = f"http://127.0.0.1:{http}"
        command = [cortex, f"-config.file={CORTEX_CONFIG}", "-config.expand-env=true"]
        processes.append(_start(command, environment_for_tests(workdir, http), logs["cortex"]))
        wait_healthy(f"{cortex_base}/ready", processes[-1], logs["cortex"], timeout=60)
        rules = rules_for_the_test(workdir)
        _load_rules(cortex_base, rules, workdir / "backups")
        # The shards, as the overlay runs them.
        base = collector_environment(plan)  # Loki's and Jaeger's addresses, 1 s span-metrics flush
        shards = []
        for shard in SHARDS:
            engine_otlp = f"{cortex_base}/api/v1/otlp/v1/metrics"
            env = shard_environment(
                base, shard, workdir / f"shard-{shard}-queue", engine_otlp, ENVIRONMENT_TENANT
            )
            processes.append(_start(shard_command(collector), env, logs[f"shard-{shard}"]))
            wait_healthy(f"http://{env['HEALTH_CHECK_ENDPOINT']}/", processes[-1], logs[f"shard-{shard}"])
            shards.append(env)
        # The single-node path on the same traffic: config.yaml alone, scraped by Prometheus.
        single_env = {**base, **listen_addresses(), "QUEUE_DIRECTORY": str(workdir / "single-queue")}
        processes.append(_start([collector, f"--config={COLLECTOR_CONFIG}"], single_env, logs["single"]))
        wait_healthy(f"http://{single_env['HEALTH_CHECK_ENDPOINT']}/", processes[-1], logs["single"])
        (workdir / "prometheus").mkdir()
        single = stack.enter_context(
            running_prometheus(
                prometheus, workdir / "prometheus", single_env["PROMETHEUS_EXPORTER_ENDPOINT"], [rules]
            )
        )
        # The gateway, where the SDK sends.
        gateway_env = gateway_environment(base, shards, workdir / "gateway-queue")
        tee = _teed_to(workdir, single_env["OTLP_GRPC_ENDPOINT"])
        command = [collector, f"--config={GATEWAY_CONFIG}", f"--config={tee}"]
        processes.append(_start(command, gateway_env, logs["gateway"]))
        wait_healthy(f"{collector_url(plan, HEALTH)}/", processes[-1], logs["gateway"])
        sent = _run_demo(node, demo, gateway_env, collector_url(plan, OTLP_HTTP))
        engine = Prometheus(
            f"{cortex_base}/prometheus", logs["cortex"], {"X-Scope-OrgID": ENVIRONMENT_TENANT}
        )
        settled_at = _settled(engine, single)
        yield Scaled(
            engine,
            single,
            cortex_base,
            plan.url(JAEGER_SERVICE, JAEGER_QUERY),
            sent,
            received,
            logs,
            settled_at,
        )


def _value(engine: Prometheus, expr: str) -> float | None:
    result = engine.query(expr, at=time.time())
    return float(result[0]["value"][1]) if result else None


def _eventually(engine: Prometheus, expr: str, want: float, timeout: float = 60) -> float | None:
    """`expr`'s value once it equals `want`, or the last one seen after `timeout`: the shards push what
    they counted each second, the last spans arrive a batch after the demo stops."""
    deadline = time.monotonic() + timeout
    seen = _value(engine, expr)
    while seen != want and time.monotonic() < deadline:
        time.sleep(0.5)
        seen = _value(engine, expr)
    return seen


def test_the_requests_counted_on_both_shards_add_up_to_what_the_demo_sent(scaled: Scaled) -> None:
    assert scaled.sent > 300, "the premise: the demo sent traffic"
    total = _eventually(scaled.cortex, f"sum({SERVER_CALLS})", scaled.sent)
    assert total == scaled.sent, f"Cortex counts {total} server calls, the demo sent {scaled.sent}"


def test_each_shard_counts_a_share_and_marks_every_span_metrics_series_with_its_own_label(
    scaled: Scaled,
) -> None:
    _eventually(scaled.cortex, f"sum({SERVER_CALLS})", scaled.sent)
    by_shard = scaled.cortex.query(f"sum by ({SHARD_LABEL}) ({SERVER_CALLS})", at=time.time())
    shares = {r["metric"].get(SHARD_LABEL, ""): float(r["value"][1]) for r in by_shard}
    assert set(shares) == set(SHARDS), f"server calls by shard: {shares}"
    assert all(share > 0 for share in shares.values()), shares
    for name in ("traces_span_metrics_calls_total", "tenant_span_metrics_calls_total"):
        unmarked = scaled.cortex.query(f'count({name}{{{SHARD_LABEL}=""}})', at=time.time())
        assert not unmarked, f"{name}: series without {SHARD_LABEL}: {unmarked}"


def test_no_two_shards_wrote_the_same_series(scaled: Scaled) -> None:
    """Two Collectors writing one series would interleave two counters: Cortex refuses the samples that
    go back in time or repeat a timestamp, and counts them as discarded."""
    _eventually(scaled.cortex, f"sum({SERVER_CALLS})", scaled.sent)
    with urllib.request.urlopen(f"{scaled.cortex_base}/metrics", timeout=30) as response:
        metrics = response.read().decode()
    discarded = [
        line
        for line in metrics.splitlines()
        if line.startswith("cortex_discarded_samples_total{") and float(line.rsplit(" ", 1)[1]) > 0
    ]
    assert not discarded, discarded
    received = [
        line for line in metrics.splitlines() if line.startswith("cortex_distributor_received_samples_total{")
    ]
    assert received and any(float(line.rsplit(" ", 1)[1]) > 0 for line in received), received
    for shard in SHARDS:
        refused = [
            line
            for line in scaled.logs[f"shard-{shard}"].read_text().splitlines()
            if "Exporting failed" in line
        ]
        assert not refused, f"shard {shard}: {refused[:2]}"


def test_every_contract_series_reaches_cortex(scaled: Scaled) -> None:
    _eventually(scaled.cortex, f"sum({SERVER_CALLS})", scaled.sent)
    names = set(scaled.cortex.get("/api/v1/label/__name__/values"))
    for signal in CONTRACT.metrics:
        for series in signal.series_names:
            assert series in names, f"Cortex has no {series} ({sorted(names)})"


def test_the_recorded_series_exist_in_cortexs_ruler_output(scaled: Scaled) -> None:
    missing = []
    for name in recorded_series(load_project(REPO).rule_groups):
        deadline = time.monotonic() + 30
        while not scaled.cortex.query(name, at=time.time()) and time.monotonic() < deadline:
            time.sleep(0.5)
        if not scaled.cortex.query(name, at=time.time()):
            missing.append(name)
    assert not missing, f"Cortex's ruler recorded nothing for {missing}"


def test_exemplar_trace_ids_in_cortex_are_traces_in_jaeger(scaled: Scaled) -> None:
    now = time.time()
    found = scaled.cortex.exemplars(
        f'traces_span_metrics_duration_seconds_bucket{{span_kind="{SPAN_KIND_SERVER}"}}', now - 300, now + 60
    )
    ids = sorted({e["labels"]["trace_id"] for series in found for e in series["exemplars"]})
    assert len(ids) >= 3, f"Cortex holds {len(ids)} exemplar trace ids"
    for trace_id in ids[:5]:
        deadline = time.monotonic() + 30
        while not _trace(scaled.jaeger_query, trace_id) and time.monotonic() < deadline:
            time.sleep(0.5)
        spans = _trace(scaled.jaeger_query, trace_id)
        assert spans, f"exemplar trace {trace_id} is not in Jaeger"


def test_logs_pass_through_the_shards_to_loki_with_their_trace_and_tenant(scaled: Scaled) -> None:
    records = scaled.loki.logs()
    assert len(records) > 20
    for _, record in records:
        assert len(record.get("traceId", "")) == 32 and attributes(record).get("tenant_id"), record


RELATIVE_TOLERANCE = 0.25
"""How far one answer may be from the other. Both engines hold the same counts, but not at the same
instants: Prometheus scraped the single Collector each second, the shards pushed each second on their
own clocks, so a rate's extrapolation to its window's edges (and a quantile inside a bucket) differs a
little. Measured over four runs of 20 s: median 0.1 %, largest 9.5 % (a P99 and a messages-sent rate);
a series missing on one side, or a shard counted twice (x2), is far outside it."""


def _answers(engine: Prometheus, expr: str, at: float) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(series["metric"].items())): float(series["value"][1])
        for series in engine.query(expr, at=at)
    }


def _differs(one: float, other: float) -> bool:
    if math.isnan(one) or math.isnan(other):
        return math.isnan(one) != math.isnan(other)
    return abs(one - other) > RELATIVE_TOLERANCE * max(abs(one), abs(other), 1e-9)


def test_every_dashboard_query_answers_the_same_from_cortex_as_from_prometheus(scaled: Scaled) -> None:
    """The promise of the setting: the dashboards do not change when the metrics move to Cortex. Each
    Prometheus query of every dashboard, for each value `$tenant` takes, asked of both at the instant
    both hold every count of the run."""
    queries = _dashboard_queries()
    assert queries, "the premise: the dashboards have Prometheus queries"
    for name in COUNTERS:
        assert _value(scaled.single, f"sum({name})") == _value(scaled.cortex, f"sum({name})"), name
    different = []
    for title, tenant, target in queries:
        expr = as_prometheus_receives(str(target["expr"]), {TENANT_VARIABLE: tenant}, interval="1m")
        single = _answers(scaled.single, expr, scaled.settled_at)
        engine = _answers(scaled.cortex, expr, scaled.settled_at)
        if set(single) != set(engine) or any(_differs(single[k], engine[k]) for k in single):
            different.append(
                f"{title} ($tenant={tenant}): {expr}\n  Prometheus {single}\n  Cortex     {engine}"
            )
    assert not different, "\n".join(different)
