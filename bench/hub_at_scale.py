#!/usr/bin/env python3
"""Benchmark: the real hub at 1,000, 3,000 and 10,000 tenants: series, memory, CPU, exemplars, Overview.

For each tenant count, the programs `make stack` runs start in a temporary run folder, through
monitoring/local_stack.py, rendered for 127.0.0.1 on free ports by monitoring/loopback.py: the
Collector (tools/bin/otelcol-tiktickets, the committed monitoring/otel-collector/config.yaml),
Prometheus 3 (tools/bin/prometheus, the committed prometheus.yml, the generated rules, exemplar
storage on, as compose runs it), Jaeger and the Loki stand-in (the Collector's trace and log exports
go somewhere real); not the Grafana stand-in, which nothing here reads. Then the demo backend
(monitoring/demo/demo.js, on the OpenTelemetry Node.js SDK) sends --rps requests/s spread over the
tenants for --minutes. Every 5 s the benchmark samples, from /proc, the RSS and CPU time of
Prometheus, the Collector and the demo (and the demo's open files), the load average and the
machine's busy CPU, and Prometheus' exemplar counters from its /metrics. At the end, with the
traffic still flowing, it asks Prometheus:

- which `tenant_id` values each tenant-scoped series of the contract holds, and each per-tenant
  recorded series (/api/v1/series over the run), against the tenants the demo's status line reports;
- the overflow series (`otel_metric_overflow="true"`) and any `tenant_id="unknown"` series;
- its head series against the contract's prediction: `series_per_tenant()` x tenants, plus the
  per-tenant recorded rows, plus the tenant-independent series as measured;
- its exemplar ring (size, fill, appends per second, oldest kept), the exemplars per metric name,
  and how much of a 1 h view the P99 panel's exemplars cover;
- how long the Overview takes to load: every panel as Grafana sends it (`$tenant` = All, the P99
  target's exemplar query included), all in parallel, at 1 h and 7 d; with minutes of data, the 7 d
  view is over what exists.

With --history-days N, the series Prometheus holds at the end (every label set the run made) are
also written as N days of history (bench/history.py, at each series' pace) once the stack has
stopped, and the Overview is loaded from a Prometheus that serves that history alone: the 7 d view
over 7 days, not over minutes. With --instances N, the demo runs as N backend instances
(DEMO_INSTANCE k/n), to measure what each further instance costs per tenant.

The table goes to bench/results/hub-at-scale.md, one column per run, with the raw figures in
hub-at-scale.json next to it, so a run of one size (or of another checkout, `--label`) keeps the
others. Every column names the programs' versions, read from the programs themselves.

Run from the repository root: `.venv/bin/python -m bench.hub_at_scale [--tenants 1000 3000 10000]
[--minutes 5] [--rps 150] [--instances 1] [--history-days 0]`. Each size takes --minutes plus about a
minute to start, query and stop (with --history-days 7 at 10,000 tenants, about 15 minutes more and
10 GB of disk while it runs); on 2 cores the stack uses most of one, and Prometheus a few hundred MiB.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bench.history import SeriesSpec, sample_steps, served_overview, snapshot
from bench.metrics_backends import (
    BACKENDS,
    CORTEX_BACKEND,
    PROMETHEUS_BACKEND,
    Backend,
    Engine,
    backend_versions,
    configured_max_exemplars,
    cortex_programs,
    load_rules,
    send_tenant_header,
)
from bench.overview_at_scale import (
    SCRAPE_INTERVAL,
    Query,
    dashboard_queries,
    grafana_expr,
    overview_uid,
    prometheus_get,
    send_query,
)
from dashboards_as_code.contract.model import MetricSignal, TelemetryContract
from dashboards_as_code.dashboard_panels import every_panel
from dashboards_as_code.defaults import ALL_TENANTS, TENANT_LABEL, TENANT_VARIABLE
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import RecordingRule, RuleGroup, recorded_series
from dashboards_as_code.definitions.types import Project
from dashboards_as_code.external_tools import NODE, PROMETHEUS, ToolMissingError, require
from dashboards_as_code.grafana_math import builtin_intervals, opening_value, parse_duration, substitute
from dashboards_as_code.kinds.dashboard import dashboard_document
from dashboards_as_code.render.documents import build_documents
from monitoring import local_stack, loopback
from monitoring.local_stack import Program, program_version
from monitoring.tools import JAEGER, OTELCOL

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "hub-at-scale.md"
DEMO_PACKAGE = REPO / "monitoring" / "demo" / "package.json"
SDK_PACKAGES = ("@opentelemetry/sdk-node", "@opentelemetry/sdk-metrics")
"""The OTel JS packages whose versions a column names: the SDK the demo starts, and its metrics part
(which holds the cardinality limit and the overflow series)."""

DEMO_ERROR_RATIO = 0.001
"""The demo's own default DEMO_ERROR_RATIO (monitoring/demo/demo.js), the benchmark's default too."""
SAMPLE_SECONDS = 5.0
WINDOW_SECONDS = 3600
"""The P99 panel's exemplars are judged over a 1 h view, the Overview's default range."""
VIEWS = {"1h": (3600, 15), "7d": (7 * 86400, 600)}
"""View -> (range in seconds, the step Grafana sends for a ~1,000 px panel): 3.6 s raised to the
datasource's 15 s minimum interval for 1 h; 604.8 s rounded to Grafana's 10 m for 7 d."""
LOAD_RUNS = 3
"""The whole Overview is loaded this many times per view; the median is kept."""
UNKNOWN_TENANT = "unknown"
"""What the Collector's `transform/tenant` and `span_metrics/tenant` write where an emitter sent no
tenant_id (monitoring/otel-collector/config.yaml); not a tenant, and not counted as one."""
OVERFLOW_SELECTOR = '{otel_metric_overflow="true"}'
"""The series an OTel SDK (or the spanmetrics connector) folds every attribute set past its
cardinality limit into."""
DEMO_STATUS = re.compile(
    r"demo: (?P<sent>\d+) requests sent, (?P<errors>\d+) errors, (?P<seen>\d+)/(?P<tenants>\d+) tenants, "
    r"(?P<failures>\d+) export failures"
)
"""The demo's status line (monitoring/demo/demo.js, status()), printed every DEMO_STATUS_INTERVAL."""
EXPOSITION_LINE = re.compile(r"^(?P<series>[a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?)\s+(?P<value>\S+)")


# ---------------------------------------------------------------------------------------------------
# Pure helpers: parsing what the programs print, and the arithmetic of the prediction and the ring.


@dataclass(frozen=True)
class DemoStatus:
    sent: int
    errors: int
    tenants_seen: int
    """Tenants the demo sent at least one request for (counted when sent, answered or not)."""
    tenants: int
    export_failures: int


def last_demo_status(log: str) -> DemoStatus | None:
    """The newest status line in the demo's output, or None before its first."""
    found = list(DEMO_STATUS.finditer(log))
    if not found:
        return None
    last = found[-1]
    return DemoStatus(
        int(last["sent"]), int(last["errors"]), int(last["seen"]), int(last["tenants"]), int(last["failures"])
    )


def combined_status(statuses: Iterable[DemoStatus | None]) -> DemoStatus | None:
    """The demo instances' status lines as one: requests, errors and export failures added up; the
    tenants seen are those of the instance that saw the fewest (each instance serves every tenant)."""
    found = list(statuses)
    if not found or any(s is None for s in found):
        return None
    every = [s for s in found if s is not None]
    return DemoStatus(
        sum(s.sent for s in every),
        sum(s.errors for s in every),
        min(s.tenants_seen for s in every),
        every[0].tenants,
        sum(s.export_failures for s in every),
    )


