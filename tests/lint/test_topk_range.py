"""topk-range: a top-k asked as a range query is refused with the instant query that fixes it."""

from __future__ import annotations

from typing import Any

import pytest

from dashboards_as_code import queries as q
from dashboards_as_code.definitions.types import DashboardDefinition
from dashboards_as_code.lint.checks.topk_range import CHECK
from dashboards_as_code.panels.style import bar_gauge, prom, timeseries
from datasources import PROMETHEUS
from telemetry.contract import SOCKETIO_CONNECTIONS, WHATSAPP_MESSAGES_SENT
from tests.lint.builders import board, check, context, document, findings, raw


def test_the_overview_passes(overview) -> None:  # type: ignore[no-untyped-def]
    """Its per-tenant top-k is an instant query in a bar gauge."""
    assert findings(CHECK, overview) == []


def _graph(expr: q.PromQL, *, instant: bool = False) -> DashboardDefinition:
    target = prom(expr, "{{tenant_id}}", instant=instant)
    return board(
        timeseries("Top senders", description="d", unit="reqps", datasource=PROMETHEUS.ref, targets=[target])
    )


def _bars(expr: q.PromQL, *, instant: bool = False) -> DashboardDefinition:
    target = prom(expr, "{{tenant_id}}", instant=instant)
    return board(
        bar_gauge("Top senders", description="d", unit="reqps", datasource=PROMETHEUS.ref, targets=[target])
    )


def test_the_newcomers_top_10_graph_is_refused_with_the_fix() -> None:
    """ "WhatsApp messages sent per second per tenant, top 10" as a time series: more than 10 lines."""
    (finding,) = findings(CHECK, _graph(q.tenant_topk(10, WHATSAPP_MESSAGES_SENT)))
    assert finding.location.panel == "Top senders"
    assert finding.message.startswith("query A is a range query with topk(10, ...)")
    assert (
        "the panel draws every series that was in the topk 10 at some step, more than 10" in finding.message
    )
    assert "prom(..., instant=True)" in finding.message and "bar gauge" in finding.message


def test_the_fix_the_message_names_passes() -> None:
    assert findings(CHECK, _bars(q.tenant_topk(10, WHATSAPP_MESSAGES_SENT), instant=True)) == []


def test_a_range_top_k_reduced_to_bars_is_refused_too() -> None:
    """A bar gauge over a range query reduces each series: every one ever in the top N gets a bar."""
    (finding,) = findings(CHECK, _bars(q.topk(5, q.sum_by(q.select(SOCKETIO_CONNECTIONS), "tenant_id"))))
    assert "the panel shows every series that was in the topk 5" in finding.message


@pytest.mark.parametrize(
    "text",
    [
        "bottomk(3, sum by (tenant_id) (tiktickets_socketio_connections))",
        "sum(topk(3, tiktickets_socketio_connections))",  # nested: the sum still follows the picks
    ],
)
def test_bottomk_and_nested_rankings_are_refused(text: str) -> None:
    (finding,) = findings(CHECK, _graph(raw(text)))
    assert "(3, ...)" in finding.message


@pytest.mark.parametrize(
    "text",
    [
        "topk(3, tiktickets_socketio_connections @ end())",
        "tiktickets_socketio_connections and on (tenant_id) "
        "topk(3, avg_over_time(tiktickets_socketio_connections[1h] @ end()))",
    ],
    ids=["pinned", "ranked-once-over-the-range"],
)
def test_a_ranking_pinned_to_one_instant_picks_the_same_series_at_every_step(text: str) -> None:
    assert findings(CHECK, _graph(raw(text))) == []


@pytest.mark.parametrize(
    ("keys", "ranged"),
    [
        ({"instant": True}, False),  # what grafanalib's own Target(instant=True) writes: no `range` key
        ({}, True),  # neither key: Grafana runs a range query
        ({"instant": False}, True),
        ({"instant": True, "range": True}, True),  # both asked: the range query still ranks per step
    ],
    ids=["instant-only", "neither", "not-instant", "both"],
)
def test_a_target_without_a_range_key_is_a_range_query_unless_it_is_instant(
    keys: dict[str, Any], ranged: bool
) -> None:
    """Grafana's Prometheus query reads `range` as "not instant" when the key is absent, so a target
    saved with `instant: true` alone is one instant query (exactly N series), not a range query."""
    definition = _bars(q.tenant_topk(10, WHATSAPP_MESSAGES_SENT))
    lint = context(definition)
    [target] = next(p for p in document(lint, definition)["panels"] if p["title"] == "Top senders")["targets"]
    for key in ("instant", "range"):
        target.pop(key, None)
    target.update(keys)
    assert len(check(CHECK, lint)) == int(ranged)


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        # A rate is taken at every step: the ranking over it moves with it.
        ("topk(3, rate(tiktickets_socketio_connections[5m]))", True),
        ("topk(3, max_over_time(tiktickets_socketio_connections[1h]))", True),
        # One side pinned, the other not: the ratio still moves.
        ("topk(3, tiktickets_socketio_connections @ end() / tiktickets_socketio_connections)", True),
        ("topk(3, tiktickets_socketio_connections / tiktickets_socketio_connections @ end())", True),
        # Both sides pinned, or the whole range pinned: the same series at every step.
        ("topk(3, tiktickets_socketio_connections @ end() / tiktickets_socketio_connections @ end())", False),
        ("topk(3, rate(tiktickets_socketio_connections[5m] @ end()))", False),
    ],
    ids=["rate", "over-time", "left-pinned-only", "right-pinned-only", "both-pinned", "range-pinned"],
)
def test_whether_a_ranking_moves_from_step_to_step(text: str, refused: bool) -> None:
    assert len(findings(CHECK, _graph(raw(text)))) == int(refused)


def test_an_old_graph_panel_draws_its_lines_as_a_time_series_does() -> None:
    """Grafana's legacy `graph` panel draws each series as a line: the message says "draws" there too."""
    definition = _graph(q.tenant_topk(10, WHATSAPP_MESSAGES_SENT))
    lint = context(definition)
    next(p for p in document(lint, definition)["panels"] if p["title"] == "Top senders")["type"] = "graph"
    (finding,) = check(CHECK, lint)
    assert "the panel draws every series that was in the topk 10 at some step" in finding.message
