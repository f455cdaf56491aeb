"""The Overview's plain-query baseline: the same panels reading the raw contract series.

Only the benchmark needs it, to measure what the recording rules save at thousands of tenants;
the Overview definition itself has one code path (the recorded series). Queries are built with the
same builders and contract signals, and All is the regex `.*` instead of the aggregate row.
"""

from __future__ import annotations

import copy
from typing import Any

from dashboards import overview
from dashboards_as_code import queries as q
from dashboards_as_code.defaults import TENANT_VARIABLE
from dashboards_as_code.kinds.dashboard import dashboard_document
from telemetry.contract import (
    SERVER_SPANS_ONLY,
    SOCKETIO_CONNECTIONS,
    SPAN_CALLS,
    SPAN_DURATION,
    STATUS_CODE_ERROR,
    TENANT_SPAN_CALLS,
    WHATSAPP_SESSIONS_ACTIVE,
)

ALL_VALUE = ".*"
"""`$tenant` for All without an aggregate row: a regex over every tenant's series."""


def plain_queries() -> dict[str, list[q.PromQL]]:
    """Panel title -> its Prometheus queries in target order, over raw contract series."""
    server = SERVER_SPANS_ONLY
    request_rate = q.sum_by(q.rate(q.select(SPAN_CALLS, server, q.ne("http_route", ""))), "http_route")
    failed = q.eq("status_code", STATUS_CODE_ERROR)
    errors = q.rate(q.select(TENANT_SPAN_CALLS, server, failed))
    error_ratio = q.ratio(q.or_zero(q.sum_by(errors)), q.sum_by(q.rate(q.select(TENANT_SPAN_CALLS, server))))
    latency = [q.histogram_quantile(quantile, SPAN_DURATION, server) for quantile in (0.5, 0.95, 0.99)]
    sessions = q.sum_by(q.select(WHATSAPP_SESSIONS_ACTIVE))
    top = overview.TOP_TENANTS
    sockets = q.topk(top, q.sum_by(q.select(SOCKETIO_CONNECTIONS), "tenant_id"))
    return {
        "Request rate per route": [request_rate],
        "Error rate": [error_ratio],
        "Error rate over time": [error_ratio],
        "Latency P50 / P95 / P99": latency,
        "Active WhatsApp sessions": [sessions],
        "Active WhatsApp sessions over time": [sessions],
        f"Socket.io connections per tenant (top {top})": [sockets],
    }


def _prometheus_targets(panel: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in panel.get("targets", []) if t["datasource"]["type"] == "prometheus"]


def plain_query_document() -> dict[str, Any]:
    """The Overview's normalised document with every Prometheus query replaced by its plain form.

    A Prometheus panel this module has no plain form of (one a user added since) is left out, with a
    row it leaves empty: the benchmark compares the two forms panel by panel, by title, so a panel
    without a plain form has nothing to be compared with, and the baseline still reads raw series only.
    """
    document = copy.deepcopy(dashboard_document(overview.dashboard()))
    replacements = plain_queries()
    kept: list[dict[str, Any]] = []
    for panel in document["panels"]:
        targets = _prometheus_targets(panel)
        if targets and panel["title"] not in replacements:
            continue
        for target, expr in zip(targets, replacements.get(panel["title"], []), strict=True):
            target["expr"] = expr.text
        kept.append(panel)
    document["panels"] = [
        panel
        for panel, after in zip(kept, [*kept[1:], None], strict=True)
        if panel["type"] != "row" or panel.get("panels") or (after is not None and after["type"] != "row")
    ]
    tenant = next(v for v in document["templating"]["list"] if v["name"] == TENANT_VARIABLE)
    tenant["allValue"] = ALL_VALUE
    return document