def parse_exposition(text: str) -> dict[str, float]:
    """A Prometheus text exposition (a program's /metrics) as series -> value; a series with labels is
    keyed as written (`name{a="b"}`). Comments, and lines that are no sample, are skipped."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        match = EXPOSITION_LINE.match(line)
        if match is None:
            continue
        try:
            found[match["series"]] = float(match["value"])
        except ValueError:
            continue
    return found


def proc_status_kib(status: str, key: str) -> int:
    """A `kB` field of /proc/<pid>/status (`VmRSS`, `VmHWM`), in KiB; 0 when absent (a zombie)."""
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0])
    return 0


def proc_cpu_seconds(stat: str, ticks_per_second: int) -> float:
    """User + system CPU time of a process from /proc/<pid>/stat. Its name (field 2) may hold spaces
    and parentheses, so the fields are counted after the last `)`: utime and stime are fields 14, 15."""
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


def machine_cpu_ticks(proc_stat: str) -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine from /proc/stat's `cpu` line; idle and iowait are
    not busy."""
    for line in proc_stat.splitlines():
        if line.startswith("cpu "):
            ticks = [int(value) for value in line.split()[1:]]
            idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
            return sum(ticks) - idle, sum(ticks)
    raise ValueError("no cpu line in /proc/stat")


def real_tenants(series: Iterable[Mapping[str, str]]) -> set[str]:
    """The tenants named by a set of series: no empty value, no All row, no `unknown`."""
    return {
        tenant
        for labels in series
        if (tenant := labels.get(TENANT_LABEL, "")) not in {"", ALL_TENANTS, UNKNOWN_TENANT}
    }


def recorded_rows_per_tenant(rules: Iterable[RecordingRule]) -> int:
    """At most how many rows one tenant adds to the per-tenant recorded series.

    A rule keeping only `tenant_id` adds one row per tenant. One keeping other labels too (`status_code`)
    adds at most the tenant budget of the signal it sums: summing merges series, never splits them, and
    the sum drops the labels that make the budget grow with backend instances. The All rows
    (`tenant_id="__all__"`, a fixed label) do not grow with tenants and are not counted."""
    rows: dict[str, int] = {}
    for rule in rules:
        if TENANT_LABEL not in rule.expr.labels:
            continue  # the All row: tenant_id is a fixed label, not one value per tenant
        if rule.expr.labels == {TENANT_LABEL}:
            per_tenant = 1
        else:
            budgets = [s.tenant_budget.series for s in rule.expr.signals if s.tenant_budget is not None]
            if not budgets:
                raise ValueError(
                    f"{rule.record}: keeps {sorted(rule.expr.labels)} but reads no budgeted signal"
                )
            per_tenant = max(budgets)
        rows[rule.record] = max(rows.get(rule.record, 0), per_tenant)
    return sum(rows.values())


@dataclass(frozen=True)
class Prediction:
    """The head series the contract predicts for one backend instance and `tenants` tenants."""

    raw_per_tenant: int
    """`contract.series_per_tenant()`: the tenant budgets of the raw tenant-scoped signals."""
    recorded_per_tenant: int
    tenants: int
    tenant_independent: int
    """Measured: series that do not grow with tenants (routes, buckets, All rows, the Collector's own)."""

    @property
    def series(self) -> int:
        return (self.raw_per_tenant + self.recorded_per_tenant) * self.tenants + self.tenant_independent


def relative_error(predicted: float, measured: float) -> float:
    """(predicted - measured) / measured: positive when the prediction is too high."""
    if measured == 0:
        raise ValueError("nothing measured to compare the prediction with")
    return (predicted - measured) / measured


@dataclass(frozen=True)
class RingCoverage:
    seconds: float
    """How far back the exemplar ring reaches."""
    extrapolated: bool
    """True when the ring is not full yet: its size divided by the append rate, not a measurement."""


def ring_coverage(
    max_exemplars: float, in_storage: float, appended_per_second: float, oldest: float, now: float
) -> RingCoverage | None:
    """Prometheus keeps one ring of `max_exemplars` for every series; once full, each new exemplar
    pushes out the oldest, so the ring reaches back to its oldest exemplar. Before that it will reach
    back size / append rate; None when nothing is appended."""
    if max_exemplars > 0 and in_storage >= max_exemplars:
        return RingCoverage(now - oldest, extrapolated=False)
    if appended_per_second <= 0:
        return None
    return RingCoverage(max_exemplars / appended_per_second, extrapolated=True)


def share_of(seconds: float, window: float) -> float:
    """The part of `window` that `seconds` covers, at most all of it."""
    return max(0.0, min(1.0, seconds / window))


def per_thousand(value: float, tenants: int) -> float:
    return value / (tenants / 1000)


# ---------------------------------------------------------------------------------------------------
# What the project defines: the tenant-scoped signals and the per-tenant recorded series.


def tenant_signals(contract: TelemetryContract) -> list[MetricSignal]:
    """The contract's tenant-scoped metrics: those with a `tenant_id` label, which the contract requires
    to have a tenant budget (a contract from before the budgets has the same signals, without one)."""
    return [signal for signal in contract.metrics if signal.tenant_scoped]


def tenant_recorded(groups: list[RuleGroup]) -> dict[str, list[RecordingRule]]:
    """Per-tenant recorded series name -> every rule recording it (the per-tenant rows and the All row)."""
    names = [name for name, rule in recorded_series(groups).items() if rule.tenant_scoped]
    return {name: [r for g in groups for r in g.recording if r.record == name] for name in names}


# ---------------------------------------------------------------------------------------------------
# The programs' versions, read from them.


def sha256_prefix(path: str) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def collector_processors(binary: str) -> list[str]:
    """The processors built into the Collector (`components`), which tell two builds of one version apart."""
    result = subprocess.run([binary, "components"], capture_output=True, text=True, timeout=60, check=False)
    try:
        document = yaml.safe_load(result.stdout) or {}
    except yaml.YAMLError:
        return []
    return sorted(str(p.get("name")) for p in document.get("processors") or [])


def sdk_versions() -> dict[str, str]:
    """Each SDK package: the version package.json pins, and the one installed in node_modules."""
    pinned = json.loads(DEMO_PACKAGE.read_text(encoding="utf-8")).get("dependencies", {})
    found = {}
    for package in SDK_PACKAGES:
        installed_file = DEMO_PACKAGE.parent / "node_modules" / package / "package.json"
        installed = (
            json.loads(installed_file.read_text(encoding="utf-8")).get("version", "?")
            if installed_file.is_file()
            else "not installed"
        )
        found[package] = f"{pinned.get(package, 'not pinned')} (installed {installed})"
    return found


def versions() -> dict[str, str]:
    collector, prometheus, jaeger, node = (
        require(OTELCOL, REPO),
        require(PROMETHEUS, REPO),
        require(JAEGER, REPO),
        require(NODE, REPO),
    )
    return {
        "Prometheus": f"{program_version(prometheus, '--version')} ({shown(prometheus)})",
        "Collector": (
            f"{program_version(collector, '--version')} ({shown(collector)}, "
            f"sha256 {sha256_prefix(collector)}, "
            f"processors: {', '.join(collector_processors(collector))})"
        ),
        "Jaeger": (
            f"{program_version(jaeger, 'version') or 'prints no version; compose pins ' + jaeger_image()} "
            f"({shown(jaeger)})"
        ),
        "node": program_version(node, "--version"),
        **{f"OTel JS {name.rpartition('/')[2]}": version for name, version in sdk_versions().items()},
    }


def jaeger_image() -> str:
    """The image compose runs Jaeger from: a build from Go modules prints no version of its own, and
    tests/e2e/test_collector_build.py holds the build and the image to one release."""
    return str(loopback.Compose().service("jaeger").get("image", "?"))


