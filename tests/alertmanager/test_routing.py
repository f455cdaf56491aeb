"""TikTickets' alerts reach the receiver their severity names, and the inhibitions silence only what
they say: checked on the Alertmanager configuration rendered now from the definitions (not the
committed file), with the real amtool and the real Alertmanager (`make tools` builds both).

The alerts are the project's own, read from the loaded rule groups with the labels each carries, so a
new alert rule is covered the day it is written.
"""

from __future__ import annotations

import functools
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from dashboards_as_code.defaults import TENANT_LABEL
from dashboards_as_code.definitions.alert_routing import UNROUTED, AlertRouting, Inhibition
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import AlertRule
from dashboards_as_code.definitions.types import Project
from dashboards_as_code.external_tools import ALERTMANAGER, AMTOOL
from dashboards_as_code.grafana_math import parse_duration
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from prometheus_rules.slo import SLO_LABEL
from tests.alertmanager.server import Alertmanager, running_alertmanager
from tests.conftest import REPO
from tests.tooling import require_tool


@functools.cache
def _project() -> Project:
    return load_project(REPO)


def _routing() -> AlertRouting:
    routing = _project().alert_routing
    assert routing is not None, "prometheus_rules/__init__.py defines no ALERT_ROUTING"
    return routing


def _alerts() -> list[AlertRule]:
    return [alert for group in _project().rule_groups for alert in group.alerts]


def _labels(alert: AlertRule, **extra: str) -> dict[str, str]:
    """The labels the alert fires with: its name, severity, its own labels, and any the query keeps."""
    return {"alertname": alert.alert, "severity": alert.severity, **alert.labels, **extra}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = _project().config.alertmanager_file
    assert path is not None, "config.py names no alertmanager_file"
    (output,) = [o for o in render_outputs(build_documents(_project())) if o.path == path]
    written = tmp_path_factory.mktemp("alertmanager") / "alertmanager.yml"
    written.write_bytes(output.content)
    return written


def _route(config: Path, labels: dict[str, str]) -> str:
    amtool = require_tool(AMTOOL)
    args = [f"{name}={value}" for name, value in sorted(labels.items())]
    result = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("alert", _alerts(), ids=lambda a: f"{a.alert}-{a.labels.get('signal', a.severity)}")
def test_every_alert_reaches_the_receiver_its_severity_names(config: Path, alert: AlertRule) -> None:
    expected = _routing().receiver_for(alert.severity)
    assert expected != UNROUTED, f"{alert.alert}: severity {alert.severity!r} has no route"
    assert _route(config, _labels(alert)) == expected
    # A per-tenant alert keeps tenant_id from its query: the route does not depend on it.
    assert _route(config, _labels(alert, **{TENANT_LABEL: "tenant-001"})) == expected


def test_a_severity_without_a_route_reaches_no_receiver(config: Path) -> None:
    """What the lint check alert-routes guards against: such an alert is dropped, not delivered."""
    assert _route(config, {"alertname": "Mine", "severity": "critical"}) == UNROUTED


def _pacing(config: Path, severity: str) -> dict[str, float]:
    """The route Alertmanager matches for `severity`, its three timings in seconds."""
    routes = yaml.safe_load(config.read_text())["route"]["routes"]
    (route,) = [r for r in routes if r["matchers"] == [f'severity="{severity}"']]
    return {
        field: parse_duration(route[field]) for field in ("group_wait", "group_interval", "repeat_interval")
    }


def test_a_page_is_sent_at_once_and_repeated_hourly_while_it_fires(config: Path) -> None:
    """routing.py's promise to on-call: a page wakes someone at once (no longer than Alertmanager's
    own 30 s group_wait) and is sent again every hour while it fires, not every 4 h (Alertmanager's
    default); a page that changes is re-sent after Alertmanager's 5 min, not every few seconds."""
    page = _pacing(config, "page")
    assert page["group_wait"] <= 30
    assert page["repeat_interval"] == 3600
    assert page["group_interval"] == 5 * 60


def test_a_ticket_waits_longer_than_a_page_to_gather_its_group_and_repeats_daily(config: Path) -> None:
    """A ticket is for working hours (routing.py): it waits longer than a page to gather the tickets
    of one outage into one notification (the README: "after 2 minutes of gathering"), and reminds once
    a day, not every few hours."""
    page, ticket = _pacing(config, "page"), _pacing(config, "ticket")
    assert ticket["group_wait"] > page["group_wait"]
    assert ticket["group_wait"] == 2 * 60
    assert ticket["repeat_interval"] == 24 * 3600
    assert ticket["group_interval"] == 5 * 60


def _matches(matchers: dict[str, str], labels: dict[str, str]) -> bool:
    """An Inhibition's matchers (`=~` a regex, else equality) against an alert's labels."""
    for name, value in matchers.items():
        have = labels.get(name, "")
        if value.startswith("=~"):
            if not re.fullmatch(value[2:], have):
                return False
        elif have != value:
            return False
    return True


