#!/usr/bin/env python3
"""Benchmark: how fast the Overview loads from a real Prometheus at 100 and 2,000 tenants.

For each size: write 24 h of contract-shaped history (bench/scale_data.py), turn it into TSDB
blocks with `promtool tsdb create-blocks-from openmetrics --max-block-duration=24h` (one pass over
the file), start Prometheus on them (tools/bin/prometheus, the Prometheus 3 `make tools` builds;
Debian's 2.42 from PATH only where Go is missing), evaluate the generated recording rules over the
history with `promtool tsdb create-blocks-from rules`, restart on raw + recorded blocks, then send
every Overview query as Grafana would: range queries with Grafana's step for a 24 h view (60 s)
and a 1 h view (15 s), instant queries where the panel is instant, `$tenant` = All. Each query
runs several times (median) and with `stats=all` (samples touched); then the whole dashboard is
fired in parallel. Both the plain-query dashboard and the recorded one are measured. Prometheus'
peak memory comes from /proc. The table goes to bench/results/overview-at-scale.md, each size's
section naming the Prometheus version it ran (read from `prometheus --version`).

Run from the repository root: `.venv/bin/python -m bench.overview_at_scale [--tenants 100 2000]`.
For 2,000 tenants it takes about 15 minutes on 2 cores and 18 GB of free disk while it runs (the
OpenMetrics text; the TSDB itself is 150 MB).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bench.overview_plain_queries import ALL_VALUE as PLAIN_ALL_VALUE
from bench.overview_plain_queries import plain_query_document
from bench.scale_data import write_openmetrics
from config import CONFIG
from dashboards import overview
from dashboards_as_code.defaults import ALL_TENANTS
from dashboards_as_code.external_tools import PROMETHEUS, PROMTOOL, require
from dashboards_as_code.kinds.dashboard import dashboard_document
from dashboards_as_code.promql.tree import as_prometheus_receives
from monitoring.local_stack import program_version

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "overview-at-scale.md"
SCRAPE_INTERVAL = 15
VIEWS = {"24h": (24 * 3600, 60), "1h": (3600, 15)}
"""View -> (range in seconds, step Grafana picks for a ~1,000 px panel)."""
LISTENING = re.compile(r'msg="Listening on".*?address=127\.0\.0\.1:(\d+)')
"""Prometheus 2 logs `msg="Listening on" address=...`, Prometheus 3 puts `component=web` between."""


@dataclass
class Query:
    panel: str
    ref: str
    expr: str
    instant: bool
    exemplar: bool = False
    """Grafana also asks /api/v1/query_exemplars for this target (the P99 line's dots)."""


def overview_uid() -> str:
    """The uid of the dashboard this benchmark times."""
    return str(dashboard_document(overview.dashboard())["uid"])


def dashboard_queries(recorded: bool) -> list[Query]:
    document = dashboard_document(overview.dashboard()) if recorded else plain_query_document()
    found = []
    for panel in document["panels"]:
        for target in panel.get("targets", []):
            if target["datasource"]["type"] == "prometheus":
                found.append(
                    Query(
                        panel["title"],
                        target["refId"],
                        target["expr"],
                        target["instant"],
                        bool(target.get("exemplar", False)),
                    )
                )
    return found


def grafana_expr(expr: str, step: int, all_value: str) -> str:
    """`$__rate_interval` as Grafana computes it: max(step + scrape interval, 4 x scrape interval)."""
    rate_interval = max(step + SCRAPE_INTERVAL, 4 * SCRAPE_INTERVAL)
    return as_prometheus_receives(
        expr.replace("$__rate_interval", f"{rate_interval}s"), {"tenant": all_value}
    )


def prometheus_get(url: str, path: str, **params: str) -> Any:
    """One Prometheus API call's JSON body; an answer that is not `success` raises with the body."""
    try:
        with urllib.request.urlopen(f"{url}{path}?{urllib.parse.urlencode(params)}", timeout=300) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:  # the engine's own words: a limit, a timeout
        raise RuntimeError(f"{path}: {error.code} {error.read()[:2000].decode(errors='replace')}") from None
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body}")
    return body