def shown(path: str) -> str:
    resolved = Path(path).resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(resolved)


def checkout() -> str:
    def git(*arguments: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(REPO), *arguments], capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    # The results this benchmark writes are no change to what it measures.
    changed = " + uncommitted changes" if git("status", "--porcelain", "--", ".", ":!bench/results") else ""
    return f"{git('rev-parse', '--abbrev-ref', 'HEAD')} {git('rev-parse', '--short', 'HEAD')}{changed}"


# ---------------------------------------------------------------------------------------------------
# Sampling the running programs.


def read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


@dataclass
class Sample:
    at: float
    rss_mib: dict[str, float]
    cpu_s: dict[str, float]
    demo_open_files: int
    load1: float
    machine_busy: int
    machine_total: int
    exemplars_appended: float


@dataclass
class Sampler:
    pids: dict[str, tuple[int, ...]]
    """Role (the engine, the Collector, the demo) -> its processes, summed: the Collector tier of the
    scaled topology is a gateway and two shards, its engine Cortex and the Prometheus agent."""
    metrics_url: str
    """Where the engine serves its own /metrics."""
    backend: Backend = PROMETHEUS_BACKEND
    samples: list[Sample] = field(default_factory=list)
    ticks: int = field(default_factory=lambda: os.sysconf("SC_CLK_TCK"))

    def take(self) -> Sample:
        rss, cpu = {}, {}
        for role, pids in self.pids.items():
            rss[role] = sum(proc_status_kib(read(f"/proc/{pid}/status"), "VmRSS") for pid in pids) / 1024
            stats = [read(f"/proc/{pid}/stat") for pid in pids]
            cpu[role] = sum(proc_cpu_seconds(stat, self.ticks) for stat in stats if stat)
        try:
            demo = self.pids[local_stack.DEMO_SERVICE][0]
            open_files = sum(1 for _ in Path(f"/proc/{demo}/fd").iterdir())
        except OSError:
            open_files = 0
        busy, total = machine_cpu_ticks(read("/proc/stat"))
        sample = Sample(
            time.time(),
            rss,
            cpu,
            open_files,
            float(read("/proc/loadavg").split()[0]),
            busy,
            total,
            self.backend.total(prometheus_metrics(self.metrics_url), self.backend.exemplars_appended) or 0.0,
        )
        self.samples.append(sample)
        return sample


def prometheus_metrics(url: str) -> dict[str, float]:
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
            return parse_exposition(response.read().decode())
    except OSError:
        return {}


def series(url: str, selector: str, start: float, end: float) -> list[dict[str, str]]:
    body = prometheus_get(
        url, "/api/v1/series", **{"match[]": selector, "start": str(start), "end": str(end)}
    )
    return list(body["data"])


def exemplars(url: str, expr: str, start: float, end: float) -> list[dict[str, Any]]:
    body = prometheus_get(url, "/api/v1/query_exemplars", query=expr, start=str(start), end=str(end))
    return list(body["data"] or [])


# ---------------------------------------------------------------------------------------------------
# One run.


def timed_exemplar_query(url: str, expr: str, end: float, seconds: int) -> tuple[float, int]:
    started = time.perf_counter()
    found = exemplars(url, expr, end - seconds, end)
    return (time.perf_counter() - started) * 1000, sum(len(s["exemplars"]) for s in found)


def overview_load(url: str, end: float) -> dict[str, dict[str, Any]]:
    """The Overview at each view: every Prometheus target as Grafana sends it, all at once, and the
    P99 target's exemplar query with them; the median wall time of LOAD_RUNS loads, and the slowest
    query of the last."""
    queries = dashboard_queries(recorded=True)
    loads: dict[str, dict[str, Any]] = {}
    for view, (seconds, step) in VIEWS.items():
        exprs = [grafana_expr(q.expr, step, ALL_TENANTS) for q in queries]
        exemplar_exprs = [e for q, e in zip(queries, exprs, strict=True) if q.exemplar]
        walls, timings = [], []
        for _ in range(LOAD_RUNS):
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(exprs) + len(exemplar_exprs)) as pool:

                def one(query: Query, expr: str, sec: int = seconds, stp: int = step) -> tuple[float, int]:
                    return send_query(url, query, expr, end, seconds=sec, step=stp)

                ranges = pool.map(one, queries, exprs)
                dots = pool.map(lambda e, sec=seconds: timed_exemplar_query(url, e, end, sec), exemplar_exprs)
                timings = [
                    *((f"{q.panel} [{q.ref}]", ms, n) for q, (ms, n) in zip(queries, ranges, strict=True)),
                    *(("P99 exemplars", ms, n) for ms, n in dots),
                ]
            walls.append((time.perf_counter() - started) * 1000)
        slowest = max(timings, key=lambda t: t[1])
        loads[view] = {
            "ms": statistics.median(walls),
            "queries": len(timings),
            "slowest": slowest[0],
            "slowest_ms": slowest[1],
            "samples": sum(n for name, _, n in timings if name != "P99 exemplars"),
        }
    return loads


def dashboard_load(url: str, end: float, document: Mapping[str, Any], tenants: list[str]) -> dict[str, Any]:
    """One dashboard as it opens, at each view: every Prometheus target of every panel (collapsed rows
    too) with the panel's own `$__interval`, `$__rate_interval` and `$__range`
    (dashboards_as_code.grafana_math,
    as doctor computes them) and each variable at its opening value (`tenants`: the values Grafana's
    tenant picker would offer, sorted), all at once; the median wall time of LOAD_RUNS loads."""
    variables = {
        v["name"]: opening_value(v, tenants if v["name"] == TENANT_VARIABLE else [])
        for v in document.get("templating", {}).get("list", [])
        if v.get("type") == "query"
    }
    targets = [
        (panel, target)
        for panel in every_panel(document)  # collapsed rows' too: Grafana asks them when a row opens
        for target in panel.get("targets", [])
        if (target.get("datasource") or {}).get("type") == "prometheus"
    ]
    loads: dict[str, Any] = {"variables": variables}
    for view, (seconds, _) in VIEWS.items():
        sent = []
        for panel, target in targets:
            builtins = builtin_intervals(seconds, SCRAPE_INTERVAL, int(panel.get("gridPos", {}).get("w", 24)))
            query = Query(panel["title"], target["refId"], target["expr"], bool(target.get("instant")))
            expr = substitute(target["expr"], builtins, variables)
            sent.append((query, expr, int(parse_duration(builtins["$__interval"]))))

        def one(item: tuple[Query, str, int], sec: int = seconds) -> tuple[Query, tuple[float, int]]:
            query, expr, step = item
            return query, send_query(url, query, expr, end, seconds=sec, step=step)

        walls, timings = [], []
        for _ in range(LOAD_RUNS):
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=max(1, len(sent))) as pool:
                timings = list(pool.map(one, sent))
            walls.append((time.perf_counter() - started) * 1000)
        slowest = max(timings, key=lambda t: t[1][0])
        loads[view] = {
            "ms": statistics.median(walls),
            "queries": len(timings),
            "slowest": f"{slowest[0].panel} [{slowest[0].ref}]",
            "slowest_ms": slowest[1][0],
            "samples": sum(n for _, (_, n) in timings),
        }
    return loads


