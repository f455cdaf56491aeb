"""Days of history for the series a live run held, to time the Overview at 7 d without waiting a week.

bench/hub_at_scale.py runs the real hub for minutes; a 7 d view over minutes of data says nothing. Here
the series its Prometheus held at the end of the run (every label set, raw and recorded, as the real
Collector, SDK and rules made them at that tenant count) are extended back over days: each counter at
the pace it had over the run's last 5 minutes, each gauge around its last value. The Go program
tools/gotools/cmd/tsdbfill writes them as TSDB blocks, one per day (promtool's OpenMetrics backfill
would need the history as text: about 230 bytes a sample, hundreds of GB for a week of 10,000
tenants). A second Prometheus 3 then serves those blocks alone, and the Overview is loaded from it
exactly as from the live one.

What this does not have: exemplars (blocks hold none; the live run measures those) and the values'
history (a steady pace with a daily wave, not real traffic). The cost of a query depends on the series
it selects and the samples in its range, both of which are the real ones.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.overview_at_scale import Prometheus, prometheus_get
from dashboards_as_code.definitions.prometheus_rule import RuleGroup
from dashboards_as_code.external_tools import require
from dashboards_as_code.grafana_math import parse_duration
from monitoring.tools import GO

REPO = Path(__file__).resolve().parent.parent
GOTOOLS = REPO / "tools" / "gotools"
TSDBFILL = REPO / "tools" / "bin" / "tsdbfill"
COUNTER_SUFFIXES = ("_total", "_bucket", "_count", "_sum")
"""Raw series with these endings are counters (the Collector's prometheus exporter writes OTel sums and
histograms so); a recorded series (a name with `:`) and every other raw series is a gauge."""
PACE_WINDOW = "5m"


@dataclass(frozen=True)
class SeriesSpec:
    """One series of the history: its labels, how its value moves, and how often it has a sample."""

    labels: dict[str, str]
    counter: bool
    value: float
    """Per second for a counter; the level for a gauge."""
    step_s: int

    def line(self) -> str:
        return json.dumps(
            {"labels": self.labels, "counter": self.counter, "value": self.value, "step_s": self.step_s}
        )


def is_counter(name: str) -> bool:
    return ":" not in name and name.endswith(COUNTER_SUFFIXES)


def sample_steps(prometheus_yml: Path, groups: Iterable[RuleGroup]) -> tuple[int, dict[str, int]]:
    """(the scrape interval, recorded series -> its group's interval): how often each series has a
    sample in a live Prometheus, so the history holds as many samples per day as the real one would."""
    config = yaml.safe_load(prometheus_yml.read_text(encoding="utf-8")) or {}
    glob = config.get("global", {})
    scrape = int(parse_duration(str(glob.get("scrape_interval", "1m"))))
    recorded = {
        rule.record: int(parse_duration(group.interval)) for group in groups for rule in group.recording
    }
    return scrape, recorded


def _key(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k != "__name__"))


def snapshot(url: str, end: float, scrape_s: int, recorded_steps: Mapping[str, int]) -> list[SeriesSpec]:
    """Every series the live Prometheus at `url` holds at `end`, with its pace (counters: rate over the
    last PACE_WINDOW) or its level (gauges: the last value). One query per metric name: a function
    over a range drops `__name__`, and within one name the other labels tell the series apart."""
    found = prometheus_get(url, "/api/v1/series", **{"match[]": '{__name__=~".+"}', "start": str(end - 300)})
    by_name: dict[str, list[dict[str, str]]] = {}
    for labels in found["data"]:
        by_name.setdefault(labels["__name__"], []).append(labels)
    specs: list[SeriesSpec] = []
    for name, every in sorted(by_name.items()):
        counter = is_counter(name)
        function = "rate" if counter else "last_over_time"
        body = prometheus_get(
            url, "/api/v1/query", query=f'{function}({{__name__="{name}"}}[{PACE_WINDOW}])', time=str(end)
        )
        values = {_key(r["metric"]): float(r["value"][1]) for r in body["data"]["result"]}
        step = recorded_steps.get(name, scrape_s)
        for labels in every:
            value = values.get(_key(labels), 0.0)
            specs.append(SeriesSpec(labels, counter, 0.0 if math.isnan(value) else value, step))
    return specs


def tsdbfill_binary() -> str:
    """tools/bin/tsdbfill, built from tools/gotools when missing or older than its source (Go's build
    cache makes a rebuild take seconds once `make tools` has built Prometheus)."""
    source = GOTOOLS / "cmd" / "tsdbfill" / "main.go"
    if TSDBFILL.exists() and TSDBFILL.stat().st_mtime >= source.stat().st_mtime:
        return str(TSDBFILL)
    go = require(GO)  # ToolMissingError, with how to install it
    # The tags Prometheus is built with (scripts/build-gotools), so the TSDB packages come from Go's cache.
    build = [go, "build", "-tags", "remove_all_sd", "-o", str(TSDBFILL), "./cmd/tsdbfill"]
    subprocess.run(build, cwd=GOTOOLS, check=True)
    return str(TSDBFILL)


def fill(specs: list[SeriesSpec], data: Path, end: float, days: int) -> dict[str, Any]:
    """Blocks for `days` days of `specs` ending at `end`, in `data`; the writer's own counts."""
    data.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    result = subprocess.run(
        [tsdbfill_binary(), "-dir", str(data), "-end-ms", str(int(end * 1000)), "-days", str(days)],
        input="\n".join(s.line() for s in specs) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"tsdbfill failed: {result.stderr.strip()[-2000:]}")
    counts: dict[str, Any] = json.loads(result.stdout)
    size = sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
    return {**counts, "fill_s": time.monotonic() - started, "tsdb_mib": size / 2**20}


def served_overview(
    specs: list[SeriesSpec],
    end: float,
    days: int,
    workdir: Path,
    load: Callable[[str, float], dict[str, dict[str, Any]]],
) -> dict[str, Any]:
    """Write `days` days of `specs` ending at `end`, serve them with a Prometheus of their own (nothing
    else running beside it), and `load` the Overview from it at `end`; the blocks are removed after."""
    data = workdir / "history" / "data"
    try:
        figures = {"days": days, **fill(specs, data, end, days)}
        (data.parent / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n", encoding="utf-8")
        served = Prometheus(data, data.parent / "prometheus.log")
        try:
            figures["overview"] = load(served.url, end)
            figures["prometheus_hwm_mib"] = served.peak_rss_mib()
        finally:
            served.stop()
    finally:
        shutil.rmtree(data.parent, ignore_errors=True)
    return figures
