"""Alerts from real scrapes reach the receiver their severity names, once, intact, and resolve.

Real programs: Prometheus 3 and Alertmanager 0.35, built by `make tools`, run with the committed
prometheus.yml and the generated alertmanager.yml rendered for 127.0.0.1 by monitoring/loopback.py,
as `make stack` runs them (Alertmanager with the compose file's flags); each receiver's URL file
holds the address of a recording webhook here. Only time is held: the rules (as the definitions
render them, which `check` holds the committed file to) are evaluated every second with every `for`
at HOLD, Prometheus scrapes every second, and each route gathers for GATHER instead of minutes.
Routes, grouping, inhibitions and receivers are the generated ones.

What Prometheus scrapes is small servers of ours on the Collector's two ports (no Collector runs):
1. nothing sends the contract's series, so every signal-missing ticket fires and reaches `ticket`;
2. the Collector's own metrics endpoint stops answering: Prometheus' `up` for it falls to 0 and
   `TikTicketsCollectorDown` reaches `page`, once; it answers again and the page resolves;
3. one contract gauge appears on the exporter's port: its signal-missing ticket resolves;
4. the ticket receiver's URL file is removed and a second gauge appears: that notification fails,
   Alertmanager counts it, Prometheus scrapes the count, and
   `TikTicketsAlertmanagerNotificationsFailing` reaches `page` naming the `ticket` receiver.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards_as_code.contract.model import MetricSignal, PromType
from dashboards_as_code.external_tools import ALERTMANAGER, PROMETHEUS
from monitoring import loopback
from prometheus_rules.alerts import COLLECTOR_DOWN, NOTIFICATIONS_FAILING, SIGNAL_MISSING
from prometheus_rules.routing import ALERT_ROUTING
from telemetry.contract import CONTRACT
from tests.local_http import QuietHandler, free_port, serving
from tests.prometheus.rules import rendered_rules, rules_for_the_test
from tests.prometheus.server import Prometheus
from tests.tooling import require_tool

COMPOSE = loopback.Compose()
SERVICES = ("otel-collector", "prometheus", "alertmanager")
COLLECTOR_TELEMETRY, COLLECTOR_EXPORTER = 8888, 8889
"""The Collector's container ports that prometheus.yml scrapes: its own metrics, its exporter."""
HOLD = "5s"
"""Every alert's `for`: five scrapes, so one slow answer (a 1 s scrape timeout on a loaded machine)
does not page the Collector as down."""
GATHER = "1s"
"""Each route's group_wait and group_interval here (30 s or 2 min, and 5 min, in the generated file)."""
PATIENCE = 90.0


