"""Which contract signals the missing-signal alert watches: every one whose absence is a fault.

A signal that exists only while something happens (`present_only_when`: the per-tenant slow-request
count has no series while no request is slow) is absent on a healthy, fast backend; an alert on it
would open a ticket for good news. Every other signal is expected all the time, and its silence is
the first sign that the SDK or the Collector lost it.
"""

from __future__ import annotations

import pytest

from dashboards_as_code.contract.model import MetricSignal
from prometheus_rules import RULE_GROUPS
from telemetry.contract import CONTRACT

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
