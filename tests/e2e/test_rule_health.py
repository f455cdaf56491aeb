"""Every committed rule is healthy on the real Collector's output, evaluated by the real Prometheus 3.

promtool's unit tests feed each rule series written by hand; a rule whose expression Prometheus
refuses on what the Collector really exports (three refused-item counters per receiver that differ
only in their metric name, say) shows `health: err` in Prometheus, records nothing and never fires,
while those tests pass. Here the rules the definitions render now run in a real Prometheus scraping
the real Collector twice over, as the committed prometheus.yml does: its exporter (the contract's
series) and its own telemetry (the `otelcol_*` counters the Collector alerts read). The demo backend
sends spans, metrics and logs through the Collector; a stand-in Loki refuses every log export, so
the exporter failure counters exist too. The groups run every second instead of their committed
intervals (health does not depend on the interval; tests/prometheus_rules/ tests the intervals).
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.external_tools import NODE, PROMETHEUS
from monitoring import loopback
from monitoring.tools import DEMO, OTELCOL
from tests.e2e.test_hub import (
    COLLECTOR,
    COMPOSE,
    EXPORTER,
    HEALTH,
    OTLP_HTTP,
    collector_environment,
    collector_url,
    loopback_plan,
)
from tests.local_http import QuietHandler, serving
from tests.prometheus.rules import rendered_rules, rules_for_the_test
from tests.prometheus.server import Prometheus, running_prometheus
from tests.tooling import require_tool

TELEMETRY = 8888
"""The Collector's own metrics port in the committed config (`TELEMETRY_PORT`'s default)."""
TIMEOUT_SECONDS = 120.0
"""For each wait below (the Collector's start, two scrapes, an evaluation of every group): generous on
a loaded 2-core machine, where each takes a few seconds."""


class RefusingLoki(QuietHandler):
    """Loki's OTLP endpoint refusing every export with a 400: the Collector counts the log records it
    failed to send, as it does when Loki rejects them for real."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.reply(400, b'{"message": "refused by the test"}')


@dataclass
class Evaluated:
    prometheus: Prometheus
    groups: list[dict[str, Any]]
    """/api/v1/rules: every group, each evaluated after the Collector's final counters were scraped."""
    collector_log: str


def _wait(what: str, done: Any, detail: Any) -> None:
    """Poll `done()` until it is true (never a blind sleep); fail naming `what` and `detail()` if not."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not done():
        assert time.monotonic() < deadline, f"{what} did not happen in {TIMEOUT_SECONDS:g} s: {detail()}"
        time.sleep(0.5)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def rfc3339_seconds(rfc3339: str) -> float:
    """Prometheus' `lastEvaluation` (RFC 3339, nanoseconds) as a Unix time; never evaluated: 0."""
    if not rfc3339 or rfc3339.startswith("0001-"):
        return 0.0
    head, _, tail = rfc3339.partition(".")
    zone = tail.lstrip("0123456789") if tail else ""
    return datetime.fromisoformat(head + (zone or "")).timestamp()


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evaluated]:
    collector, node, demo = require_tool(OTELCOL), require_tool(NODE), require_tool(DEMO)
    workdir = tmp_path_factory.mktemp("rule-health")
    log = workdir / "collector.log"
    with serving(RefusingLoki) as loki:
        # The committed configs rendered for 127.0.0.1 as `make stack` renders them; Loki is the
        # refusing stand-in, Jaeger's port has no listener.
        plan = loopback_plan(workdir, loki=int(loki.rsplit(":", 1)[1]))
        targets = [plan.address(COLLECTOR, EXPORTER), plan.address(COLLECTOR, TELEMETRY)]
        with (
            log.open("w") as output,
            running_prometheus(
                require_tool(PROMETHEUS),
                workdir,
                targets[0],
                [rules_for_the_test(workdir)],
                scrape={"static_configs": [{"targets": targets}]},
            ) as prometheus,
        ):
            env = collector_environment(plan)
            command = [collector, *loopback.host_command(COMPOSE, COLLECTOR, plan)]
            process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
            yield from _evaluate(
                process=process,
                prometheus=prometheus,
                plan=plan,
                env=env,
                log=log,
                node=node,
                demo=demo,
                targets=targets,
            )