@dataclass
class Webhook:
    """Every notification Alertmanager posted, by receiver (the path of its URL), with its arrival."""

    posts: dict[str, list[tuple[float, dict[str, Any]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(
        self, receiver: str, alertname: str, status: str, **labels: str
    ) -> list[tuple[float, dict[str, Any]]]:
        """The notifications to `receiver` carrying an alert `alertname` in that status (with `labels`)."""
        with self.lock:
            posts = list(self.posts.get(receiver, []))
        return [
            (at, post) for at, post in posts if any(_is(a, alertname, status, labels) for a in post["alerts"])
        ]


def _is(alert: dict[str, Any], alertname: str, status: str, labels: dict[str, str]) -> bool:
    found: dict[str, str] = alert["labels"]
    return (
        found.get("alertname") == alertname and alert["status"] == status and labels.items() <= found.items()
    )


def _recorder(webhook: Webhook) -> type[QuietHandler]:
    class Recording(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server dispatches on this name)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            with webhook.lock:
                webhook.posts.setdefault(self.path.strip("/"), []).append((time.monotonic(), body))
            self.reply(200, b"")

    return Recording


def _exposition(lines: list[str]) -> type[QuietHandler]:
    """A metrics endpoint serving `lines` as they are at each scrape (the test appends to them)."""

    class Serving(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server dispatches on this name)
            self.reply(200, "".join(f"{line}\n" for line in lines).encode(), "text/plain; version=0.0.4")

    return Serving


def _gauges_with_dashboards() -> list[MetricSignal]:
    """Contract gauges whose signal-missing ticket links to a dashboard: one sample brings each back."""
    linked = {
        rule["labels"]["signal"]
        for group in rendered_rules()["groups"]
        for rule in group["rules"]
        if rule.get("alert") == SIGNAL_MISSING and rule["annotations"].get("dashboard_url")
    }
    return [s for s in CONTRACT.metrics if s.prom_type is PromType.GAUGE and s.key in linked]


def _sample(signal: MetricSignal) -> str:
    labels = ", ".join(f'{k}="{v}"' for k, v in (*signal.identity, ("tenant_id", "acme")))
    return f"{signal.series()}{{{labels}}} 1"


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


@dataclass
class Delivery:
    webhook: Webhook
    collector_stopped: float
    """When the Collector's own endpoint stopped answering (time.monotonic())."""
    resolved_signal: str
    failing_signal: str


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Delivery]:
    prometheus_binary, alertmanager_binary = require_tool(PROMETHEUS), require_tool(ALERTMANAGER)
    workdir = tmp_path_factory.mktemp("alert-delivery")
    plan = loopback.plan(COMPOSE, SERVICES, workdir, pick=lambda _: free_port(), published=False)
    webhook = Webhook()
    logs = [workdir / "prometheus.log", workdir / "alertmanager.log"]
    gauges = _gauges_with_dashboards()
    assert len(gauges) >= 2, "two contract gauges with a dashboard link are needed"
    exported: list[str] = []

    def wait(condition: Callable[[], object], what: str) -> None:
        deadline = time.monotonic() + PATIENCE
        while not condition():
            if time.monotonic() > deadline:
                tails = "".join(f"\n--- {log.name}:\n{log.read_text()[-1500:]}" for log in logs)
                raise AssertionError(what + tails)
            time.sleep(0.2)

    with ExitStack() as running:
        webhook_url = running.enter_context(serving(_recorder(webhook)))
        secrets = workdir / "secrets"
        alertmanager_yml = _alertmanager_config(plan, webhook_url, secrets)
        running.enter_context(serving(_exposition(exported), plan.port("otel-collector", COLLECTOR_EXPORTER)))
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
        own_metrics = plan.port("otel-collector", COLLECTOR_TELEMETRY)
        with serving(_exposition(["otelcol_process_uptime_seconds_total 1"]), own_metrics):
            wait(lambda: _up(prometheus) == 1.0, "Prometheus never scraped the Collector's endpoint")
            wait(lambda: webhook.of("ticket", SIGNAL_MISSING, "firing"), "no signal-missing ticket arrived")
        stopped = time.monotonic()
        wait(
            lambda: webhook.of("page", COLLECTOR_DOWN.alert, "firing"),
            "the Collector-down page never arrived",
        )
        time.sleep(3)  # three more evaluations and flushes: a second notification would be here by now
        with serving(_exposition(["otelcol_process_uptime_seconds_total 1"]), own_metrics):
            wait(
                lambda: webhook.of("page", COLLECTOR_DOWN.alert, "resolved"),
                "the Collector-down page never resolved",
            )
            exported.append(_sample(gauges[0]))
            wait(
                lambda: webhook.of("ticket", SIGNAL_MISSING, "resolved", signal=gauges[0].key),
                f"the {gauges[0].key} ticket never resolved",
            )
            (secrets / "ticket").unlink()  # the ticket receiver's URL file is gone
            exported.append(_sample(gauges[1]))
            wait(
                lambda: webhook.of("page", NOTIFICATIONS_FAILING.alert, "firing"),
                "the failed ticket notification never paged",
            )
        yield Delivery(webhook, stopped, gauges[0].key, gauges[1].key)


def _up(prometheus: Prometheus) -> float | None:
    try:
        result = prometheus.query('up{job="otel-collector"}')
    except OSError:
        return None
    return float(result[0]["value"][1]) if result else None


def _rendered(alertname: str) -> list[dict[str, Any]]:
    return [
        rule
        for group in rendered_rules()["groups"]
        for rule in group["rules"]
        if rule.get("alert") == alertname
    ]


def _receiver(severity: str) -> str:
    (route,) = [route for route in ALERT_ROUTING.routes if route.severity == severity]
    return route.receiver


def test_the_collector_down_page_reaches_its_receiver_once_and_only_after_the_scrapes_failed(
    delivery: Delivery,
) -> None:
    receiver = _receiver(COLLECTOR_DOWN.severity)
    firing = delivery.webhook.of(receiver, COLLECTOR_DOWN.alert, "firing")
    assert len(firing) == 1, f"{len(firing)} firing notifications of {COLLECTOR_DOWN.alert}"
    at, post = firing[0]
    assert at > delivery.collector_stopped, "paged while the Collector's endpoint still answered"
    (alert,) = [a for a in post["alerts"] if a["labels"]["alertname"] == COLLECTOR_DOWN.alert]
    (rule,) = _rendered(COLLECTOR_DOWN.alert)
    assert alert["annotations"]["summary"] == rule["annotations"]["summary"]
    assert alert["annotations"]["runbook_url"] == rule["annotations"]["runbook_url"]
    assert alert["labels"]["job"] == "otel-collector" and alert["labels"]["severity"] == "page"
    for other in ALERT_ROUTING.receivers:
        if other.name != receiver:
            assert not delivery.webhook.of(other.name, COLLECTOR_DOWN.alert, "firing"), other.name


def test_the_collector_down_page_resolves_when_the_endpoint_answers_again(delivery: Delivery) -> None:
    resolved = delivery.webhook.of(_receiver(COLLECTOR_DOWN.severity), COLLECTOR_DOWN.alert, "resolved")
    assert len(resolved) == 1


def test_every_signal_missing_ticket_reaches_the_ticket_receiver_with_its_links(delivery: Delivery) -> None:
    """The first ticket notification carries every contract signal's alert (group_by alertname, slo,
    tenant_id: they share one group), each with the summary, runbook and dashboard link its rule
    renders; none is paged."""
    _, first = delivery.webhook.of(_receiver("ticket"), SIGNAL_MISSING, "firing")[0]
    arrived = {
        a["labels"]["signal"]: a["annotations"]
        for a in first["alerts"]
        if a["labels"]["alertname"] == SIGNAL_MISSING
    }
    rendered = {rule["labels"]["signal"]: rule["annotations"] for rule in _rendered(SIGNAL_MISSING)}
    assert set(arrived) == set(rendered)
    for signal, rendered_annotations in rendered.items():
        for key in ("summary", "runbook_url", "dashboard_url"):
            assert arrived[signal].get(key) == rendered_annotations.get(key), (signal, key)
    assert not delivery.webhook.of(_receiver("page"), SIGNAL_MISSING, "firing"), "a ticket was paged"


def test_a_ticket_fires_once_and_resolves_when_its_signal_comes_back(delivery: Delivery) -> None:
    ticket = _receiver("ticket")
    firing = delivery.webhook.of(ticket, SIGNAL_MISSING, "firing", signal=delivery.resolved_signal)
    resolved = delivery.webhook.of(ticket, SIGNAL_MISSING, "resolved", signal=delivery.resolved_signal)
    assert len(resolved) == 1
    # Firing in every notification of the group until its resolution: the first is the only one that
    # told of it; the others were sent for other alerts of the group.
    assert firing and firing[0][0] < resolved[0][0]


def test_a_receiver_that_cannot_be_reached_pages_naming_it(delivery: Delivery) -> None:
    """The ticket receiver's URL file is missing when the second signal resolves: that notification
    never arrives, and the failure pages with the receiver's name."""
    ticket = _receiver("ticket")
    assert not delivery.webhook.of(ticket, SIGNAL_MISSING, "resolved", signal=delivery.failing_signal)
    (_, post), *_ = delivery.webhook.of(
        _receiver(NOTIFICATIONS_FAILING.severity), NOTIFICATIONS_FAILING.alert, "firing"
    )
    (alert,) = [a for a in post["alerts"] if a["labels"]["alertname"] == NOTIFICATIONS_FAILING.alert]
    assert alert["labels"]["receiver_name"] == ticket and alert["labels"]["integration"] == "webhook"