def _inhibited_pairs() -> list[tuple[AlertRule, AlertRule]]:
    """(source, target) of every inhibition among the project's alerts: the matchers hold, and the
    `equal` labels both set in the rule (`slo`) agree (those from the query, `tenant_id`, may)."""

    def agree(inhibition: Inhibition, source: AlertRule, target: AlertRule) -> bool:
        both = [name for name in inhibition.equal if name in source.labels and name in target.labels]
        return all(source.labels[name] == target.labels[name] for name in both)

    pairs = {
        (id(source), id(target)): (source, target)
        for inhibition in _routing().inhibitions
        for source in _alerts()
        if _matches(inhibition.source, _labels(source))
        for target in _alerts()
        if target is not source
        and _matches(inhibition.target, _labels(target))
        and agree(inhibition, source, target)
    }
    return list(pairs.values())


def _pair_id(pair: tuple[AlertRule, AlertRule]) -> str:
    source, target = pair
    return f"{source.alert}-silences-{target.alert}-{target.labels.get('signal', target.severity)}"


@pytest.mark.parametrize(
    "pair",
    _inhibited_pairs(),
    ids=_pair_id,
)
def test_an_alert_that_silences_another_fires_no_later_than_it(pair: tuple[AlertRule, AlertRule]) -> None:
    """An inhibition only holds back what arrives while its source fires. Both start from the same
    cause (many tenants burning is their tickets' burning; a down Collector is why signals go
    missing), so a source whose `for` is longer than its target's fires after the target: the
    tickets it should spare are already sent (the on-call gets a ticket per tenant, then the page)."""
    source, target = pair
    assert parse_duration(source.duration) <= parse_duration(target.duration), (
        f"{source.alert} waits {source.duration}, {target.alert} only {target.duration}: "
        f"{target.alert} is notified before {source.alert} can silence it"
    )


@pytest.fixture
def alertmanager(config: Path, tmp_path: Path) -> Iterator[Alertmanager]:
    """One Alertmanager per test: an inhibition compares only its `equal` labels, so alerts of another
    test would silence (or not) this test's. It is ready in about a second."""
    binary = require_tool(ALERTMANAGER)
    with running_alertmanager(binary, config, tmp_path) as running:
        yield running


def _one(alertname: str, severity: str | None = None, **labels: str) -> AlertRule:
    """The project's alert of that name (and severity), so the test follows its labels."""
    found = [a for a in _alerts() if a.alert == alertname and severity in (None, a.severity)]
    assert found, f"the project has no alert {alertname} ({severity})"
    return found[0]


def _state(alertmanager: Alertmanager, *fired: dict[str, str]) -> dict[tuple[str, str], str]:
    """Fire `fired` (tagged with a label `case`, to find them) and read back each alert's state:
    `active`, or `suppressed` when an inhibition (or silence) holds it."""
    alertmanager.post_alerts(*fired)
    cases = {f["case"] for f in fired}
    return {
        (a["labels"]["case"], a["labels"]["alertname"]): a["status"]["state"]
        for a in alertmanager.alerts()
        if a["labels"].get("case") in cases
    }


SLOS = sorted({a.labels[SLO_LABEL] for a in _alerts() if SLO_LABEL in a.labels})


@pytest.mark.parametrize("slo", SLOS)
def test_a_page_silences_the_ticket_of_the_same_slo_not_the_others(
    alertmanager: Alertmanager, slo: str
) -> None:
    fleet = [a for a in _alerts() if a.labels.get(SLO_LABEL) == slo and "tenant" not in a.alert.lower()]
    page = next(a for a in fleet if a.severity == "page")
    ticket = next(a for a in fleet if a.severity == "ticket")
    other = next(
        a for a in _alerts() if a.severity == "ticket" and a.labels.get(SLO_LABEL) not in (None, slo)
    )
    case = f"page-{slo}"
    state = _state(
        alertmanager,
        _labels(page, case=case),
        _labels(ticket, case=case),
        _labels(other, case=case),
    )
    assert state[(case, page.alert)] == "active"
    assert state[(case, ticket.alert)] == "suppressed"
    assert state[(case, other.alert)] == "active", "a page silenced the ticket of another SLO"


def test_a_fleet_page_does_not_silence_one_tenants_ticket(alertmanager: Alertmanager) -> None:
    """Equal labels: the fleet's page has no tenant, the tenant's ticket has one: both are told."""
    named_sources = {i.source["alertname"] for i in _routing().inhibitions if "alertname" in i.source}
    page = next(  # a fleet SLO page that no inhibition names as its source (many tenants burning does)
        a
        for a in _alerts()
        if a.severity == "page"
        and a.labels.get(SLO_LABEL)
        and not a.dashboard_variables
        and a.alert not in named_sources
    )
    tenant_ticket = next(
        a
        for a in _alerts()
        if a.severity == "ticket"
        and a.labels.get(SLO_LABEL) == page.labels[SLO_LABEL]
        and a.dashboard_variables
    )
    state = _state(
        alertmanager,
        _labels(page, case="fleet-vs-tenant"),
        _labels(tenant_ticket, case="fleet-vs-tenant", **{TENANT_LABEL: "tenant-007"}),
    )
    assert state[("fleet-vs-tenant", tenant_ticket.alert)] == "active"