def other_dashboards_load(run: Run, end: float) -> dict[str, dict[str, Any]]:
    """Every dashboard of the project but the Overview (timed with its exemplars by overview_load), by
    title: what the Tenants dashboard's top-k and the Tenant dashboard's 30-day budgets cost at this
    many tenants."""
    body = prometheus_get(run.url, "/api/v1/label/" + TENANT_LABEL + "/values")
    tenants = sorted(t for t in body["data"] if t not in {ALL_TENANTS, UNKNOWN_TENANT})
    loads = {}
    for definition in run.project.dashboards:
        document = dashboard_document(definition)
        if document.get("uid") == overview_uid():
            continue
        loads[str(document.get("title"))] = dashboard_load(run.url, end, document, tenants)
    return loads


@dataclass
class Run:
    """One size's stack while it runs: what the benchmark asks Prometheus about, and where."""

    tenants: int
    project: Project
    run_dir: Path
    url: str
    """The engine's Prometheus API: Prometheus, or `<cortex>/prometheus`."""
    running: list[Program]
    sampler: Sampler
    instances: int = 1
    """Backend instances: the demo started this many times (DEMO_INSTANCE k/n)."""
    backend: Backend = PROMETHEUS_BACKEND
    metrics_url: str = ""
    """Where the engine serves its own /metrics (Prometheus: `url`)."""
    traffic_start: float = 0.0
    end: float = 0.0

    @property
    def raw(self) -> list[MetricSignal]:
        return tenant_signals(self.project.contract)

    @property
    def recorded(self) -> dict[str, list[RecordingRule]]:
        return tenant_recorded(self.project.rule_groups)


def run_once(
    tenants: int,
    minutes: float,
    rps: float,
    error_ratio: float,
    keep: Path | None,
    *,
    socket_tenants: int | None = None,
    slow_ratio: float = 0.0,
    instances: int = 1,
    history_days: int = 0,
    backend: Backend = PROMETHEUS_BACKEND,
) -> dict[str, Any]:
    run_dir = Path(tempfile.mkdtemp(prefix=f"hub-{tenants}-", dir=keep))
    figures: dict[str, Any] = {
        "tenants": tenants,
        "minutes": minutes,
        "rps": rps,
        "error_ratio": error_ratio,
        "slow_ratio": slow_ratio,
        "socket_tenants": socket_tenants,
        "instances": instances,
        "backend": backend.name,
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "checkout": checkout(),
        "versions": {**versions(), **(backend_versions() if backend is CORTEX_BACKEND else {})},
        "load_before": float(read("/proc/loadavg").split()[0]),
    }
    compose = loopback.Compose()
    plan = local_stack.make_plan(compose, run_dir, free=True)
    settings = {
        "DEMO_TENANTS": str(tenants),
        "DEMO_RPS": f"{rps:g}",
        "DEMO_ERROR_RATIO": f"{error_ratio:g}",
        **({"DEMO_SLOW_RATIO": f"{slow_ratio:g}"} if slow_ratio else {}),
        "DEMO_STATUS_INTERVAL": "5s",
        **({} if socket_tenants is None else {"DEMO_SOCKET_TENANTS": str(socket_tenants)}),
    }
    found = demo_instances(
        [
            p
            for p in local_stack.programs(compose, plan, demo_settings=settings)
            if p.service != local_stack.GRAFANA  # nothing here reads the Grafana stand-in
        ],
        instances,
    )
    url = plan.url(local_stack.PROMETHEUS_SERVICE, local_stack.PROMETHEUS_HTTP.port)
    engine = Engine(url, url)
    if backend is CORTEX_BACKEND:
        found, engine = cortex_programs(found, plan)
        send_tenant_header()
    project = load_project(REPO)
    demos = [p for p in found if p.service.startswith(local_stack.DEMO_SERVICE)]
    try:
        with (
            local_stack.started([p for p in found if p not in demos], run_dir, sys.stderr) as stack,
            _rules_loaded(backend, engine, project, run_dir),
            local_stack.started(demos, run_dir, sys.stderr) as demos_running,
        ):
            running = [*stack, *demos_running]
            url = engine.query_url
            sampler = Sampler(sampled_pids(running, backend), engine.metrics_url, backend)
            run = Run(
                tenants, project, run_dir, url, running, sampler, instances, backend, engine.metrics_url
            )
            figures.update(traffic(run, minutes))
            figures.update(tenant_figures(run))
            figures.update(series_figures(run, figures))
            figures.update(resource_figures(run))
            figures["exemplars"] = exemplar_figures(run)
            figures["collector_losses"] = collector_losses(url)  # Cortex: the agent's scrapes
            figures["exporter_scrape"] = exporter_scrape(run)
            figures["overview"] = overview_load(url, time.time())
            figures["dashboards"] = other_dashboards_load(run, time.time())
            history = history_snapshot(run) if history_days else None
        if history is not None:  # the stack has stopped: the history's Prometheus runs alone
            figures["history"] = served_overview(history, run.end, history_days, run_dir, overview_load)
    finally:
        if keep is None:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            print(f"run folder kept: {run_dir}", flush=True)
    return figures


@contextlib.contextmanager
def _rules_loaded(backend: Backend, engine: Engine, project: Project, run_dir: Path) -> Iterator[None]:
    """Cortex's ruler holds the rule groups before the demo starts (Prometheus reads its rule files)."""
    if backend is CORTEX_BACKEND:
        rules = build_documents(project).rules
        load_rules(engine, list((rules or {}).get("groups", [])), run_dir / "rule-backups")
    yield


def sampled_pids(running: list[Program], backend: Backend) -> dict[str, tuple[int, ...]]:
    """The processes of each role the table shows: the engine, the Collector tier, the (first) demo."""
    by_service = {p.service: p.process.pid for p in running if p.process is not None}
    roles = {
        local_stack.PROMETHEUS_SERVICE: backend.engine_roles,
        local_stack.COLLECTOR: backend.collector_roles,
        local_stack.DEMO_SERVICE: (local_stack.DEMO_SERVICE,),
    }
    return {
        role: tuple(by_service[s] for s in services if s in by_service) for role, services in roles.items()
    }


def history_snapshot(run: Run) -> list[SeriesSpec]:
    """Every series the live Prometheus holds now, with its pace or level (bench/history.py)."""
    scrape_s, recorded_steps = sample_steps(
        REPO / "monitoring" / "prometheus" / "prometheus.yml", run.project.rule_groups
    )
    return snapshot(run.url, time.time(), scrape_s, recorded_steps)


def demo_instances(found: list[Program], instances: int) -> list[Program]:
    """`found` with its demo as `instances` backend instances (DEMO_INSTANCE k/n), each its own process:
    the first keeps the demo's service name (its log is demo.log, and the table's demo figures are its),
    the others are demo-2, demo-3, ..."""
    if instances == 1:
        return found
    demo = next(p for p in found if p.service == local_stack.DEMO_SERVICE)
    copies = [
        replace(
            demo,
            service=local_stack.DEMO_SERVICE if k == 1 else f"{local_stack.DEMO_SERVICE}-{k}",
            title=f"demo {k} of {instances}",
            env={**demo.env, "DEMO_INSTANCE": f"{k}/{instances}"},
        )
        for k in range(1, instances + 1)
    ]
    return [p for p in found if p is not demo] + copies


def demo_logs(run: Run) -> list[str]:
    """Every demo instance's output."""
    return [
        read(str(run.run_dir / f"{p.service}.log"))
        for p in run.running
        if p.service.startswith(local_stack.DEMO_SERVICE)
    ]


