"""Every recording and alerting rule, unit-tested with `promtool test rules` on contract-shaped input.

promtool compares alert annotations verbatim, values included, so the tests run on the generated
rule file with annotations removed; the annotations are checked in test_rule_annotations.py. Every
case runs under every schedule of evaluation.py (each committed group interval, both group orders),
so its check times are derived from the alerts' `for` and the slowest interval, not written down.
"""

from __future__ import annotations

import math
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import AlertRule, recorded_series
from dashboards_as_code.external_tools import PROMTOOL
from dashboards_as_code.grafana_math import parse_duration
from prometheus_rules import RULE_GROUPS
from prometheus_rules.alerts import (
    COLLECTOR_ALERTS,
    COLLECTOR_QUEUE_ALERTS,
    EXEMPLARS_SHORT_ALERT,
    NOTIFICATIONS_FAILING,
    OVERFLOW_ALERT,
    QUEUE_FILLING_SHARE,
)
from prometheus_rules.slo import BURN_RATE_ALERTS
from telemetry.contract import CONTRACT, SOCKETIO_CONNECTIONS, TENANT_SPAN_CALLS
from tests.conftest import REPO
from tests.prometheus.rules import rendered_rules
from tests.prometheus_rules.evaluation import LAG_SECONDS, SCHEDULES, Schedule, on_grid
from tests.tooling import require_tool

SERVICE = 'service_name="tiktickets-backend"'
SERVER = f'{SERVICE}, span_kind="SPAN_KIND_SERVER"'
JOB = 'job="tiktickets/tiktickets-backend"'
UNSET, ERROR = 'status_code="STATUS_CODE_UNSET"', 'status_code="STATUS_CODE_ERROR"'


def per_second(rate: float, samples: int = 80) -> str:
    """A counter growing by `rate` per second, sampled every 15 s."""
    return f"0+{rate * 15:g}x{samples}"


def traffic(error_rate: float, samples: int = 80) -> list[dict[str, str]]:
    """Server spans: 2/s OK on a route, 5/s without a route (404s), `error_rate`/s failing. Client
    spans (the backend's calls out, to WhatsApp): 50/s, every one slower than 0.5 s; they are not the
    service's requests, so neither the latency panel nor the latency SLO counts them."""
    calls = "traces_span_metrics_calls_total"
    buckets = "traces_span_metrics_duration_seconds"
    return [
        {
            "series": f'{calls}{{{SERVER}, {UNSET}, http_route="/api/tickets"}}',
            "values": per_second(2, samples),
        },
        {"series": f'{calls}{{{SERVER}, {UNSET}, http_route=""}}', "values": per_second(5, samples)},
        {
            "series": f'{calls}{{{SERVER}, {ERROR}, http_route="/api/tickets"}}',
            "values": per_second(error_rate, samples),
        },
        {
            "series": f'{calls}{{{SERVICE}, span_kind="SPAN_KIND_CLIENT", {UNSET}, http_route=""}}',
            "values": per_second(50, samples),
        },
        # Half of the requests are within 0.5 s.
        {"series": f'{buckets}_bucket{{{SERVER}, le="0.5"}}', "values": per_second(1, samples)},
        {"series": f'{buckets}_bucket{{{SERVER}, le="+Inf"}}', "values": per_second(2, samples)},
        {"series": f"{buckets}_count{{{SERVER}}}", "values": per_second(2, samples)},
        *(
            {"series": f'{buckets}_{part}{{{SERVICE}, span_kind="SPAN_KIND_CLIENT"{le}}}', "values": values}
            for part, le, values in (
                ("bucket", ', le="0.5"', f"0x{samples}"),
                ("bucket", ', le="+Inf"', per_second(50, samples)),
                ("count", "", per_second(50, samples)),
            )
        ),
    ]


def tenants(samples: int = 80) -> list[dict[str, str]]:
    calls = "tenant_span_metrics_calls_total"
    messages = "tiktickets_whatsapp_messages_sent_total"
    return [
        {"series": f'{calls}{{{SERVER}, {ERROR}, tenant_id="acme"}}', "values": per_second(1, samples)},
        {"series": f'{calls}{{{SERVER}, {UNSET}, tenant_id="acme"}}', "values": per_second(9, samples)},
        {"series": f'{calls}{{{SERVER}, {UNSET}, tenant_id="globex"}}', "values": per_second(10, samples)},
        {
            "series": f'{calls}{{{SERVICE}, span_kind="SPAN_KIND_CLIENT", {UNSET}, tenant_id="globex"}}',
            "values": per_second(99, samples),
        },
        {
            "series": f'tiktickets_whatsapp_sessions_active{{{JOB}, tenant_id="acme", whatsapp_id="wa-1"}}',
            "values": f"2x{samples}",
        },
        {
            "series": f'tiktickets_whatsapp_sessions_active{{{JOB}, tenant_id="acme", whatsapp_id="wa-2"}}',
            "values": f"1x{samples}",
        },
        {
            "series": f'tiktickets_whatsapp_sessions_active{{{JOB}, tenant_id="globex", whatsapp_id="wa-1"}}',
            "values": f"4x{samples}",
        },
        {"series": f'tiktickets_socketio_connections{{{JOB}, tenant_id="acme"}}', "values": f"10x{samples}"},
        {
            "series": f'tiktickets_socketio_connections{{{JOB}, tenant_id="globex"}}',
            "values": f"30x{samples}",
        },
        {
            "series": f'{messages}{{{JOB}, tenant_id="acme", whatsapp_id="wa-1"}}',
            "values": per_second(1, samples),
        },
    ]