def test_many_tenants_burning_is_one_page_instead_of_a_ticket_per_tenant(alertmanager: Alertmanager) -> None:
    many = _one("TikTicketsManyTenantsBurning")
    tickets = [
        _labels(_one("TikTicketsTenantErrorBudgetBurn"), case="many", **{TENANT_LABEL: f"tenant-00{n}"})
        for n in range(1, 4)
    ]
    alone = _state(alertmanager, {**tickets[0], "case": "no-page"})
    assert alone[("no-page", "TikTicketsTenantErrorBudgetBurn")] == "active"  # until the page fires
    state = _state(alertmanager, _labels(many, case="many"), *tickets)
    assert state[("many", many.alert)] == "active"
    suppressed = [
        a
        for a in alertmanager.alerts()
        if a["labels"].get("case") == "many" and a["status"]["state"] == "suppressed"
    ]
    assert len(suppressed) == len(tickets)


def test_a_down_collector_silences_the_signal_missing_tickets_and_nothing_else(
    alertmanager: Alertmanager,
) -> None:
    down = _one("TikTicketsCollectorDown")
    missing = [a for a in _alerts() if a.alert == "TikTicketsSignalMissing"]
    unrelated = next(
        a
        for a in _alerts()
        if a.severity == "ticket" and a.alert not in {"TikTicketsSignalMissing"} and SLO_LABEL not in a.labels
    )
    state = _state(
        alertmanager,
        _labels(down, case="down"),
        *(_labels(a, case="down") for a in missing),
        _labels(unrelated, case="down"),
    )
    assert state[("down", down.alert)] == "active"
    signals = [
        a
        for a in alertmanager.alerts()
        if a["labels"].get("case") == "down" and a["labels"]["alertname"] == "TikTicketsSignalMissing"
    ]
    assert len(signals) == len(missing) and all(a["status"]["state"] == "suppressed" for a in signals)
    assert state[("down", unrelated.alert)] == "active"


def _groups_of(alertmanager: Alertmanager, case: str, posted: int) -> list[list[dict[str, str]]]:
    """The notifications the `posted` alerts tagged `case` form: per group, the labels of its alerts.
    Alertmanager's dispatcher files a posted alert into its group asynchronously: wait (10 s at most)
    until every one of them is in a group."""
    deadline = time.monotonic() + 10
    while True:
        found = [
            alerts
            for group in alertmanager.groups()
            if (alerts := [a["labels"] for a in group["alerts"] if a["labels"].get("case") == case])
        ]
        if sum(map(len, found)) >= posted or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_two_tenants_tickets_of_one_alert_are_two_notifications(alertmanager: Alertmanager) -> None:
    """group_by keeps the tenant: a support engineer gets tenant-001's ticket and tenant-002's apart,
    never one hidden inside the other's notification."""
    tenant_ticket = next(a for a in _alerts() if a.severity == "ticket" and a.dashboard_variables)
    tenants = ("tenant-001", "tenant-002")
    alertmanager.post_alerts(
        *(_labels(tenant_ticket, case="two-tenants", **{TENANT_LABEL: tenant}) for tenant in tenants)
    )
    groups = _groups_of(alertmanager, "two-tenants", len(tenants))
    assert sorted(tuple(a[TENANT_LABEL] for a in alerts) for alerts in groups) == [(t,) for t in tenants]


def test_the_signal_missing_tickets_of_one_outage_are_one_notification(alertmanager: Alertmanager) -> None:
    """Every signal missing at once (one outage) is one ticket listing them, not one per signal."""
    missing = [a for a in _alerts() if a.alert == "TikTicketsSignalMissing"]
    assert len(missing) > 1, "the project has one signal-missing alert or none: nothing to group"
    alertmanager.post_alerts(*(_labels(a, case="outage") for a in missing))
    (group,) = _groups_of(alertmanager, "outage", len(missing))
    assert len(group) == len(missing)


def test_each_receiver_sends_to_a_url_file_of_its_own_that_the_readme_names() -> None:
    """Pages and tickets reach different people only if each receiver reads its own URL file: two
    receivers on one file send tickets to the pager. The operator creates the files the README lists."""
    files = {
        receiver.name: [webhook.url_file for webhook in receiver.webhooks]
        for receiver in _routing().receivers
    }
    every = [path for paths in files.values() for path in paths]
    assert len(every) == len(set(every)), f"receivers share a URL file: {files}"
    readme = (REPO / "README.md").read_text()
    for receiver, paths in files.items():
        for path in paths:
            assert Path(path).name in readme, (
                f"{receiver}: the README does not say to create {Path(path).name}"
            )