def traffic(run: Run, minutes: float) -> dict[str, Any]:
    """Let the demo run for `minutes` (or until it exits), sampling every SAMPLE_SECONDS."""
    first = run.sampler.take()
    run.traffic_start = first.at
    deadline = first.at + minutes * 60
    demo = next(p for p in run.running if p.service == local_stack.DEMO_SERVICE)
    demo_exit: dict[str, Any] | None = None
    while time.time() < deadline and demo_exit is None:
        time.sleep(min(SAMPLE_SECONDS, max(0.0, deadline - time.time())))
        for program in run.running:
            assert program.process is not None
            code = program.process.poll()
            if code is not None and program is not demo:
                raise local_stack.StackError(f"{program.title} exited with {code} during the run", 1)
        last = run.sampler.take()
        rss = last.rss_mib
        print(
            f"  {last.at - first.at:5.0f} s: "
            f"{run.backend.title} {rss.get(local_stack.PROMETHEUS_SERVICE, 0):,.0f} MiB, "
            f"Collector {rss.get(local_stack.COLLECTOR, 0):,.0f} MiB, demo's open files "
            f"{last.demo_open_files:,}, load {last.load1:.2f}",
            flush=True,
        )
        assert demo.process is not None
        if demo.process.poll() is not None:
            tail = read(str(run.run_dir / "demo.log")).splitlines()[-8:]
            demo_exit = {"code": demo.process.returncode, "after_s": last.at - first.at, "tail": tail}
            print(f"  the demo exited with {demo.process.returncode}: {tail}", flush=True)
    run.end = run.sampler.samples[-1].at
    status = combined_status(last_demo_status(log) for log in demo_logs(run))
    return {
        "demo_exit": demo_exit,
        "demo": asdict(status) if status else None,
        "demo_peak_open_files": max(s.demo_open_files for s in run.sampler.samples),
        "open_files_limit": open_files_limit(),
        "traffic_s": run.end - run.traffic_start,
    }


def _tenant_series(run: Run, names: Iterable[str]) -> dict[str, dict[str, int]]:
    """Per series name: the real tenants it names, their series, and all its series, over the run."""
    found: dict[str, dict[str, int]] = {}
    for name in names:
        every = series(run.url, f'{{__name__="{name}"}}', run.traffic_start - 60, run.end)
        tenants = real_tenants(every)
        found[name] = {
            "tenants": len(tenants),
            "series": sum(1 for s in every if s.get(TENANT_LABEL) in tenants),
            "all": len(every),
        }
    return found


EXPORTER_JOB = "otel-collector-exporter"
"""The scrape of the Collector's exporter page (prometheus.yml): every application and span-metrics series."""


def exporter_scrape(run: Run) -> dict[str, float] | None:
    """The exporter page's scrape over the run's second half (samples, and the seconds each scrape took:
    median and largest), or None where nothing scrapes it (Cortex: the shards push)."""
    if run.backend is not PROMETHEUS_BACKEND:
        return None
    middle = run.traffic_start + (run.end - run.traffic_start) / 2
    found: dict[str, float] = {}
    for name, metric in (("samples", "scrape_samples_scraped"), ("seconds", "scrape_duration_seconds")):
        body = prometheus_get(
            run.url,
            "/api/v1/query_range",
            query=f'{metric}{{job="{EXPORTER_JOB}"}}',
            start=str(middle),
            end=str(run.end),
            step="5",
        )
        values = sorted(float(v) for r in body["data"]["result"] for _, v in r["values"])
        if not values:
            return None
        found[f"{name}_median"], found[f"{name}_max"] = statistics.median(values), values[-1]
    return found


def _scrape(f: Mapping[str, Any]) -> str:
    scrape = f.get("exporter_scrape")
    if not scrape:
        return (
            "— (not measured)"
            if f.get("backend", "prometheus") == "prometheus"
            else "— (pushed, not scraped)"
        )
    return (
        f"{scrape['samples_median']:,.0f} samples; {scrape['seconds_median']:.2f} s "
        f"(largest {scrape['seconds_max']:.2f} s)"
    )


COLLECTOR_LOSSES = (
    'sum by (__name__) ({__name__=~"otelcol_.*(refused|failed|dropped).*", job="otel-collector"}) > 0'
)
"""What the Collector refused, dropped or failed to send, by its own counters (Prometheus scrapes them)."""


def collector_losses(url: str) -> dict[str, float]:
    body = prometheus_get(url, "/api/v1/query", query=COLLECTOR_LOSSES)
    return {r["metric"].get("__name__", "?"): float(r["value"][1]) for r in body["data"]["result"]}


def tenant_figures(run: Run) -> dict[str, Any]:
    start, end = run.traffic_start - 60, run.end
    unknown = f'{{{TENANT_LABEL}="{UNKNOWN_TENANT}"}}'
    return {
        "raw_series": _tenant_series(run, (n for s in run.raw for n in s.series_names)),
        "recorded_series": _tenant_series(run, run.recorded),
        "overflow_series": dict(
            Counter(s.get("__name__", "?") for s in series(run.url, OVERFLOW_SELECTOR, start, end))
        ),
        "unknown_series": dict(Counter(s.get("__name__", "?") for s in series(run.url, unknown, start, end))),
    }


def series_figures(run: Run, figures: Mapping[str, Any]) -> dict[str, Any]:
    """Head series, what of them belongs to tenants, and the contract's prediction."""
    head = int(run.backend.total(prometheus_metrics(run.metrics_url), run.backend.head_series) or 0)
    raw = sum(s["series"] for s in figures["raw_series"].values())
    recorded = sum(s["series"] for s in figures["recorded_series"].values())
    independent = head - raw - recorded
    prediction = None
    if hasattr(run.project.contract, "series_per_tenant"):  # a contract from before the budgets has none
        predicted = Prediction(
            run.project.contract.series_per_tenant(run.instances, run.backend.shards),
            recorded_rows_per_tenant(r for rules in run.recorded.values() for r in rules),
            run.tenants,
            independent,
        )
        prediction = {**asdict(predicted), "series": predicted.series}
    return {
        "head_series": head,
        "raw_tenant_series": raw,
        "recorded_tenant_rows": recorded,
        "tenant_independent": independent,
        "prediction": prediction,
    }


def resource_figures(run: Run) -> dict[str, Any]:
    samples = [s for s in run.sampler.samples if s.at <= run.end]
    first, last = samples[0], samples[-1]
    elapsed = last.at - first.at
    cpu = {s: last.cpu_s.get(s, 0) - first.cpu_s.get(s, 0) for s in run.sampler.pids}
    loads = [s.load1 for s in samples]
    engine_pids = run.sampler.pids[local_stack.PROMETHEUS_SERVICE]
    return {
        "rss_peak_mib": {s: max(x.rss_mib.get(s, 0) for x in samples) for s in run.sampler.pids},
        "prometheus_hwm_mib": sum(
            proc_status_kib(read(f"/proc/{pid}/status"), "VmHWM") for pid in engine_pids
        )
        / 1024,
        "cpu_s": cpu,
        "load1": {"min": min(loads), "median": statistics.median(loads), "max": max(loads)},
        "machine_busy_cores": (last.machine_busy - first.machine_busy) / run.sampler.ticks / elapsed,
        "run_busy_cores": sum(cpu.values()) / elapsed,
    }


