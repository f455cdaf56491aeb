"""An alert from real data reaches the receiver its severity names, once, intact, and resolves.

Real programs: Prometheus 3 and Alertmanager 0.35, built by `make tools`, run with the committed
prometheus.yml and the generated alertmanager.yml rendered for 127.0.0.1 by monitoring/loopback.py,
as `make stack` runs them; the receivers' URL files hold the address of a recording webhook here.
Only time is held: the rules (as the definitions render them, which `check` holds the committed file
to) are evaluated every second with every `for` at HOLD, Prometheus scrapes every second, and each
route gathers for a second instead of 30 s or 2 min. Routes, grouping, inhibitions and receivers are
the generated ones.

The data is real absence and a real failed scrape: nothing sends the contract's series, so every
signal-missing ticket fires (a ticket, with a link to its Overview panel); then the Collector's own
metrics endpoint (a small server on the Collector's port) stops answering, so Prometheus' `up` for
it falls to 0 and `TikTicketsCollectorDown` pages; the endpoint answers again and the page resolves.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.external_tools import ALERTMANAGER, PROMETHEUS
from monitoring import loopback
from prometheus_rules.alerts import COLLECTOR_DOWN, SIGNAL_MISSING
from prometheus_rules.routing import ALERT_ROUTING
from tests.local_http import QuietHandler, free_port, serving
from tests.prometheus.rules import rendered_rules, rules_for_the_test
from tests.prometheus.server import Prometheus
from tests.tooling import require_tool

COMPOSE = loopback.Compose()
SERVICES = ("otel-collector", "prometheus", "alertmanager")
COLLECTOR_TELEMETRY = 8888
"""The Collector's own metrics port in its container, which the `otel-collector` job scrapes."""
HOLD = "2s"
GATHER = "1s"
"""Each route's group_wait and group_interval here (30 s and 2 min, 5 min in the generated file)."""
PATIENCE = 60.0


@dataclass
class Webhook:
    """Every notification Alertmanager posted, by receiver (the path of its URL)."""

    posts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def notifications(self, receiver: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.posts.get(receiver, []))

    def of(self, receiver: str, alertname: str, status: str) -> list[dict[str, Any]]:
        """The notifications to `receiver` carrying `alertname` with that status."""
        return [
            post
            for post in self.notifications(receiver)
            if any(
                a["labels"].get("alertname") == alertname and a["status"] == status for a in post["alerts"]
            )
        ]


def _recorder(webhook: Webhook) -> type[QuietHandler]:
    class Recording(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server dispatches on this name)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            with webhook.lock:
                webhook.posts.setdefault(self.path.strip("/"), []).append(body)
            self.reply(200, b"")

    return Recording


class _CollectorTelemetry(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server dispatches on this name)
        self.reply(200, b"otelcol_process_uptime_seconds_total 1\n", "text/plain; version=0.0.4")


