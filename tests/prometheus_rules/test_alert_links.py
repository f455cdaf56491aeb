"""An alert about one kind of failure opens a panel that shows that kind of failure.

The on-call person follows the alert's `dashboard_url` to see the failure: a latency page that
opens the error-rate graph sends them the wrong way at 3 a.m. Every alert with a panel link is held,
whatever its name: the failures its condition reads (through its recording rules) are the ones the
linked panel's queries read, no fewer and no others.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.kinds.dashboard import dashboard_document
from tests.conftest import REPO
from tests.prometheus.rules import rendered_rules
from tests.prometheus_rules.reads import expanded, panel_expressions

FAILURES: dict[str, Callable[[str], bool]] = {
    # An availability failure: a server span that ended in error (the spanmetrics connectors' status).
    "errors": lambda text: 'status_code="STATUS_CODE_ERROR"' in text,
    # A latency failure: a request slower than its target, read from the duration histogram's buckets
    # or from the connector that counts only the slow spans.
    "latency": lambda text: "_duration_seconds_bucket" in text or "slow_span_metrics" in text,
}
DASHBOARDS = {definition.uid: dashboard_document(definition) for definition in load_project(REPO).dashboards}


def failures(expression: str) -> set[str]:
    text = expanded(expression)
    return {kind for kind, reads in FAILURES.items() if reads(text)}


LINKED = [
    rule
    for group in rendered_rules()["groups"]
    for rule in group["rules"]
    if "viewPanel=" in rule.get("annotations", {}).get("dashboard_url", "") and failures(rule["expr"])
]
"""Alerts about a failure with a panel link (a signal gone silent is held by test_signal_missing.py)."""


def linked_panel(url: str) -> dict[str, Any]:
    match = re.search(r"/d/([\w-]+)\?(?:.*&)?viewPanel=(\d+)$", url)
    assert match and match.group(1) in DASHBOARDS, url
    return next(p for p in DASHBOARDS[match.group(1)]["panels"] if p.get("id") == int(match.group(2)))


@pytest.mark.parametrize("rule", LINKED, ids=lambda r: f"{r['alert']}-{r['labels'].get('signal', '')}")
def test_an_alert_about_a_failure_opens_a_panel_showing_that_failure(rule: dict[str, Any]) -> None:
    about = failures(rule["expr"])
    panel = linked_panel(rule["annotations"]["dashboard_url"])
    assert failures(panel_expressions(panel)) == about, (
        f"{rule['alert']} is about {sorted(about)} but opens {panel['title']!r}, which shows "
        f"{sorted(failures(panel_expressions(panel))) or 'no failure'}"
    )


def test_the_project_has_alerts_about_each_kind_of_failure() -> None:
    """Otherwise the test above could pass by finding no failure anywhere (a reader gone wrong)."""
    assert {kind for rule in LINKED for kind in failures(rule["expr"])} == set(FAILURES)