def expect(expr: str, *samples: tuple[str, float], at: str = "10m") -> dict[str, Any]:
    return {
        "expr": expr,
        "eval_time": at,
        "exp_samples": [{"labels": labels, "value": value} for labels, value in samples],
    }


def alert(name: str, at: str, *labels: dict[str, str]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": name, "exp_alerts": [{"exp_labels": dict(item)} for item in labels]}


def seconds(value: float) -> str:
    return f"{round(value)}s"


def hold(rule: AlertRule) -> float:
    """The alert's `for`, in seconds."""
    return parse_duration(rule.duration)


def samples_until(at: float) -> int:
    """Input samples (15 s apart) that reach past `at` (the last check) with a few to spare."""
    return math.ceil(at / 15) + 4


OVERVIEW_RECORDING = {
    "interval": "15s",
    "input_series": traffic(error_rate=1) + tenants(),
    "promql_expr_test": [
        expect(
            "http_route:traces_span_metrics_calls:rate5m",
            ('http_route:traces_span_metrics_calls:rate5m{http_route="/api/tickets"}', 3),
        ),
        expect(
            "le:traces_span_metrics_duration_seconds_bucket:rate5m",
            ('le:traces_span_metrics_duration_seconds_bucket:rate5m{le="+Inf"}', 2),
            ('le:traces_span_metrics_duration_seconds_bucket:rate5m{le="0.5"}', 1),
        ),
        expect(
            "tenant_id_status_code:tenant_span_metrics_calls:rate5m",
            (f'tenant_id_status_code:tenant_span_metrics_calls:rate5m{{tenant_id="__all__", {ERROR}}}', 1),
            (f'tenant_id_status_code:tenant_span_metrics_calls:rate5m{{tenant_id="__all__", {UNSET}}}', 19),
            (f'tenant_id_status_code:tenant_span_metrics_calls:rate5m{{tenant_id="acme", {ERROR}}}', 1),
            (f'tenant_id_status_code:tenant_span_metrics_calls:rate5m{{tenant_id="acme", {UNSET}}}', 9),
            (f'tenant_id_status_code:tenant_span_metrics_calls:rate5m{{tenant_id="globex", {UNSET}}}', 10),
        ),
        expect(
            "tenant_id:tiktickets_whatsapp_sessions_active:sum",
            ('tenant_id:tiktickets_whatsapp_sessions_active:sum{tenant_id="__all__"}', 7),
            ('tenant_id:tiktickets_whatsapp_sessions_active:sum{tenant_id="acme"}', 3),
            ('tenant_id:tiktickets_whatsapp_sessions_active:sum{tenant_id="globex"}', 4),
        ),
        expect(
            "tenant_id:tiktickets_socketio_connections:sum",
            ('tenant_id:tiktickets_socketio_connections:sum{tenant_id="__all__"}', 40),
            ('tenant_id:tiktickets_socketio_connections:sum{tenant_id="acme"}', 10),
            ('tenant_id:tiktickets_socketio_connections:sum{tenant_id="globex"}', 30),
        ),
    ],
}

# 1 failing of 8 server spans per second: 12.5 % errors; half the requests slower than 0.5 s.
SLO_RECORDING = {
    "interval": "15s",
    "input_series": traffic(error_rate=1),
    # Rates are float estimates: compare in tenths of a percent.
    "promql_expr_test": [
        expect(f"round(tiktickets:slo_{kind}:ratio_rate{window} * 1000)", ("{}", permille), at="20m")
        for kind, permille in (("errors", 125), ("slow", 500))
        for window in ("5m", "30m", "1h", "6h", "3d")
    ],
}


def burning() -> dict[str, Any]:
    """12.5 % errors, 25 times the 0.5 % availability budget, and half the requests slower than 0.5 s,
    10 times the 5 % latency budget: above 6x (the 6h/30m pair), below 14.4x (1h/5m). Every burn-rate
    alert fires once its `for` and the evaluation lag have passed, and none before its `for` has."""
    last = max(hold(rule) for rule in BURN_RATE_ALERTS) + LAG_SECONDS
    return {
        "interval": "15s",
        "input_series": traffic(error_rate=1, samples=samples_until(last)),
        "alert_rule_test": [
            check
            for rule in BURN_RATE_ALERTS
            for check in (
                alert(rule.alert, seconds(hold(rule))),
                alert(
                    rule.alert, seconds(hold(rule) + LAG_SECONDS), {"severity": rule.severity, **rule.labels}
                ),
            )
        ],
    }


BURNING = burning()


def healthy_traffic() -> list[dict[str, str]]:
    """1 error per 1,000 s against 8 requests per second, and every request within 0.5 s."""
    calls = [s for s in traffic(error_rate=0.001) if s["series"].startswith("traces_span_metrics_calls")]
    fast = f'traces_span_metrics_duration_seconds_bucket{{{SERVER}, le="0.5"}}'
    count = f"traces_span_metrics_duration_seconds_count{{{SERVER}}}"
    return [*calls, {"series": fast, "values": per_second(2)}, {"series": count, "values": per_second(2)}]


HEALTHY = {
    "interval": "15s",
    "input_series": healthy_traffic(),
    "alert_rule_test": [
        alert(name, "20m")
        for name in (
            "TikTicketsErrorBudgetBurn",
            "TikTicketsErrorBudgetBurnSlow",
            "TikTicketsLatencyBudgetBurn",
            "TikTicketsLatencyBudgetBurnSlow",
        )
    ],
}

COLLECTOR_ALERT = {rule.alert: rule for rule in COLLECTOR_ALERTS}
EXPORT_FAILING, REFUSING = "TikTicketsCollectorExportFailing", "TikTicketsCollectorRefusingData"


def collector() -> dict[str, Any]:
    """The Collector's own counters as 0.161 exports them (no `_total`) and as older releases did (with it):
    - receiver `otlp` counts refused spans, metric points and log records, over two transports: three
      counters whose series differ only by name, which a rate over a `__name__` regex cannot tell apart;
    - exporter `otlp_grpc/jaeger` fails 3 spans/s (older spelling), `debug` fails 1 span/s and 2 log
      records/s, `otlp_http/loki` fails nothing.
    Each alert gives one series per receiver or exporter, valued at its items per second over every
    signal, and fires once its `for` and the evaluation lag have passed."""
    last = on_grid(max(hold(rule) for rule in COLLECTOR_ALERTS) + LAG_SECONDS)
    n = samples_until(last)
    refused = [
        {
            "series": f'otelcol_receiver_refused_{signal}{{receiver="otlp", transport="{transport}"}}',
            "values": per_second(rate, n),
        }
        for signal, rate in (("spans", 1), ("metric_points", 0.5), ("log_records", 0))
        for transport in ("grpc", "http")
    ]
    failed = [
        ('otelcol_exporter_send_failed_spans_total{exporter="otlp_grpc/jaeger"}', 3),
        ('otelcol_exporter_send_failed_spans{exporter="debug"}', 1),
        ('otelcol_exporter_send_failed_log_records{exporter="debug"}', 2),
        ('otelcol_exporter_send_failed_log_records{exporter="otlp_http/loki"}', 0),
    ]
    at = seconds(last)
    return {
        "interval": "15s",
        "input_series": refused + [{"series": name, "values": per_second(rate, n)} for name, rate in failed],
        "promql_expr_test": [
            expect(COLLECTOR_ALERT[REFUSING].expr, ('{receiver="otlp"}', 3), at=at),
            expect(
                COLLECTOR_ALERT[EXPORT_FAILING].expr,
                ('{exporter="debug"}', 3),
                ('{exporter="otlp_grpc/jaeger"}', 3),
                at=at,
            ),
        ],
        "alert_rule_test": [
            alert(EXPORT_FAILING, seconds(hold(COLLECTOR_ALERT[EXPORT_FAILING]))),
            alert(
                EXPORT_FAILING,
                at,
                {"severity": "page", "exporter": "debug"},
                {"severity": "page", "exporter": "otlp_grpc/jaeger"},
            ),
            alert(REFUSING, seconds(hold(COLLECTOR_ALERT[REFUSING]))),
            alert(REFUSING, at, {"severity": "page", "receiver": "otlp"}),
        ],
    }


COLLECTOR = collector()

SMALL_LOSS_PER_SECOND = 0.1
"""One item lost every ten seconds: any loss is data gone for good, so it pages however small."""


def collector_small_loss() -> dict[str, Any]:
    """One exporter fails and one receiver refuses SMALL_LOSS_PER_SECOND items (a single signal each),
    steadily: both alerts fire for it, each with the one exporter or receiver that loses data."""
    last = on_grid(max(hold(rule) for rule in COLLECTOR_ALERTS) + LAG_SECONDS)
    n = samples_until(last)
    series = [
        ('otelcol_exporter_send_failed_spans{exporter="otlp_grpc/jaeger"}', SMALL_LOSS_PER_SECOND),
        ('otelcol_exporter_send_failed_log_records{exporter="otlp_http/loki"}', 0),
        ('otelcol_receiver_refused_metric_points{receiver="otlp", transport="grpc"}', SMALL_LOSS_PER_SECOND),
    ]
    at = seconds(last)
    return {
        "interval": "15s",
        "input_series": [{"series": name, "values": per_second(rate, n)} for name, rate in series],
        "alert_rule_test": [
            alert(EXPORT_FAILING, at, {"severity": "page", "exporter": "otlp_grpc/jaeger"}),
            alert(REFUSING, at, {"severity": "page", "receiver": "otlp"}),
        ],
    }


DOWN = "TikTicketsCollectorDown"


DOWN_PAGES_AFTER_S = 2 * 60
"""The page's own words: the Collector "has not answered Prometheus' scrapes for 2 minutes". Stated
here, not read from the rule's `for`, so a page that waits longer fails the case."""


def collector_down() -> dict[str, Any]:
    """Prometheus' `up` for the Collector's own endpoint goes to 0 and stays: the page fires once its
    `for` has passed, not before, and by DOWN_PAGES_AFTER_S (with the evaluation's lag), labelled with
    the job and instance the scrape gives it; another job's target being down is not the Collector."""
    rule = COLLECTOR_ALERT[DOWN]
    n = samples_until(max(hold(rule), DOWN_PAGES_AFTER_S) + 3 * LAG_SECONDS)
    target = {"job": "otel-collector", "instance": "otel-collector:8888"}
    labels = ", ".join(f'{k}="{v}"' for k, v in target.items())
    return {
        "interval": "15s",
        "input_series": [
            {"series": f"up{{{labels}}}", "values": f"1 0x{n}"},
            {"series": 'up{job="prometheus", instance="prometheus:9090"}', "values": f"0x{n}"},
        ],
        "alert_rule_test": [
            alert(DOWN, seconds(hold(rule) - 15)),
            alert(DOWN, seconds(15 + hold(rule) + LAG_SECONDS), {"severity": "page", **target}),
            alert(DOWN, seconds(15 + DOWN_PAGES_AFTER_S + LAG_SECONDS), {"severity": "page", **target}),
        ],
    }


QUEUE_ALERT = {rule.alert: rule for rule in COLLECTOR_QUEUE_ALERTS}
STALLED, FILLING, FULL = (
    "TikTicketsCollectorExportStalled",
    "TikTicketsCollectorQueueFilling",
    "TikTicketsCollectorQueueFull",
)
COLLECTOR_SELF = {"job": "otel-collector", "instance": "otel-collector:8888"}
QUEUE_BYTES = 2**31


def _collector_series(name: str, **labels: str) -> str:
    every = {**COLLECTOR_SELF, **labels}
    return f"{name}{{{', '.join(f'{k}={v!r}'.replace(chr(39), chr(34)) for k, v in every.items())}}}"


def queue(exporter: str, data_type: str, size: str, capacity: int = QUEUE_BYTES) -> list[dict[str, str]]:
    """One exporter's sending-queue gauges as the Collector exports them (bytes, with the bytes sizer)."""
    labels = {"exporter": exporter, "data_type": data_type}
    return [
        {"series": _collector_series("otelcol_exporter_queue_size", **labels), "values": size},
        {
            "series": _collector_series("otelcol_exporter_queue_capacity", **labels),
            "values": f"{capacity}x80",
        },
    ]


def a_backend_is_down() -> dict[str, Any]:
    """Jaeger is down: its exporter holds 5 MB in its queue and sends nothing. Loki is up and busy:
    its exporter always has something in flight (the queue is never empty at a scrape) and sends.
    A third exporter is down since the Collector started: it has never sent, so it has no `sent`
    counter at all. A fourth is idle: nothing to send, its queue empty, its counter flat (a quiet
    hour, not an outage). The stalled page fires for the two that hold items and send nothing, once its
    `for` has passed; neither the busy one nor the idle one is stalled; no queue is near half full."""
    rule = QUEUE_ALERT[STALLED]
    n = samples_until(hold(rule) + 6 * 60 + LAG_SECONDS)
    series = [
        *queue("otlp_grpc/jaeger", "traces", f"5000000x{n}"),
        *queue("otlp_http/loki", "logs", f"30000x{n}"),
        *queue("otlp_http/other", "logs", f"1000x{n}"),
        *queue("otlp_http/idle", "logs", f"0x{n}"),
        {
            "series": _collector_series("otelcol_exporter_sent_log_records", exporter="otlp_http/idle"),
            "values": f"500x{n}",
        },
        {
            "series": _collector_series("otelcol_exporter_sent_spans", exporter="otlp_grpc/jaeger"),
            "values": f"100x{n}",
        },
        {
            "series": _collector_series("otelcol_exporter_sent_log_records", exporter="otlp_http/loki"),
            "values": per_second(40, n),
        },
    ]
    at = hold(rule) + 6 * 60 + LAG_SECONDS  # the sent rate's window has seen the flat counter whole
    page = {"severity": "page", "instance": COLLECTOR_SELF["instance"]}
    return {
        "interval": "15s",
        "input_series": series,
        "alert_rule_test": [
            alert(STALLED, seconds(hold(rule) - 15)),
            alert(
                STALLED,
                seconds(on_grid(at)),
                {**page, "exporter": "otlp_grpc/jaeger"},
                {**page, "exporter": "otlp_http/other"},
            ),
            alert(FILLING, seconds(on_grid(at))),
            alert(FULL, seconds(on_grid(at))),
        ],
    }


def a_queue_fills() -> dict[str, Any]:
    """Jaeger's queue is just over the filling share, Loki's just under; Loki's queue also refuses
    log records (full for a moment: dropped). Each page fires for its exporter only."""
    last = on_grid(max(hold(rule) for rule in (QUEUE_ALERT[FILLING], QUEUE_ALERT[FULL])) + LAG_SECONDS)
    n = samples_until(last)
    over, under = (round(QUEUE_BYTES * QUEUE_FILLING_SHARE * f) for f in (1.01, 0.99))
    page = {"severity": "page", "instance": COLLECTOR_SELF["instance"]}
    series = [
        *queue("otlp_grpc/jaeger", "traces", f"{over}x{n}"),
        *queue("otlp_http/loki", "logs", f"{under}x{n}"),
        {
            "series": _collector_series(
                "otelcol_exporter_enqueue_failed_log_records", exporter="otlp_http/loki"
            ),
            "values": per_second(2, n),
        },
        {
            "series": _collector_series("otelcol_exporter_enqueue_failed_spans", exporter="otlp_grpc/jaeger"),
            "values": f"0x{n}",
        },
    ]
    return {
        "interval": "15s",
        "input_series": series,
        "alert_rule_test": [
            alert(FILLING, seconds(hold(QUEUE_ALERT[FILLING]) - 15)),
            alert(FILLING, seconds(last), {**page, "exporter": "otlp_grpc/jaeger"}),
            alert(FULL, seconds(last), {**page, "exporter": "otlp_http/loki"}),
        ],
    }


QUEUE_FULL_PAGES_WITHIN_S = 4 * 60
"""The README's promise: TikTicketsCollectorQueueFull pages within 4 minutes of the first dropped item
(every minute it waits, more is lost for good)."""


def a_full_queue_pages_within_minutes() -> dict[str, Any]:
    """Loki's queue starts refusing log records (2 a second) at the second sample: the page is out by
    the promised time, whatever the `for` the rule's neighbours use."""
    last = on_grid(QUEUE_FULL_PAGES_WITHIN_S)
    n = samples_until(last)
    page = {"severity": "page", "instance": COLLECTOR_SELF["instance"], "exporter": "otlp_http/loki"}
    refused = _collector_series("otelcol_exporter_enqueue_failed_log_records", exporter="otlp_http/loki")
    return {
        "interval": "15s",
        "input_series": [{"series": refused, "values": per_second(2, n)}],
        "alert_rule_test": [alert(FULL, seconds(last), page)],
    }


def a_queue_at_exactly_half() -> dict[str, Any]:
    """The README: QueueFilling pages when a queue is "over half" of its capacity. Jaeger's queue holds
    exactly half (1 GiB of 2 GiB) for longer than the alert's `for`: not over half, no page."""
    last = on_grid(hold(QUEUE_ALERT[FILLING]) + LAG_SECONDS)
    n = samples_until(last)
    return {
        "interval": "15s",
        "input_series": queue("otlp_grpc/jaeger", "traces", f"{QUEUE_BYTES // 2}x{n}"),
        "alert_rule_test": [alert(FILLING, seconds(last))],
    }


def one_replica_stalls() -> dict[str, Any]:
    """Two Collector replicas, each with exporter `otlp_grpc/jaeger`: the first's queue holds 5 MB and
    its sent counter is flat (its route to Jaeger is down), the second's sends 40 spans/s. The stalled
    page names the first replica's exporter: a busy replica does not hide a stalled one, since the
    queue alerts are per Collector and exporter."""
    rule = QUEUE_ALERT[STALLED]
    at = on_grid(hold(rule) + 6 * 60 + LAG_SECONDS)
    n = samples_until(at)
    stalled, busy = "otel-collector-1:8888", "otel-collector-2:8888"
    jaeger = {"exporter": "otlp_grpc/jaeger"}
    series = [
        {
            "series": _collector_series("otelcol_exporter_sent_spans", instance=instance, **jaeger),
            "values": sent,
        }
        for instance, sent in ((stalled, f"100x{n}"), (busy, per_second(40, n)))
    ] + [
        {
            "series": _collector_series(gauge, instance=instance, data_type="traces", **jaeger),
            "values": values,
        }
        for instance, size in ((stalled, 5_000_000), (busy, 30_000))
        for gauge, values in (
            ("otelcol_exporter_queue_size", f"{size}x{n}"),
            ("otelcol_exporter_queue_capacity", f"{QUEUE_BYTES}x{n}"),
        )
    ]
    return {
        "interval": "15s",
        "input_series": series,
        "alert_rule_test": [
            alert(STALLED, seconds(at), {"severity": "page", "instance": stalled, **jaeger}),
        ],
    }


LAST_SENT_MINUTES = 10


def a_backend_goes_down() -> dict[str, Any]:
    """Jaeger's exporter delivers 40 spans/s for LAST_SENT_MINUTES, then its backend goes away: from
    then on its queue holds data and its sent counter is flat. The page comes 5 minutes after the last
    delivery (with the evaluation's lag), not before: the sent rate's window and the alert's `for`
    together, which the summary states as "for 5 minutes"; and by 7 minutes, which leaves the alert
    group's minute and the scrape's 15 s to its evaluation, not a longer window's 3 minutes more."""
    last_sent = LAST_SENT_MINUTES * 60
    at = on_grid(last_sent + 5 * 60 + LAG_SECONDS)
    n = samples_until(at)
    sending = LAST_SENT_MINUTES * 4  # 15 s samples
    queue_values = f"0x{sending} " + f"5000000x{n - sending}"
    sent_values = f"0+600x{sending} " + f"{600 * sending}x{n - sending}"
    return {
        "interval": "15s",
        "input_series": [
            *queue("otlp_grpc/jaeger", "traces", queue_values),
            {
                "series": _collector_series("otelcol_exporter_sent_spans", exporter="otlp_grpc/jaeger"),
                "values": sent_values,
            },
        ],
        "alert_rule_test": [
            alert(STALLED, seconds(last_sent + 5 * 60 - 30)),
            alert(
                STALLED,
                seconds(last_sent + 7 * 60),
                {"severity": "page", "instance": COLLECTOR_SELF["instance"], "exporter": "otlp_grpc/jaeger"},
            ),
            alert(
                STALLED,
                seconds(at),
                {"severity": "page", "instance": COLLECTOR_SELF["instance"], "exporter": "otlp_grpc/jaeger"},
            ),
        ],
    }


def notifications_fail() -> dict[str, Any]:
    """The page receiver's URL file is missing: its webhook notification fails once per flush of its
    group, every 5 minutes (reason="other", as the real Alertmanager 0.35 counts it, with
    receiver_name under --enable-feature=receiver-name-in-metrics). The ticket receiver's failed
    before Prometheus' first scrape (its counter flat at 3), not since. The page fires after the first
    failure, for the page receiver only, and stays firing between failures."""
    rule = NOTIFICATIONS_FAILING
    first_failure = 10 * 60
    n = samples_until(first_failure + 12 * 60)
    failed = 'alertmanager_notifications_failed_total{job="alertmanager", instance="alertmanager:9093", '
    before, every = first_failure // 15, 5 * 4  # samples of 15 s
    page_fails = f"0x{before - 1} " + " ".join(f"{k}x{every - 1}" for k in range(1, n // every + 2))
    expected = {"severity": "page", "integration": "webhook", "receiver_name": "page"}
    return {
        "interval": "15s",
        "input_series": [
            {
                "series": f'{failed}integration="webhook", receiver_name="page", reason="other"}}',
                "values": page_fails,
            },
            {
                "series": f'{failed}integration="webhook", receiver_name="ticket", reason="other"}}',
                "values": f"3x{n}",
            },
        ],
        "alert_rule_test": [
            alert(rule.alert, seconds(first_failure - 15)),
            alert(rule.alert, seconds(on_grid(first_failure + LAG_SECONDS)), expected),
            alert(rule.alert, seconds(on_grid(first_failure + 7 * 60)), expected),  # between two failures
        ],
    }


def one_notification_fails() -> dict[str, Any]:
    """The ticket receiver fails once, at 10 min (its endpoint was down for one flush), then delivers
    again. The page fires after that failure and still fires 12 minutes later: the README promises
    any failed notification of the last 15 minutes, and a receiver fails once per group flush, so a
    shorter window would resolve between two failures. Once 15 minutes have passed, it resolves."""
    rule = NOTIFICATIONS_FAILING
    failure = 10 * 60
    n = samples_until(failure + 15 * 60 + LAG_SECONDS)
    before = failure // 15
    failed = (
        'alertmanager_notifications_failed_total{job="alertmanager", instance="alertmanager:9093", '
        'integration="webhook", receiver_name="ticket", reason="other"}'
    )
    expected = {"severity": "page", "integration": "webhook", "receiver_name": "ticket"}
    return {
        "interval": "15s",
        "input_series": [{"series": failed, "values": f"0x{before - 1} 1x{n - before}"}],
        "alert_rule_test": [
            alert(rule.alert, seconds(on_grid(failure + LAG_SECONDS)), expected),
            alert(rule.alert, seconds(failure + 12 * 60), expected),
            alert(rule.alert, seconds(on_grid(failure + 15 * 60 + LAG_SECONDS))),
        ],
    }


PAUSE_MINUTES = 8
"""A pause of a signal that opens no ticket: a redeploy of the backend, a Collector restart with its
queue to drain. Stated here, not read from the alert's window, so a window cut short fails the test."""


def a_short_pause_opens_no_ticket() -> dict[str, Any]:
    """The Socket.io gauge stops for PAUSE_MINUTES after five minutes of data, then comes back: its
    signal-missing alert is not firing at any point of the pause, nor just after it."""
    rule = next(
        rule
        for group in RULE_GROUPS
        for rule in group.alerts
        if rule.alert == "TikTicketsSignalMissing" and rule.labels.get("signal") == "socketio_connections"
    )
    before, pause = 20, PAUSE_MINUTES * 4  # 15 s samples
    n = before + pause + 20
    series = [s for s in tenants(n) if "socketio" not in s["series"]]
    socketio = next(s for s in tenants(n) if "socketio" in s["series"])
    series.append({"series": socketio["series"], "values": f"5x{before - 1} _x{pause} 5x19"})
    checks = range(round(on_grid(before * 15)), round(on_grid((before + pause + 4) * 15)) + 1, 60)
    return {
        "interval": "15s",
        "input_series": traffic(error_rate=0, samples=n) + series,
        "alert_rule_test": [alert(rule.alert, seconds(at)) for at in checks],
    }


def one_signal_missing() -> dict[str, Any]:
    """Everything the contract defines except the Socket.io gauge. Missing from the start, its alert is
    pending at the first evaluation and fires once its `for` has run out (and not a minute before)."""
    rule = next(
        rule
        for group in RULE_GROUPS
        for rule in group.alerts
        if rule.alert == "TikTicketsSignalMissing" and rule.labels.get("signal") == "socketio_connections"
    )
    last = hold(rule) + LAG_SECONDS
    n = samples_until(last)
    tenant_series = [s for s in tenants(n) if "socketio" not in s["series"]]
    return {
        "interval": "15s",
        "input_series": traffic(error_rate=0, samples=n) + tenant_series,
        "alert_rule_test": [
            alert(rule.alert, seconds(hold(rule) - 60)),
            alert(
                rule.alert,
                seconds(last),
                {
                    "severity": "ticket",
                    "signal": "socketio_connections",
                    "job": "tiktickets/tiktickets-backend",
                },
            ),
        ],
    }


ONE_SIGNAL_MISSING = one_signal_missing()


OVERFLOW_SERIES = 'otel_metric_overflow="true"'
"""What an OTel SDK and the spanmetrics connector put on the one series past their cardinality limit
(the attribute `otel.metric.overflow` = true, as the Collector's prometheus exporter writes it)."""


def overflowing() -> dict[str, Any]:
    """The backend's SDK folds tenants of the Socket.io gauge into its overflow series, and the tenant
    spanmetrics connector those of the request counter (its overflow series keeps only the resource's
    job: no service_name, span_kind or status_code), both under the backend's job, beside the normal
    tenant series. One alert per metric, named in `metric`: pending until its `for` has run out, then
    firing. Two metrics of one job at once is the case an alert keyed by `__name__` alone gets wrong."""
    last = on_grid(hold(OVERFLOW_ALERT) + LAG_SECONDS)
    n = samples_until(last)
    gauge, calls = SOCKETIO_CONNECTIONS.prometheus_name, TENANT_SPAN_CALLS.prometheus_name
    folded = [
        {"series": f'{gauge}{{{JOB}, instance="backend-1", {OVERFLOW_SERIES}}}', "values": f"7x{n}"},
        {"series": f"{calls}{{{JOB}, {OVERFLOW_SERIES}}}", "values": per_second(3, n)},
    ]
    job = CONTRACT.resource.job
    return {
        "interval": "15s",
        "input_series": tenants(n) + folded,
        "alert_rule_test": [
            alert(OVERFLOW_ALERT.alert, seconds(hold(OVERFLOW_ALERT) - 60)),
            alert(
                OVERFLOW_ALERT.alert,
                seconds(last),
                {"severity": "ticket", "metric": calls, "job": job},
                {"severity": "ticket", "metric": gauge, "job": job},
            ),
        ],
    }


OVERFLOW_BLIP_MINUTES = 6
"""One overflowing export of a gauge, kept by the Collector's prometheus exporter for its 5 min
`metric_expiration` (and a scrape more): a burst that fell back, which opens no ticket."""


def an_overflow_blip_opens_no_ticket() -> dict[str, Any]:
    """The Socket.io gauge's overflow series is there for OVERFLOW_BLIP_MINUTES from minute 2, then
    gone (stale); the tenant request counter's stays. The blip opens no ticket at any time; the
    lasting overflow opens one within a quarter hour (prometheus_rules/alerts.py), and not before."""
    last = on_grid(15 * 60 + LAG_SECONDS)
    n = samples_until(last)
    gauge, calls = SOCKETIO_CONNECTIONS.prometheus_name, TENANT_SPAN_CALLS.prometheus_name
    start, blip = 2 * 4, OVERFLOW_BLIP_MINUTES * 4  # 15 s samples
    folded = [
        {
            "series": f'{gauge}{{{JOB}, instance="backend-1", {OVERFLOW_SERIES}}}',
            "values": f"_x{start} 7x{blip} stale",
        },
        {"series": f"{calls}{{{JOB}, {OVERFLOW_SERIES}}}", "values": per_second(3, n)},
    ]
    job = CONTRACT.resource.job
    return {
        "interval": "15s",
        "input_series": tenants(n) + folded,
        "alert_rule_test": [
            *(alert(OVERFLOW_ALERT.alert, f"{minute}m") for minute in range(0, 15)),
            alert(OVERFLOW_ALERT.alert, seconds(last), {"severity": "ticket", "metric": calls, "job": job}),
        ],
    }


def no_overflow() -> dict[str, Any]:
    """Every tenant series of the contract, and none past a limit: the overflow alert stays silent."""
    last = on_grid(hold(OVERFLOW_ALERT) + LAG_SECONDS)
    n = samples_until(last)
    return {
        "interval": "15s",
        "input_series": traffic(error_rate=0, samples=n) + tenants(n),
        "alert_rule_test": [alert(OVERFLOW_ALERT.alert, seconds(last))],
    }


EXEMPLAR_RING = 250_000
WANTED_REACH_S = 6 * 3600
"""The exemplars must reach back over a dashboard's default range, now-6h
(dashboards_as_code/defaults.py), written here on its own so that a threshold changed in the alert
fails these cases."""
PROMETHEUS_ITSELF = 'job="prometheus", instance="prometheus:9090"'


def exemplar_ring(reach_s: float | None) -> dict[str, Any]:
    """Prometheus' ring of EXEMPLAR_RING exemplars fed at the pace that makes it reach back `reach_s`
    (None: no exemplar appended at all): the alert fires, once its `for` has run, exactly when that
    is less than WANTED_REACH_S. The rate is over an hour, so the check waits an hour for it, then the
    alert's `for`."""
    last = on_grid(3600 + hold(EXEMPLARS_SHORT_ALERT) + LAG_SECONDS)
    n = samples_until(last)
    pace = 0.0 if reach_s is None else EXEMPLAR_RING / reach_s
    fires = reach_s is not None and reach_s < WANTED_REACH_S
    return {
        "interval": "15s",
        "input_series": [
            {
                "series": f"prometheus_tsdb_exemplar_max_exemplars{{{PROMETHEUS_ITSELF}}}",
                "values": f"{EXEMPLAR_RING}x{n}",
            },
            {
                "series": f"prometheus_tsdb_exemplar_exemplars_appended_total{{{PROMETHEUS_ITSELF}}}",
                "values": per_second(pace, n),
            },
        ],
        "alert_rule_test": [
            alert(
                EXEMPLARS_SHORT_ALERT.alert,
                seconds(last),
                *(
                    [{"severity": "ticket", "job": "prometheus", "instance": "prometheus:9090"}]
                    if fires
                    else []
                ),
            )
        ],
    }


def an_exemplar_burst_within_the_hour() -> dict[str, Any]:
    """Exemplars arrive at 5/s for 70 minutes, then at 14/s for 40: the last minutes' pace alone
    would fill EXEMPLAR_RING in under 5 h, but the alert reads the pace over the last hour (11/s, a
    reach of 6.3 h, more than WANTED_REACH_S): a burst within a healthy hour opens no ticket."""
    calm, burst = 70 * 4, 40 * 4  # 15 s samples
    appended = f"0+{5 * 15}x{calm} {5 * 15 * calm + 14 * 15}+{14 * 15}x{burst}"
    assert EXEMPLAR_RING / ((20 * 60 * 5 + 40 * 60 * 14) / 3600) > WANTED_REACH_S
    assert EXEMPLAR_RING / 14 < WANTED_REACH_S
    return {
        "interval": "15s",
        "input_series": [
            {
                "series": f"prometheus_tsdb_exemplar_max_exemplars{{{PROMETHEUS_ITSELF}}}",
                "values": f"{EXEMPLAR_RING}x{calm + burst + 1}",
            },
            {
                "series": f"prometheus_tsdb_exemplar_exemplars_appended_total{{{PROMETHEUS_ITSELF}}}",
                "values": appended,
            },
        ],
        "alert_rule_test": [alert(EXEMPLARS_SHORT_ALERT.alert, seconds((calm + burst) * 15))],
    }


SRE_WORKBOOK_PAIRS = (("1h", "5m", 14.4, "page"), ("6h", "30m", 6.0, "page"), ("3d", "6h", 1.0, "ticket"))
"""(long window, short window, burn rate, severity): the workbook's, written here independently of
prometheus_rules/slo.py so that a changed factor there fails these cases."""
ERROR_BUDGET = 0.005  # 99.5 % of server requests succeed


def burn_rate_edge(long: str, short: str, burn_rate: float, severity: str, factor: float) -> dict[str, Any]:
    """The error ratio at `factor` x this pair's burn rate in both its windows, every other window at 0:
    the pair's alert fires just above its burn rate and stays silent just below it."""
    windows = {w for pair in SRE_WORKBOOK_PAIRS for w in pair[:2]}
    value = burn_rate * ERROR_BUDGET * factor
    series = [
        {
            "series": f"tiktickets:slo_errors:ratio_rate{w}",
            "values": f"{value if w in (long, short) else 0:g}x80",
        }
        for w in sorted(windows)
    ]
    name = "TikTicketsErrorBudgetBurn" + ("" if severity == "page" else "Slow")
    return {
        "interval": "15s",
        "input_series": series,
        # Every availability alert says which SLO it is about (the routing groups and inhibits by it).
        "alert_rule_test": [
            alert(name, "20m", *([{"severity": severity, "slo": "availability"}] if factor > 1 else []))
        ],
    }


BURN_RATE_EDGES = {
    f"{rate:g}x over {long}/{short}, {label}": burn_rate_edge(long, short, rate, severity, factor)
    for long, short, rate, severity in SRE_WORKBOOK_PAIRS
    for label, factor in (("just below", 0.97), ("just above", 1.03))
}


CASES = {
    **BURN_RATE_EDGES,
    "overview recording rules": OVERVIEW_RECORDING,
    "SLO recording rules": SLO_RECORDING,
    "burn-rate alerts fire": BURNING,
    "burn-rate alerts stay silent": HEALTHY,
    "collector alerts": COLLECTOR,
    "collector alerts on a small loss": collector_small_loss(),
    "the Collector is down": collector_down(),
    "a backend is down: its exporter sends nothing": a_backend_is_down(),
    "a sending queue fills and refuses": a_queue_fills(),
    "a sending queue at exactly half opens nothing": a_queue_at_exactly_half(),
    "a full sending queue pages within minutes": a_full_queue_pages_within_minutes(),
    "a backend goes down after delivering": a_backend_goes_down(),
    "one Collector replica stalls beside a busy one": one_replica_stalls(),
    "Alertmanager's notifications fail": notifications_fail(),
    "one failed notification pages for a quarter hour": one_notification_fails(),
    "a short pause of a signal opens no ticket": a_short_pause_opens_no_ticket(),
    "signal missing": ONE_SIGNAL_MISSING,
    "overflow series of two metrics": overflowing(),
    "an overflow blip opens no ticket, a lasting overflow one": an_overflow_blip_opens_no_ticket(),
    "no overflow series": no_overflow(),
    "exemplars reach back 90 % of a dashboard's range": exemplar_ring(0.9 * WANTED_REACH_S),
    "exemplars reach back 110 % of a dashboard's range": exemplar_ring(1.1 * WANTED_REACH_S),
    "no exemplar appended": exemplar_ring(None),
    "a burst of exemplars within a healthy hour": an_exemplar_burst_within_the_hour(),
}


def rules_without_annotations(directory: Path) -> Path:
    """The rules as the definitions render them now (not the committed file, which may be stale)."""
    document = rendered_rules()
    for group in document["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    path = directory / "rules.yml"
    path.write_text(yaml.safe_dump(document))
    return path


def promtool_major(promtool: str) -> int:
    version = subprocess.run([promtool, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"version (\d+)\.", version)
    assert match, f"cannot read promtool's version from {version!r}"
    return int(match.group(1))


def run_promtool(
    tmp_path: Path, case: dict[str, Any], schedule: Schedule
) -> subprocess.CompletedProcess[str]:
    rules = rules_without_annotations(tmp_path)
    promtool = require_tool(PROMTOOL)
    test: dict[str, Any] = {
        "rule_files": [str(rules)],
        "evaluation_interval": schedule.every,
        "group_eval_order": list(schedule.order),
        "tests": [case],
    }
    if promtool_major(promtool) >= 3:
        # Prometheus 3's rate() gives 2.9999999999999996 where 2.x gave 3: compare within float error.
        test["fuzzy_compare"] = True
    path = tmp_path / "test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    return subprocess.run(
        [promtool, "test", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("schedule", SCHEDULES, ids=str)
@pytest.mark.parametrize("name", CASES)
def test_rules_with_promtool(tmp_path: Path, name: str, schedule: Schedule) -> None:
    result = run_promtool(tmp_path, CASES[name], schedule)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    wrong = {
        **OVERVIEW_RECORDING,
        "promql_expr_test": [
            expect(
                "tenant_id:tiktickets_socketio_connections:sum",
                ('tenant_id:tiktickets_socketio_connections:sum{tenant_id="__all__"}', 41),
            )
        ],
    }
    result = run_promtool(tmp_path, wrong, SCHEDULES[0])
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_every_rule_is_covered() -> None:
    """Every rule the project loads (hand-written and derived) is tested: by a case here, or, for a
    per-tenant rule with its `__all__` twin, by the case test_all_rows.py derives from it."""
    from tests.prometheus_rules.test_all_rows import TWINNED  # noqa: PLC0415 (one test needs it)
    from tests.prometheus_rules.test_tenant_slo import TENANT_CASES  # noqa: PLC0415 (imports this module)

    text = yaml.safe_dump(CASES) + yaml.safe_dump(TENANT_CASES)
    groups = load_project(REPO).rule_groups
    for record in recorded_series(groups):
        assert record in text or record in TWINNED, f"no promtool test reads {record}"
    for group in groups:
        for rule in group.alerts:
            assert f"alertname: {rule.alert}" in text, f"no promtool test for alert {rule.alert}"