def _alertmanager_config(plan: loopback.Plan, webhook_url: str, secrets: Path) -> Path:
    """The generated config rendered for this machine, each receiver's URL file holding the recording
    webhook's address for it, and each route gathering for GATHER."""
    config = loopback.alertmanager_config(COMPOSE, plan)
    secrets.mkdir()
    for receiver in config["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            url_file = secrets / receiver["name"]
            url_file.write_text(f"{webhook_url}/{receiver['name']}\n")
            webhook["url_file"] = str(url_file)
    for route in [config["route"], *config["route"].get("routes", [])]:
        route["group_wait"] = route["group_interval"] = GATHER
    path = plan.run_dir / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _prometheus_config(plan: loopback.Plan) -> Path:
    config = loopback.prometheus_config(COMPOSE, plan)
    config["global"] = {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(rules_for_the_test(plan.run_dir, hold=HOLD))]
    path = plan.run_dir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def _wait(condition: Any, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(
                what + "".join(f"\n--- {log.name}:\n{log.read_text()[-1500:]}" for log in logs)
            )
        time.sleep(0.2)


@dataclass
class Delivery:
    webhook: Webhook
    prometheus: Prometheus


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Delivery]:
    prometheus_binary, alertmanager_binary = require_tool(PROMETHEUS), require_tool(ALERTMANAGER)
    workdir = tmp_path_factory.mktemp("alert-delivery")
    plan = loopback.plan(COMPOSE, SERVICES, workdir, pick=lambda _: free_port(), published=False)
    webhook = Webhook()
    logs = [workdir / "prometheus.log", workdir / "alertmanager.log"]
    with ExitStack() as running:
        webhook_url = running.enter_context(serving(_recorder(webhook)))
        alertmanager_yml = _alertmanager_config(plan, webhook_url, workdir / "secrets")
        processes = [
            _start(
                [alertmanager_binary, *loopback.alertmanager_command(COMPOSE, plan, alertmanager_yml)],
                logs[1],
            ),
            _start(
                [prometheus_binary, *loopback.prometheus_command(COMPOSE, plan, _prometheus_config(plan))],
                logs[0],
            ),
        ]
        for process in processes:
            running.callback(process.wait, 30)
            running.callback(process.terminate)
        prometheus = Prometheus(plan.url("prometheus", loopback.PROMETHEUS_PORT), logs[0])
        endpoint = plan.port("otel-collector", COLLECTOR_TELEMETRY)
        with serving(_CollectorTelemetry, endpoint):
            _wait(lambda: _up(prometheus) == 1.0, "Prometheus never scraped the Collector's endpoint", logs)
            _wait(
                lambda: webhook.of("ticket", SIGNAL_MISSING, "firing"),
                "no signal-missing ticket arrived",
                logs,
            )
        _wait(
            lambda: webhook.of("page", COLLECTOR_DOWN.alert, "firing"),
            "the Collector-down page never arrived",
            logs,
        )
        time.sleep(3)  # three more evaluations and flushes: a second notification would be here by now
        with serving(_CollectorTelemetry, endpoint):
            _wait(
                lambda: webhook.of("page", COLLECTOR_DOWN.alert, "resolved"),
                "the Collector-down page never resolved",
                logs,
            )
        yield Delivery(webhook, prometheus)


def _up(prometheus: Prometheus) -> float | None:
    try:
        result = prometheus.query('up{job="otel-collector"}')
    except OSError:
        return None
    return float(result[0]["value"][1]) if result else None


def _rendered_annotations(alertname: str) -> list[dict[str, str]]:
    return [
        rule["annotations"]
        for group in rendered_rules()["groups"]
        for rule in group["rules"]
        if rule.get("alert") == alertname
    ]


def _severity_receiver(severity: str) -> str:
    (route,) = [route for route in ALERT_ROUTING.routes if route.severity == severity]
    return route.receiver


def test_the_page_reaches_the_page_receiver_once_with_its_links(delivery: Delivery) -> None:
    receiver = _severity_receiver(COLLECTOR_DOWN.severity)
    firing = delivery.webhook.of(receiver, COLLECTOR_DOWN.alert, "firing")
    assert len(firing) == 1, f"{len(firing)} firing notifications of {COLLECTOR_DOWN.alert}"
    (alert,) = [a for a in firing[0]["alerts"] if a["labels"]["alertname"] == COLLECTOR_DOWN.alert]
    (rendered,) = _rendered_annotations(COLLECTOR_DOWN.alert)
    assert alert["annotations"]["summary"] == rendered["summary"]
    assert alert["annotations"]["runbook_url"] == rendered["runbook_url"]
    assert alert["labels"]["job"] == "otel-collector" and alert["labels"]["severity"] == "page"
    for other in ALERT_ROUTING.receivers:
        if other.name != receiver:
            assert not delivery.webhook.of(other.name, COLLECTOR_DOWN.alert, "firing"), other.name


def test_the_page_resolves_when_the_collector_answers_again(delivery: Delivery) -> None:
    resolved = delivery.webhook.of(
        _severity_receiver(COLLECTOR_DOWN.severity), COLLECTOR_DOWN.alert, "resolved"
    )
    assert len(resolved) == 1
    assert resolved[0]["status"] == "resolved"


def test_signal_missing_tickets_reach_the_ticket_receiver_with_their_dashboard_links(
    delivery: Delivery,
) -> None:
    """One notification for the group (group_by alertname, slo, tenant_id: the signals share it),
    each alert with the dashboard link and runbook its rule renders."""
    receiver = _severity_receiver("ticket")
    (notification,) = delivery.webhook.of(receiver, SIGNAL_MISSING, "firing")[:1]
    links = {
        (a["annotations"]["runbook_url"], a["annotations"].get("dashboard_url"))
        for a in notification["alerts"]
        if a["labels"]["alertname"] == SIGNAL_MISSING
    }
    rendered = {(r["runbook_url"], r.get("dashboard_url")) for r in _rendered_annotations(SIGNAL_MISSING)}
    assert links and links <= rendered
    assert any(dashboard for _, dashboard in links), "no signal-missing ticket carries its dashboard link"
    page = _severity_receiver("page")
    assert not delivery.webhook.of(page, SIGNAL_MISSING, "firing"), "a ticket was paged"