def send_query(
    url: str, query: Query, expr: str, end: float, *, seconds: int, step: int
) -> tuple[float, int]:
    """(milliseconds, samples touched) for one query as Grafana sends it over `seconds` up to `end`: an
    instant query at `end` for an instant panel, else a range query at `step`."""
    started = time.perf_counter()
    if query.instant:
        body = prometheus_get(url, "/api/v1/query", query=expr, time=str(end), stats="all")
    else:
        body = prometheus_get(
            url,
            "/api/v1/query_range",
            query=expr,
            start=str(end - seconds),
            end=str(end),
            step=str(step),
            stats="all",
        )
    elapsed = (time.perf_counter() - started) * 1000
    samples = int(body["data"].get("stats", {}).get("samples", {}).get("totalQueryableSamples", 0))
    return elapsed, samples


class Prometheus:
    def __init__(self, data: Path, log: Path) -> None:
        self.log = log
        with log.open("w") as stream:
            self.process = subprocess.Popen(
                [
                    require(PROMETHEUS),
                    f"--config.file={data.parent / 'prometheus.yml'}",
                    f"--storage.tsdb.path={data}",
                    "--storage.tsdb.retention.time=3650d",
                    "--web.listen-address=127.0.0.1:0",
                    "--query.max-samples=500000000",
                ],
                stdout=stream,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 300
        port = None
        while port is None and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {log.read_text()[-2000:]}")
            match = LISTENING.search(log.read_text())
            port = match.group(1) if match else None
            time.sleep(0.1)
        if port is None:
            raise RuntimeError("prometheus did not start")
        self.url = f"http://127.0.0.1:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)

    def get(self, path: str, **params: str) -> Any:
        return prometheus_get(self.url, path, **params)

    def run(self, query: Query, expr: str, end: float, view: str) -> tuple[float, int]:
        """(milliseconds, samples touched) for one query as Grafana sends it."""
        seconds, step = VIEWS[view]
        return send_query(self.url, query, expr, end, seconds=seconds, step=step)

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def build_tsdb(workdir: Path, tenants: int, start: int, end: int) -> tuple[Path, dict[str, float]]:
    timings: dict[str, float] = {}
    data = workdir / "data"
    (workdir / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n")
    source = workdir / "history.om"
    began = time.perf_counter()
    samples = write_openmetrics(source, tenants, start, hours=(end - start) // 3600)
    timings["generate s"] = time.perf_counter() - began
    timings["samples"] = samples
    timings["openmetrics GB"] = source.stat().st_size / 1e9
    began = time.perf_counter()
    subprocess.run(
        [
            require(PROMTOOL),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=24h",
            str(source),
            str(data),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    timings["promtool blocks s"] = time.perf_counter() - began
    source.unlink()
    rules = workdir / "rules.yml"
    document = yaml.safe_load((REPO / CONFIG.rules_file).read_text())
    document["groups"] = [g for g in document["groups"] if any("record" in r for r in g["rules"])]
    rules.write_text(yaml.safe_dump(document))
    prometheus = Prometheus(data, workdir / "prometheus-backfill.log")
    try:
        began = time.perf_counter()
        subprocess.run(
            [
                require(PROMTOOL),
                "tsdb",
                "create-blocks-from",
                "rules",
                f"--start={start}",
                f"--end={end}",
                f"--url={prometheus.url}",
                f"--output-dir={workdir / 'recorded'}",
                str(rules),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        timings["promtool rules s"] = time.perf_counter() - began
    finally:
        prometheus.stop()
    for block in (workdir / "recorded").iterdir():
        if block.is_dir():
            shutil.move(str(block), data / block.name)
    timings["TSDB MB"] = sum(f.stat().st_size for f in data.rglob("*") if f.is_file()) / 1e6
    return data, timings


def measure(prometheus: Prometheus, end: float, runs: int) -> list[dict[str, Any]]:
    rows = []
    for recorded in (False, True):
        mode = "recorded" if recorded else "plain"
        queries = dashboard_queries(recorded)
        all_value = ALL_TENANTS if recorded else PLAIN_ALL_VALUE
        for view, (_, step) in VIEWS.items():
            for query in queries:
                expr = grafana_expr(query.expr, step, all_value)
                timings, samples = [], 0
                for _ in range(runs):
                    elapsed, samples = prometheus.run(query, expr, end, view)
                    timings.append(elapsed)
                rows.append(
                    {
                        "mode": mode,
                        "view": view,
                        "panel": f"{query.panel} [{query.ref}]",
                        "ms": statistics.median(timings),
                        "samples": samples,
                    }
                )
            walls = []
            for _ in range(runs):
                started = time.perf_counter()
                exprs = [grafana_expr(q.expr, step, all_value) for q in queries]
                with ThreadPoolExecutor(max_workers=len(queries)) as pool:
                    list(
                        pool.map(prometheus.run, queries, exprs, [end] * len(queries), [view] * len(queries))
                    )
                walls.append((time.perf_counter() - started) * 1000)
            rows.append(
                {
                    "mode": mode,
                    "view": view,
                    "panel": "WHOLE DASHBOARD, in parallel",
                    "ms": statistics.median(walls),
                    "samples": 0,
                }
            )
    return rows


def prometheus_label(binary: str) -> str:
    """`Prometheus 3.14.0 (tools/bin/prometheus)`: the version the binary prints, and where it is."""
    path = Path(binary)
    shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    return f"Prometheus {program_version(binary, '--version') or '(version unknown)'} (`{shown}`)"


def report(results: dict[int, tuple[list[dict[str, Any]], dict[str, float], float]], prometheus: str) -> str:
    lines = [
        "# Overview at scale",
        "",
        f"Generated by `bench/overview_at_scale.py`, last run on {datetime.now(UTC):%Y-%m-%d} with "
        f"{prometheus} (each section names the Prometheus it was measured on): "
        "24 h of contract-shaped history at 15 s, 30 routes x 2 methods x 3 status codes, 15 buckets; "
        "`$tenant` = All; median of the runs; samples = `totalQueryableSamples` from `stats=all`.",
        "",
    ]
    for tenants, (rows, timings, rss) in sorted(results.items()):
        lines += [f"## {tenants} tenants", ""]
        lines.append(
            f"{prometheus}; "
            + ", ".join(f"{k}: {v:,.1f}" for k, v in timings.items())
            + f", Prometheus peak RSS: {rss:,.0f} MiB"
        )
        lines += [
            "",
            "| view | panel [query] | plain ms | plain samples | recorded ms | recorded samples | speed-up |",
            "|---|---|---|---|---|---|---|",
        ]
        plain = {(r["view"], r["panel"]): r for r in rows if r["mode"] == "plain"}
        recorded = {(r["view"], r["panel"]): r for r in rows if r["mode"] == "recorded"}
        for key, row in plain.items():
            fast = recorded.get(key)
            if fast is None:
                continue
            speedup = row["ms"] / fast["ms"] if fast["ms"] else float("inf")
            lines.append(
                f"| {key[0]} | {key[1]} | {row['ms']:,.1f} | {row['samples']:,} | {fast['ms']:,.1f} | "
                f"{fast['samples']:,} | {speedup:,.1f}x |"
            )
        lines.append("")
    return "\n".join(lines)


def merge(path: Path, fresh: str) -> str:
    """Keep the sections of sizes not measured in this run (one size per run fits the machine better)."""
    if not path.exists():
        return fresh
    sections = {}
    for text in (path.read_text(), fresh):
        _, *parts = text.split("\n## ")
        for part in parts:
            sections[part.split(" ", 1)[0]] = "## " + part.rstrip() + "\n"
    ordered = sorted(sections.items(), key=lambda item: int(item[0]))
    return fresh.split("\n## ", maxsplit=1)[0] + "\n" + "\n".join(section for _, section in ordered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[100, 2000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--workdir", type=Path, default=None, help="Where the TSDBs go (default: a temporary folder)."
    )
    args = parser.parse_args()
    end = (int(time.time()) - 3 * 3600) // 3600 * 3600  # clear of the head block's range
    start = end - 24 * 3600
    results = {}
    prometheus_name = prometheus_label(require(PROMETHEUS))
    for tenants in args.tenants:
        workdir = Path(tempfile.mkdtemp(prefix=f"overview-{tenants}-", dir=args.workdir))
        try:
            print(f"{tenants} tenants: building the TSDB in {workdir} ...", flush=True)
            data, timings = build_tsdb(workdir, tenants, start, end)
            print(f"{tenants} tenants: {timings}", flush=True)
            prometheus = Prometheus(data, workdir / "prometheus.log")
            try:
                rows = measure(prometheus, end, args.runs)
                rss = prometheus.peak_rss_mib()
            finally:
                prometheus.stop()
            results[tenants] = (rows, timings, rss)
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(merge(RESULTS, report(results, prometheus_name)))
            print(report({tenants: results[tenants]}, prometheus_name), flush=True)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
