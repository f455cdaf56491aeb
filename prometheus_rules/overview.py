"""Recording rules for the Overview dashboard's all-tenant panels, shaped for the panels that read them.

Evaluated every 30 s: two 15 s scrapes per evaluation, so a 1 h view still gets 120 points and a
24 h view (step >= 60 s) never reads more than the panel draws. Rates use a 5 m window, four times
the Collector's 15 s metric flush, so a late flush never reads as a drop.
The per-tenant series (calls by status, WhatsApp sessions, Socket.io connections) are not here: the
Overview reads them with `queries.tenant_sum` / `tenant_topk`, whose queries carry their rules (the
per-tenant row and the `tenant_id="__all__"` row that All reads), and `build` writes those into the
derived group `tiktickets-derived` (dashboards_as_code/definitions/derived_rules.py).
"""

from dashboards_as_code.define import RECORDING_RATE_WINDOW, RecordingRule, RuleGroup
from dashboards_as_code.define import queries as q
from telemetry.contract import SERVER_SPANS_ONLY, SPAN_CALLS, SPAN_DURATION

WINDOW = RECORDING_RATE_WINDOW


def _server_calls_rate() -> q.PromQL:
    return q.rate(q.select(SPAN_CALLS, SERVER_SPANS_ONLY, q.ne("http_route", "")), WINDOW)


ROUTE_CALLS = RecordingRule(
    record="http_route:traces_span_metrics_calls:rate5m",
    expr=q.sum_by(_server_calls_rate(), "http_route"),
    grafana_unit="reqps",
)
LATENCY_BUCKETS = RecordingRule(
    record="le:traces_span_metrics_duration_seconds_bucket:rate5m",
    expr=q.sum_by(q.rate(q.select(SPAN_DURATION, SERVER_SPANS_ONLY, part="bucket"), WINDOW), "le"),
    grafana_unit="reqps",
    histogram_unit=SPAN_DURATION.grafana_unit,
)

OVERVIEW_GROUP = RuleGroup(
    name="tiktickets-overview",
    interval="30s",
    recording=(ROUTE_CALLS, LATENCY_BUCKETS),
)