def open_files_limit() -> int:
    import resource  # noqa: PLC0415 (Linux only, like /proc)

    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def exemplar_figures(run: Run) -> dict[str, Any]:
    own, backend = prometheus_metrics(run.metrics_url), run.backend
    url, samples, traffic_start, end = run.url, run.sampler.samples, run.traffic_start, run.end
    maximum = backend.total(own, backend.exemplars_max)
    if maximum is None:  # Cortex exposes no size of its exemplar storage: its configured limit
        maximum = configured_max_exemplars() if backend is CORTEX_BACKEND else 0.0
    stored = backend.total(own, backend.exemplars_in_storage) or 0.0
    oldest = backend.latest(own, backend.exemplars_last_timestamp) or 0.0
    settled = [s for s in samples if s.at >= traffic_start + (end - traffic_start) / 2]
    rate = 0.0
    if len(settled) >= 2 and settled[-1].at > settled[0].at:
        rate = (settled[-1].exemplars_appended - settled[0].exemplars_appended) / (
            settled[-1].at - settled[0].at
        )
    per_metric = Counter[str]()
    for found in exemplars(url, '{__name__=~".+"}', traffic_start - 60, end):
        per_metric[found["seriesLabels"].get("__name__", "?")] += len(found["exemplars"])
    coverage = ring_coverage(maximum, stored, rate, oldest, end)
    p99 = [q for q in dashboard_queries(recorded=True) if q.exemplar]
    latency_oldest = None
    if p99:
        expr = grafana_expr(p99[0].expr, VIEWS["1h"][1], ALL_TENANTS)
        stamps = [
            float(e["timestamp"])
            for s in exemplars(url, expr, traffic_start - 60, end)
            for e in s["exemplars"]
        ]
        latency_oldest = min(stamps) if stamps else None
    return {
        "max": maximum,
        "in_storage": stored,
        "appended_per_s": rate,
        "oldest_age_s": end - oldest if oldest else None,
        "per_metric": dict(per_metric.most_common()),
        "ring_s": coverage.seconds if coverage else None,
        "ring_extrapolated": coverage.extrapolated if coverage else None,
        "p99_share_1h": share_of(coverage.seconds, WINDOW_SECONDS) if coverage else None,
        "latency_share_of_run": (
            share_of(end - latency_oldest, end - traffic_start) if latency_oldest is not None else None
        ),
        "latency_oldest_age_s": end - latency_oldest if latency_oldest is not None else None,
    }


# ---------------------------------------------------------------------------------------------------
# The results file: one column per run.

FINDINGS = "<!-- Below this line: written by hand, kept when the table is written again. -->"


def _count(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.0f}{unit}"


def _names(counts: Mapping[str, int]) -> str:
    if not counts:
        return "0"
    listed = "<br>".join(f"`{name}`: {n:,}" for name, n in sorted(counts.items(), key=lambda i: -i[1]))
    return f"{sum(counts.values()):,}<br>{listed}"


def _demo(f: Mapping[str, Any]) -> str:
    demo = f.get("demo")
    return "no status line" if not demo else f"{demo['tenants_seen']:,} / {demo['tenants']:,}"


def _demo_traffic(f: Mapping[str, Any]) -> str:
    demo = f.get("demo")
    if not demo:
        return "—"
    return f"{demo['sent']:,} sent, {demo['errors']:,} failed, {demo['export_failures']:,} export failures"


def _demo_exit(f: Mapping[str, Any]) -> str:
    exit_ = f.get("demo_exit")
    if not exit_:
        return "no (stopped by the benchmark)"
    last = exit_["tail"][-1] if exit_["tail"] else ""
    return f"yes: code {exit_['code']} after {exit_['after_s']:.0f} s; last line: `{last[:160]}`"


def _series(kind: str, name: str) -> Any:
    def cell(f: Mapping[str, Any]) -> str:
        found = f.get(kind, {}).get(name)
        if found is None:
            return "—"
        return (
            f"{found['tenants']:,} ({found['series']:,} series, "
            f"{found['series'] / f['tenants']:.2f} per tenant; "
            f"{found['all'] - found['series']:,} other)"
        )

    return cell


def _per_tenant(key: str) -> Any:
    return lambda f: f"{f[key]:,} ({f[key] / f['tenants']:.2f})"


def _prediction(f: Mapping[str, Any]) -> str:
    p = f.get("prediction")
    if not p:
        return "— (the contract of this checkout has no tenant budgets)"
    return (
        f"{p['series']:,} = ({p['raw_per_tenant']} + {p['recorded_per_tenant']}) x {p['tenants']:,} "
        f"+ {p['tenant_independent']:,}"
    )


def _error(f: Mapping[str, Any]) -> str:
    p = f.get("prediction")
    return "—" if not p else f"{relative_error(p['series'], f['head_series']):+.1%}"


def _rss(f: Mapping[str, Any]) -> str:
    rss = f["rss_peak_mib"]["prometheus"]
    return (
        f"{rss:,.0f} MiB (kernel's peak {f['prometheus_hwm_mib']:,.0f}); "
        f"{per_thousand(rss, f['tenants']):,.0f} MiB per 1,000 tenants"
    )


def _rss_growth(columns: list[Mapping[str, Any]]) -> Any:
    """Prometheus' peak RSS growth per 1,000 tenants over the smallest run of the same checkout: the
    per-tenant cost without the fixed part, which the plain division counts again at every size."""

    def cell(f: Mapping[str, Any]) -> str:
        same = [c for c in columns if c["label"] == f["label"]]
        base = min(same, key=lambda c: c["tenants"])
        if base["tenants"] == f["tenants"]:
            return "— (the smallest run of this checkout)"
        grown = f["rss_peak_mib"]["prometheus"] - base["rss_peak_mib"]["prometheus"]
        return (
            f"{grown / ((f['tenants'] - base['tenants']) / 1000):,.0f} MiB (over {base['tenants']:,} tenants)"
        )

    return cell


def _measured_per_tenant(f: Mapping[str, Any]) -> float:
    return float((f["head_series"] - f["tenant_independent"]) / f["tenants"])