def _evaluate(
    *,
    process: subprocess.Popen[bytes],
    prometheus: Prometheus,
    plan: loopback.Plan,
    env: dict[str, str],
    log: Path,
    node: str,
    demo: str,
    targets: list[str],
) -> Iterator[Evaluated]:
    """Traffic from the demo, two scrapes of every target after it, an evaluation of every group."""
    try:
        _wait(
            "the Collector's health check answering",
            lambda: _answers(f"{collector_url(plan, HEALTH)}/") or process.poll() is not None,
            lambda: log.read_text()[-2000:],
        )
        assert process.poll() is None, log.read_text()[-2000:]
        subprocess.run(
            [node, demo],
            env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": collector_url(plan, OTLP_HTTP),
                 "DEMO_DURATION": "6s", "DEMO_TENANTS": "3", "DEMO_RPS": "30", "DEMO_ERROR_RATIO": "0.2",
                 "OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_BSP_SCHEDULE_DELAY": "300",
                 "OTEL_BLRP_SCHEDULE_DELAY": "300"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=True,
        )  # fmt: skip
        sent = time.time() + 2  # the demo's last batches and span-metric flushes are out by then
        _wait(
            "two scrapes of every target after the demo's last export",
            lambda: _oldest_scrape(prometheus, len(targets)) > sent + 1,
            lambda: prometheus.get("/api/v1/targets"),
        )
        scraped = time.time()
        _wait(
            "an evaluation of every rule group after those scrapes",
            lambda: all(rfc3339_seconds(g["lastEvaluation"]) > scraped for g in _groups(prometheus)),
            lambda: {g["name"]: g["lastEvaluation"] for g in _groups(prometheus)},
        )
        yield Evaluated(prometheus, _groups(prometheus), log.read_text())
    finally:
        process.terminate()
        process.wait(timeout=20)


def _oldest_scrape(prometheus: Prometheus, targets: int) -> float:
    """The time of the latest scrape of the target scraped least recently (0 until every one was)."""
    found = prometheus.query("timestamp(up == 1)")
    return min((float(s["value"][1]) for s in found), default=0.0) if len(found) == targets else 0.0


def _groups(prometheus: Prometheus) -> list[dict[str, Any]]:
    return list(prometheus.get("/api/v1/rules")["groups"])


def test_the_premise_a_receiver_counts_refused_items_of_several_signals(evaluated: Evaluated) -> None:
    """What made the refused-data alert fail: several refused counters of one receiver, differing only by
    name. Without them in Prometheus, a healthy verdict below would prove nothing about that alert."""
    names_by_receiver: dict[str, set[str]] = {}
    for series in evaluated.prometheus.query('{__name__=~"otelcol_receiver_refused_.+"}'):
        names_by_receiver.setdefault(series["metric"]["receiver"], set()).add(series["metric"]["__name__"])
    assert any(len(names) > 1 for names in names_by_receiver.values()), names_by_receiver


def test_prometheus_loaded_every_rule_the_definitions_render(evaluated: Evaluated) -> None:
    """A rule file Prometheus cannot load gives no rules at all, and `every rule ok` would be empty."""
    rendered = sorted(
        (group["name"], rule.get("record") or rule["alert"])
        for group in rendered_rules()["groups"]
        for rule in group["rules"]
    )
    loaded = sorted((group["name"], rule["name"]) for group in evaluated.groups for rule in group["rules"])
    assert loaded == rendered


def test_every_rule_is_healthy_after_evaluation(evaluated: Evaluated) -> None:
    broken = [
        f"{group['name']} / {rule['name']} ({rule['type']}): health {rule['health']}: "
        f"{rule.get('lastError', '')}\n    {rule['query']}"
        for group in evaluated.groups
        for rule in group["rules"]
        if rule["health"] != "ok"
    ]
    assert not broken, "rules Prometheus cannot evaluate on the Collector's output:\n" + "\n".join(broken)


def test_the_export_alert_notices_an_exporter_that_fails(evaluated: Evaluated) -> None:
    """The stand-in Loki refused every log export: the alert on failed exports is active (pending, as its
    `for` has not run out) for the exporter that sends the logs."""
    failed_logs = {
        series["metric"]["exporter"]
        for series in evaluated.prometheus.query('{__name__=~"otelcol_exporter_send_failed_log_records.*"}')
    }
    assert failed_logs, f"the premise: no failed log export was counted\n{evaluated.collector_log[-2000:]}"
    alerting = {
        series["metric"]["exporter"]
        for series in evaluated.prometheus.query('ALERTS{alertname="TikTicketsCollectorExportFailing"}')
    }
    assert failed_logs <= alerting, (failed_logs, alerting)
