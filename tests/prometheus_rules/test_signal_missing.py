"""Which contract signals the missing-signal alert watches: every one whose absence is a fault.

A signal that exists only while something happens (`present_only_when`: the per-tenant slow-request
count has no series while no request is slow) is absent on a healthy, fast backend; an alert on it
would open a ticket for good news. Every other signal is expected all the time, and its silence is
the first sign that the SDK or the Collector lost it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from config import OVERVIEW_UID
from dashboards_as_code.contract.model import MetricSignal
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.kinds.dashboard import dashboard_document
from prometheus_rules import RULE_GROUPS
from prometheus_rules.alerts import SIGNAL_MISSING
from telemetry.contract import CONTRACT
from tests.conftest import REPO
from tests.prometheus.rules import rendered_rules
from tests.prometheus_rules.reads import names_read, panel_expressions

WATCHED = {
    rule.labels.get("signal")
    for group in RULE_GROUPS
    for rule in group.alerts
    if rule.alert == "TikTicketsSignalMissing"
}


@pytest.mark.parametrize("signal", CONTRACT.metrics, ids=lambda s: s.key)
def test_a_signal_is_watched_exactly_when_its_absence_is_a_fault(signal: MetricSignal) -> None:
    assert (signal.key in WATCHED) is (signal.present_only_when is None)


def test_the_contract_has_signals_of_both_kinds() -> None:
    """Otherwise the test above holds one side only and cannot see the filter turned the wrong way."""
    assert {signal.present_only_when is None for signal in CONTRACT.metrics} == {True, False}


RULES = rendered_rules()
OVERVIEW = dashboard_document(next(d for d in load_project(REPO).dashboards if d.uid == OVERVIEW_UID))
OVERVIEW_PANELS = {
    panel["id"]: (
        panel["title"],
        names_read(panel_expressions(panel)),
    )
    for panel in OVERVIEW["panels"]
    if panel["type"] != "row"
}
MISSING_ALERTS = [
    rule for group in RULES["groups"] for rule in group["rules"] if rule.get("alert") == SIGNAL_MISSING
]


@pytest.mark.parametrize("rule", MISSING_ALERTS, ids=lambda rule: rule["labels"]["signal"])
def test_a_missing_signal_ticket_opens_an_overview_panel_that_reads_it_whenever_one_does(
    rule: dict[str, Any],
) -> None:
    """The on-call person opening the ticket lands on a panel the silence has emptied: one exists on the
    Overview (directly or through a recording rule) exactly when the ticket carries a link, and the
    linked panel is one of them, not a neighbour's."""
    signal = CONTRACT.metric(rule["labels"]["signal"])
    reading = {pid for pid, (_, read) in OVERVIEW_PANELS.items() if read & set(signal.series_names)}
    url = rule["annotations"].get("dashboard_url")
    assert (url is not None) is bool(reading), (
        f"{signal.key}: Overview panels reading it: {sorted(OVERVIEW_PANELS[p][0] for p in reading)}; "
        f"link: {url}"
    )
    if url is not None:
        match = re.search(rf"/d/{re.escape(OVERVIEW_UID)}\?(?:.*&)?viewPanel=(\d+)$", url)
        assert match, f"{signal.key}: {url} does not open an Overview panel"
        assert int(match.group(1)) in reading, (
            f"{signal.key}: {url} opens {OVERVIEW_PANELS[int(match.group(1))][0]!r}"
        )