def _instance_cost(columns: list[Mapping[str, Any]]) -> Any:
    """What each backend instance past the first adds per tenant: the measured series per tenant against
    a one-instance column of the same tenants and traffic (the same checkout if there is one)."""

    def same_traffic(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        keys = ("tenants", "rps", "error_ratio", "socket_tenants", "minutes")
        return all(a.get(k) == b.get(k) for k in keys) and a.get("slow_ratio", 0) == b.get("slow_ratio", 0)

    def cell(f: Mapping[str, Any]) -> str:
        instances = f.get("instances", 1)
        if instances == 1:
            return "— (one instance)"
        bases = [c for c in columns if c.get("instances", 1) == 1 and same_traffic(c, f)]
        if not bases:
            return "— (no one-instance column with the same tenants and traffic)"
        base = next((c for c in bases if c["label"] == f["label"]), bases[0])
        added = (_measured_per_tenant(f) - _measured_per_tenant(base)) / (instances - 1)
        return f"{added:.2f} (against {base['label']})"

    return cell


def _cpu(service: str) -> Any:
    return lambda f: (
        f"{f['cpu_s'][service]:,.0f} s ({f['cpu_s'][service] / f['traffic_s']:.0%} of a core); "
        f"peak RSS {f['rss_peak_mib'][service]:,.0f} MiB"
    )


def _load(f: Mapping[str, Any]) -> str:
    load = f["load1"]
    return (
        f"{load['min']:.1f} / {load['median']:.1f} / {load['max']:.1f} "
        f"(before the start: {f['load_before']:.1f}); "
        f"busy cores {f['machine_busy_cores']:.2f} of {os.cpu_count()}, of which the engine, the Collector "
        f"and the demo "
        f"{f['run_busy_cores']:.2f}"
    )


def _ring(f: Mapping[str, Any]) -> str:
    e = f["exemplars"]
    age = _count(e["oldest_age_s"], " s ago")
    return (
        f"{e['in_storage']:,.0f} of {e['max']:,.0f} kept; {e['appended_per_s']:,.1f} appended/s "
        f"(second half of the run); oldest kept {age}"
    )


def _p99(f: Mapping[str, Any]) -> str:
    e = f["exemplars"]
    if e["ring_s"] is None:
        return "— (no exemplar appended)"
    how = (
        "extrapolated: ring not full, size / appends per s"
        if e["ring_extrapolated"]
        else "measured: ring full"
    )
    return f"{e['p99_share_1h']:.0%} ({e['ring_s'] / 60:,.0f} min; {how})"


def _latency(f: Mapping[str, Any]) -> str:
    e = f["exemplars"]
    if e["latency_share_of_run"] is None:
        return "— (none kept)"
    return (
        f"{e['latency_share_of_run']:.0%} "
        f"(oldest {e['latency_oldest_age_s']:,.0f} s ago, run {f['traffic_s']:,.0f} s)"
    )


def _overview(view: str) -> Any:
    def cell(f: Mapping[str, Any]) -> str:
        o = f["overview"][view]
        return (
            f"{o['ms']:,.0f} ms ({o['queries']} queries; slowest {o['slowest']} {o['slowest_ms']:,.0f} ms; "
            f"{o['samples']:,} samples)"
        )

    return cell


def _dashboard(title: str, view: str) -> Any:
    def cell(f: Mapping[str, Any]) -> str:
        d = f["dashboards"][title]
        opened = ", ".join(f"${name} = {value!r}" for name, value in d["variables"].items())
        return str(_overview(view)({"overview": d})) + (f"; {opened}" if opened else "")

    return cell


def _history(view: str) -> Any:
    def cell(f: Mapping[str, Any]) -> str:
        h = f.get("history")
        return "— (not run: --history-days)" if not h else _overview(view)(h)

    return cell


def _history_size(f: Mapping[str, Any]) -> str:
    h = f.get("history")
    if not h:
        return "— (not run: --history-days)"
    return (
        f"{h['days']} d, {h['series']:,} series, {h['samples']:,} samples, {h['tsdb_mib']:,.0f} MiB, "
        f"written in {h['fill_s']:,.0f} s; peak RSS {h['prometheus_hwm_mib']:,.0f} MiB"
    )


def _version(name: str) -> Any:
    return lambda f: f["versions"].get(name, "—")


def tenant_budgets(contract: TelemetryContract) -> dict[str, int]:
    """Series name -> the contract's budget per tenant (one instance); empty for a contract that has no
    budgets (before issue 21)."""
    return {
        name: budget.series
        for signal in tenant_signals(contract)
        if (budget := getattr(signal, "tenant_budget", None)) is not None
        for name in signal.series_names
    }


def report(runs: Mapping[str, Mapping[str, Any]], budgets: Mapping[str, int] | None = None) -> str:
    """The table; `budgets` (series name -> series per tenant) from the contract of the checkout that
    writes it, shown next to each raw series' name."""
    budgets = budgets or {}
    columns = list(runs.values())
    raw_names = list(dict.fromkeys(n for f in columns for n in f.get("raw_series", {})))
    recorded_names = list(dict.fromkeys(n for f in columns for n in f.get("recorded_series", {})))
    other_dashboards = list(dict.fromkeys(t for f in columns for t in f.get("dashboards", {})))
    version_names = list(dict.fromkeys(n for f in columns for n in f["versions"]))
    sections: list[tuple[str, list[tuple[str, Any]]]] = [
        (
            "Tenants",
            [
                ("tenants the demo reported (its status line: seen / configured)", _demo),
                ("demo requests", _demo_traffic),
                ("demo exited before the end", _demo_exit),
                (
                    "demo's peak open files, sampled every 5 s (its limit)",
                    lambda f: f"{f['demo_peak_open_files']:,} ({f['open_files_limit']:,})",
                ),
                *(
                    (
                        f"tenants in `{n}` (their series, per configured tenant; other series)"
                        + (f"; budget {budgets[n]} per tenant" if n in budgets else ""),
                        _series("raw_series", n),
                    )
                    for n in raw_names
                ),
                *(
                    (f"tenants in recorded `{n}` (their rows; All rows)", _series("recorded_series", n))
                    for n in recorded_names
                ),
                (f"overflow series `{OVERFLOW_SELECTOR}`", lambda f: _names(f["overflow_series"])),
                (f'`{TENANT_LABEL}="{UNKNOWN_TENANT}"` series', lambda f: _names(f["unknown_series"])),
            ],
        ),
        (
            "Series",
            [
                (
                    "the engine's series in memory (Prometheus' `prometheus_tsdb_head_series`, Cortex's "
                    "`cortex_ingester_memory_series`)",
                    lambda f: f"{f['head_series']:,}",
                ),
                ("raw tenant-scoped series (per tenant)", _per_tenant("raw_tenant_series")),
                ("per-tenant recorded rows (per tenant)", _per_tenant("recorded_tenant_rows")),
                (
                    "tenant-independent series (head minus the two above)",
                    lambda f: f"{f['tenant_independent']:,}",
                ),
                (
                    "series per tenant, measured: (head - tenant-independent) / tenants",
                    lambda f: f"{_measured_per_tenant(f):.2f}",
                ),
                ("series per tenant each backend instance past the first adds", _instance_cost(columns)),
                (
                    "predicted head series: (budget + recorded rows) x tenants + tenant-independent",
                    _prediction,
                ),
                ("prediction error (predicted - measured) / measured", _error),
            ],
        ),
        (
            "Memory and CPU",
            [
                (
                    "the engine's peak RSS (Prometheus; or Cortex and its Prometheus agent), every 5 s",
                    _rss,
                ),
                ("the engine's peak RSS growth per 1,000 more tenants", _rss_growth(columns)),
                (
                    "Collector CPU over the traffic; peak RSS (on Cortex: the gateway and both shards)",
                    _cpu(local_stack.COLLECTOR),
                ),
                (
                    "Collector: items refused, dropped or not sent (its `otelcol_*` counters)",
                    lambda f: _names({k: int(v) for k, v in f["collector_losses"].items()}),
                ),
                ("the engine's CPU; peak RSS", _cpu(local_stack.PROMETHEUS_SERVICE)),
                (
                    "Prometheus' scrape of the Collector's exporter page, second half of the run (median "
                    "duration; `--enable-feature=created-timestamp-zero-ingestion` on, as compose runs it)",
                    _scrape,
                ),
                ("demo CPU; peak RSS (the first instance's if several)", _cpu(local_stack.DEMO_SERVICE)),
                ("machine: load average 1 min (min / median / max); busy cores", _load),
            ],
        ),
        (
            "Exemplars",
            [
                ("the engine's exemplar ring (Cortex: its `max_exemplars` limit as the size)", _ring),
                (
                    "exemplars kept per metric name (`/api/v1/query_exemplars` over the run)",
                    lambda f: _names(f["exemplars"]["per_metric"]),
                ),
                ("share of a 1 h view the P99 panel's exemplars would cover", _p99),
                ("share of the run the latency exemplars cover now", _latency),
            ],
        ),
        (
            "Overview load: every panel as Grafana sends it, all at once, `$tenant` = All "
            "(median of 3 loads; the slowest query is the last load's)",
            [
                ("1 h (step 15 s)", _overview("1h")),
                ("7 d (step 10 min; only the run's minutes of data exist)", _overview("7d")),
                (
                    "7 d over days of history: the run's series backfilled at their pace (bench/history.py), "
                    "served by a Prometheus of their own",
                    _history("7d"),
                ),
                ("1 h at the end of that history", _history("1h")),
                (
                    "the history: days, series, samples, TSDB size, time to write; its Prometheus' peak RSS",
                    _history_size,
                ),
            ],
        ),
        (
            "The other dashboards' load: every panel as Grafana sends it (collapsed rows too), at each "
            "variable's opening value, all at once (median of 3 loads; only the run's minutes of data exist)",
            [(f"{title}, {view}", _dashboard(title, view)) for title in other_dashboards for view in VIEWS],
        ),
        (
            "Run",
            [
                ("checkout", lambda f: f["checkout"]),
                ("date", lambda f: f["date"]),
                (
                    "traffic",
                    lambda f: (
                        f"{f['traffic_s'] / 60:.1f} min at {f['rps']:g} requests/s asked, "
                        f"{f['demo']['sent'] / f['traffic_s']:.0f}/s sent (the demo's status line; "
                        "its first request per tenant included), "
                        f"{f['error_ratio']:.1%} asked to fail"
                        + (f", {f['slow_ratio']:.0%} asked to be 1 s slower" if f.get("slow_ratio") else "")
                        + (
                            f", {f['socket_tenants']:,} tenants with a Socket.io client from the start"
                            if f.get("socket_tenants") is not None
                            else ""
                        )
                        + f", {f.get('instances', 1)} backend instance(s)"
                    ),
                ),
                *((n, _version(n)) for n in version_names),
            ],
        ),
    ]
    lines = [
        "# The real hub at scale",
        "",
        "Generated by `bench/hub_at_scale.py` (see its docstring for the method): the Collector, "
        "Prometheus 3, Jaeger and the Loki stand-in as `make stack` runs them (a column `on Cortex`: the "
        "scaled topology in their place, bench/metrics_backends.py), on 127.0.0.1, fed by the "
        "demo backend on the "
        "OTel Node.js SDK; every figure is measured while the traffic flows. One column per run; the "
        "programs' versions, read from them, are at the bottom.",
        "",
        "| | " + " | ".join(f"{f['tenants']:,} tenants{_setup(f)}<br>{f['label']}" for f in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for title, rows in sections:
        lines.append(f"| **{title}** |" + " |" * len(columns))
        for name, cell in rows:
            values = []
            for f in columns:
                try:
                    values.append(str(cell(f)))
                except (KeyError, TypeError):
                    values.append("—")
            lines.append(f"| {name} | " + " | ".join(v.replace("|", "\\|") for v in values) + " |")
    return "\n".join(lines) + "\n"


def _setup(f: Mapping[str, Any]) -> str:
    """What sets a column apart besides its tenants, for its heading: more instances, other traffic."""
    parts = [
        *([f"on {BACKENDS[f['backend']].title}"] if f.get("backend", "prometheus") != "prometheus" else []),
        *([f"{f['instances']} instances"] if f.get("instances", 1) != 1 else []),
        *(
            [f"{f['error_ratio']:.0%} errors"]
            if f.get("error_ratio", DEMO_ERROR_RATIO) != DEMO_ERROR_RATIO
            else []
        ),
        *([f"{f['slow_ratio']:.0%} slow"] if f.get("slow_ratio") else []),
        *([f"{f['socket_tenants']:,} with sockets"] if f.get("socket_tenants") is not None else []),
    ]
    return f", {', '.join(parts)}" if parts else ""


def run_key(f: Mapping[str, Any]) -> str:
    """A column's key in the JSON: a new run replaces the stored one of the same tenants, checkout
    and setup, and only that one."""
    return f"{f['tenants']} | {f['label']}" + (f" |{_setup(f)[1:]}" if _setup(f) else "")


def write_results(
    path: Path, runs: Mapping[str, Mapping[str, Any]], budgets: Mapping[str, int] | None = None
) -> None:
    """The table of every stored run, and the hand-written findings below FINDINGS, kept as they are."""
    kept = ""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if FINDINGS in text:
            kept = text[text.index(FINDINGS) :]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report(runs, budgets) + ("\n" + kept if kept else ""), encoding="utf-8")


def load_runs(path: Path) -> dict[str, dict[str, Any]]:
    stored = path.with_suffix(".json")
    if not stored.exists():
        return {}
    runs: dict[str, dict[str, Any]] = json.loads(stored.read_text(encoding="utf-8"))
    return runs


def save_runs(path: Path, runs: Mapping[str, Mapping[str, Any]]) -> None:
    path.with_suffix(".json").write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--minutes", type=float, default=5.0, help="traffic per size (default 5)")
    parser.add_argument(
        "--rps", type=float, default=150.0, help="the demo's requests per second (default 150)"
    )
    parser.add_argument(
        "--error-ratio",
        type=float,
        default=DEMO_ERROR_RATIO,
        help="share of requests that fail (the demo's default)",
    )
    parser.add_argument(
        "--slow-ratio",
        type=float,
        default=0.0,
        help="share of requests 1 s slower, over the latency SLO (DEMO_SLOW_RATIO; default 0): at a high "
        "ratio every tenant has the per-tenant latency SLO's series, their worst case",
    )
    parser.add_argument(
        "--socket-tenants",
        type=int,
        default=None,
        help="tenants with a Socket.io client from the start (DEMO_SOCKET_TENANTS; default: the demo's)",
    )
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="backend instances: the demo started this many times, DEMO_INSTANCE k/n (default 1)",
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=0,
        help="also time the Overview over this many days of the run's series, backfilled (default 0: off)",
    )
    parser.add_argument(
        "--backend",
        choices=sorted(BACKENDS),
        default=PROMETHEUS_BACKEND.name,
        help="the metrics engine: prometheus (the single-node stack, default) or cortex (the scaled "
        "topology: a gateway Collector, two shards, Cortex, a Prometheus agent; bench/metrics_backends.py)",
    )
    parser.add_argument("--label", default=None, help="the column's name (default: branch and commit)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the markdown file (json next to it)")
    parser.add_argument("--keep", type=Path, default=None, help="keep each run folder (logs, TSDB) here")
    parser.add_argument("--render-only", action="store_true", help="rewrite the markdown from the json")
    args = parser.parse_args()
    if any(not 1 <= t <= 10_000 for t in args.tenants):
        parser.error("--tenants: the demo takes 1 to 10000 tenants")
    if args.socket_tenants is not None and not 0 <= args.socket_tenants <= 10_000:
        parser.error("--socket-tenants: the demo takes 0 to 10000")
    if not 0 <= args.history_days <= 31:
        parser.error("--history-days: 0 (off) to 31")
    if args.history_days and args.backend != PROMETHEUS_BACKEND.name:
        parser.error("--history-days backfills a Prometheus TSDB: with --backend prometheus only")
    if not 1 <= args.instances <= 10:
        parser.error("--instances: 1 to 10 (each is a Node process serving every tenant)")
    if args.minutes <= 0 or not 0 < args.rps <= 2000 or not 0 <= args.error_ratio <= 1:
        parser.error("--minutes must be above 0, --rps from above 0 to 2000, --error-ratio from 0 to 1")
    if not 0 <= args.slow_ratio <= 1:
        parser.error("--slow-ratio: from 0 to 1")
    runs = load_runs(args.results)
    budgets = tenant_budgets(load_project(REPO).contract)
    if args.render_only:
        write_results(args.results, runs, budgets)
        return
    label = args.label or checkout()
    for tenants in args.tenants:
        print(
            f"{tenants:,} tenants ({label}): {args.minutes:g} min at {args.rps:g} requests/s ...", flush=True
        )
        try:
            figures = run_once(
                tenants,
                args.minutes,
                args.rps,
                args.error_ratio,
                args.keep,
                socket_tenants=args.socket_tenants,
                slow_ratio=args.slow_ratio,
                instances=args.instances,
                history_days=args.history_days,
                backend=BACKENDS[args.backend],
            )
        except (local_stack.StackError, ToolMissingError, loopback.RenderError) as error:
            raise SystemExit(f"hub_at_scale: {error}") from None
        figures["label"] = label
        runs[run_key(figures)] = figures
        save_runs(args.results, runs)
        write_results(args.results, runs, budgets)
        print(report({"this run": figures}, budgets), flush=True)
    print(f"written to {args.results}")


if __name__ == "__main__":
    main()
