"""Alerts that are not SLOs: the Collector dropping data, a contract signal going silent, an emitter
folding tenants into its overflow series, and Prometheus' exemplar ring reaching back too little."""

from config import OVERVIEW_UID
from dashboards_as_code.define import (
    DASHBOARD_TIME_FROM,
    OVERFLOW_LABEL,
    OVERFLOW_VALUE,
    AlertRule,
    PromType,
    RuleGroup,
    range_seconds,
)
from prometheus_rules.slo import BURN_RATE_ALERTS
from telemetry.contract import CONTRACT

SILENCE = "10m"
"""Longer than the SDK's and the connectors' flush intervals (15 s) with room for a restart."""

_PANEL = {
    "span_calls": "Request rate per route",
    "span_duration": "Latency P50 / P95 / P99",
    "tenant_span_calls": "Error rate over time",
    "tenant_slow_span_calls": None,
    "whatsapp_sessions_active": "Active WhatsApp sessions over time",
    "socketio_connections": "Socket.io connections per tenant (top 20)",
    "whatsapp_messages_sent": None,
}


SIGNAL_MISSING = "TikTicketsSignalMissing"
"""The name every contract signal's no-data alert shares (its `signal` label tells them apart)."""


def _no_data(key: str) -> AlertRule:
    signal = CONTRACT.metric(key)
    series = signal.series("count") if signal.prom_type is PromType.HISTOGRAM else signal.series()
    identity = ", ".join(f'{k}="{v}"' for k, v in signal.identity)
    return AlertRule(
        alert=SIGNAL_MISSING,
        expr=f"absent_over_time({series}{{{identity}}}[{SILENCE}])",
        duration="5m",
        severity="ticket",
        summary=f"No {signal.otel_name} data for {SILENCE}",
        description=(
            f"Prometheus has received no {series} from {signal.emitter} for {SILENCE} "
            "(absent_over_time = {{ $value }}): the panels that read it are empty. Check the backend's "
            "OTel SDK and the Collector."
        ),
        runbook="runbook-tiktickets-signal-missing",
        dashboard=OVERVIEW_UID if _PANEL[key] else None,
        dashboard_panel=_PANEL[key],
        labels={"signal": key},
    )


COLLECTOR_SIGNALS = ("spans", "metric_points", "log_records")
"""The item kinds the Collector counts per receiver and per exporter, one counter each."""


def _items_per_second(counter: str, by: str, window: str = "5m") -> str:
    """Items per second over the counters `<counter>_<signal>` of every signal: one series per `by` value.

    Each counter is rated and summed on its own, tagged with its signal, and only then added up. A
    single `rate()` over a `__name__` regex would drop the metric names and leave the spans, metric
    points and log records series of one receiver with the same labels: Prometheus then refuses the
    whole expression ("vector cannot contain metrics with the same labelset") and the alert never
    fires. Each counter is read with and without `_total`: the Collector has exported both spellings
    (0.161 writes none), and `or` keeps one of them should both be in the window.
    """
    terms = [
        f"label_replace(sum by ({by}) (rate({counter}_{signal}[{window}]) or "
        f"rate({counter}_{signal}_total[{window}])), "
        f'"signal", "{signal}", "", "")'
        for signal in COLLECTOR_SIGNALS
    ]
    return f"sum by ({by}) (\n" + "\nor\n".join(terms) + "\n)"


COLLECTOR_JOB = "otel-collector"
"""The scrape job of the Collector's own metrics (monitoring/prometheus/prometheus.yml)."""

COLLECTOR_DOWN = AlertRule(
    alert="TikTicketsCollectorDown",
    expr=f'up{{job="{COLLECTOR_JOB}"}} == 0',
    duration="2m",
    severity="page",
    summary="Prometheus cannot reach the Collector: no telemetry arrives from anywhere",
    description=(
        "The Collector's own metrics endpoint ({{ $labels.instance }}) has not answered Prometheus' "
        "scrapes for 2 minutes (up = {{ $value }}): every signal the application sends goes through it, "
        "so every panel is going blank. Its signal-missing tickets are silenced while this fires "
        "(prometheus_rules/routing.py)."
    ),
    runbook="runbook-tiktickets-collector",
)

COLLECTOR_ALERTS = [
    COLLECTOR_DOWN,
    AlertRule(
        alert="TikTicketsCollectorExportFailing",
        expr=f"{_items_per_second('otelcol_exporter_send_failed', 'exporter')} > 0",
        duration="5m",
        severity="page",
        summary="The Collector cannot deliver telemetry through exporter {{ $labels.exporter }}",
        description=(
            "{{ $value | humanize }} items per second fail to export for good: the backend refused them "
            "(a permanent error, such as a record Loki finds too old, is not retried; the queued "
            "exporters retry every other error until the backend is back). That data is lost."
        ),
        runbook="runbook-tiktickets-collector",
    ),
    AlertRule(
        alert="TikTicketsCollectorRefusingData",
        expr=f"{_items_per_second('otelcol_receiver_refused', 'receiver')} > 0",
        duration="5m",
        severity="page",
        summary="The Collector refuses telemetry at receiver {{ $labels.receiver }}",
        description="{{ $value | humanize }} items per second are refused (memory limit?): data is lost.",
        runbook="runbook-tiktickets-collector",
    ),
]

QUEUE_FILLING_SHARE = 0.5
"""How full an exporter's sending queue may get before someone is woken: at half, the other half is
as long again as the outage has lasted so far (the queue fills at the pace data arrives)."""


def _queue(gauge: str) -> str:
    return f'{gauge}{{job="{COLLECTOR_JOB}"}}'


EXPORTER = "instance, exporter"
"""Queue alerts are per Collector and exporter: one stalled replica is not hidden by a busy one."""
SENT_WINDOW, STALLED_FOR = "2m", "3m"
"""An exporter has sent nothing over SENT_WINDOW, and that has held for STALLED_FOR: the page comes
5 minutes after its last delivery (a 5 m window with a 5 m `for` paged only after 10)."""


COLLECTOR_QUEUE_ALERTS = [
    AlertRule(
        alert="TikTicketsCollectorExportStalled",
        expr=(
            f"max by ({EXPORTER}) ({_queue('otelcol_exporter_queue_size')}) > 0\n"
            f"unless on ({EXPORTER})\n"
            f"{_items_per_second('otelcol_exporter_sent', EXPORTER, SENT_WINDOW)} > 0"
        ),
        duration=STALLED_FOR,
        severity="page",
        summary="The Collector has sent nothing through exporter {{ $labels.exporter }} for 5 minutes",
        description=(
            "Exporter {{ $labels.exporter }} holds {{ $value | humanize1024 }}B in its sending queue and "
            "has delivered nothing for 5 minutes: its backend is down or refuses it. Nothing is lost yet "
            "(the queue is on disk and retried until the backend is back), but the panels and searches "
            "that read that backend show nothing newer than the outage's start."
        ),
        runbook="runbook-tiktickets-collector",
    ),
    AlertRule(
        alert="TikTicketsCollectorQueueFilling",
        expr=(
            f"max by ({EXPORTER}) ({_queue('otelcol_exporter_queue_size')}\n"
            f"/ {_queue('otelcol_exporter_queue_capacity')}) > {QUEUE_FILLING_SHARE:g}"
        ),
        duration="5m",
        severity="page",
        summary=(
            "The Collector's sending queue for {{ $labels.exporter }} is "
            "{{ $value | humanizePercentage }} full"
        ),
        description=(
            "Exporter {{ $labels.exporter }}'s queue on disk is {{ $value | humanizePercentage }} full: "
            "its backend has been away long enough to fill half of it. Once full, every new span or "
            "log record for it is refused and lost (TikTicketsCollectorQueueFull)."
        ),
        runbook="runbook-tiktickets-collector",
    ),
    AlertRule(
        alert="TikTicketsCollectorQueueFull",
        expr=f"{_items_per_second('otelcol_exporter_enqueue_failed', EXPORTER)} > 0",
        duration="1m",
        severity="page",
        summary="The Collector drops telemetry for {{ $labels.exporter }}: its sending queue is full",
        description=(
            "{{ $value | humanize }} items per second find exporter {{ $labels.exporter }}'s queue full "
            "and are dropped: data is being lost now."
        ),
        runbook="runbook-tiktickets-collector",
    ),
]
"""The exporters' sending queues (monitoring/otel-collector/config.yaml): a backend outage is seen
while it costs nothing (nothing sent, the queue holding it), before it costs data (the queue half
full), and when it does (the queue refusing)."""

ALERTMANAGER_JOB = "alertmanager"
"""The scrape job of Alertmanager's own metrics (monitoring/prometheus/prometheus.yml)."""

NOTIFIED_BY = "integration, receiver_name"
"""receiver_name is there with `--enable-feature=receiver-name-in-metrics` (the compose command)."""
FAILED_WITHIN = "15m"
"""Any failed notification in this window pages, at once: a failing receiver fails once per flush of
its group (every group_interval, 5 m), so a rate that must stay above 0 for minutes never fired."""

NOTIFICATIONS_FAILING = AlertRule(
    alert="TikTicketsAlertmanagerNotificationsFailing",
    expr=(
        f"sum by ({NOTIFIED_BY}) (increase(alertmanager_notifications_failed_total"
        f'{{job="{ALERTMANAGER_JOB}"}}[{FAILED_WITHIN}])) > 0'
    ),
    severity="page",
    summary=("Alertmanager failed to notify {{ $labels.receiver_name }} through {{ $labels.integration }}"),
    description=(
        "{{ $value | humanize }} notifications to receiver {{ $labels.receiver_name }} failed "
        f"through {{{{ $labels.integration }}}} in the last {FAILED_WITHIN}: alerts fired and nobody "
        "was told. A receiver's URL file is missing or wrong, or the endpoint is down. If the "
        "failing receiver is the page one, this page cannot reach you through it either: Grafana's "
        "Alerting page (Alertmanager datasource) and Prometheus' /alerts show it."
    ),
    runbook="runbook-tiktickets-alertmanager",
)
"""Alertmanager watched by the Prometheus that feeds it: a receiver that fails is an outage of every
alert."""

ALERTMANAGER_ALERTS = [NOTIFICATIONS_FAILING]

OVERFLOW_FOR = "15m"


def _overflow() -> AlertRule:
    """Some emitter reached its cardinality limit: one alert per metric name and job.

    An OTel SDK, or the Collector's spanmetrics connector, keeps a fixed number of attribute sets per
    metric and folds every later one into ONE series labelled `otel_metric_overflow="true"`, without
    tenant_id: the tenants past the limit are hidden from every panel and every per-tenant rule for as
    long as it lasts. Any metric name may overflow, a contract signal or not, so the selector names
    none. The metric's name is copied into a `metric` label: an alert drops `__name__` from its
    labels, so two metrics of one job overflowing together would otherwise give two alerts with one
    labelset, which Prometheus refuses (the rule fails at every evaluation and never fires).

    A ticket, not a page: nothing is lost from the totals (the overflow series carries the hidden
    tenants' values, so All, the SLOs and the burn-rate alerts stay right); the per-tenant breakdown
    is wrong, and the fix is a configuration change and a restart, nothing to wake anyone for. It is
    never a blip that heals by itself (an SDK keeps every attribute set it has seen until it
    restarts; the connector until the set expires), so the alert waits only `OVERFLOW_FOR`, three
    times the 5 min for which the Collector's prometheus exporter keeps exporting a series after its
    last update (`metric_expiration`): a single overflowing export of a DELTA gauge (a burst of
    connections that falls back) opens no ticket, a lasting overflow does within a quarter hour.
    """
    overflowing = f'{{{OVERFLOW_LABEL}="{OVERFLOW_VALUE}"}}'
    return AlertRule(
        alert="TikTicketsTelemetryOverflow",
        expr=(
            f'label_replace(count by (__name__, job) ({overflowing}), "metric", "$1", "__name__", "(.+)") > 0'
        ),
        duration=OVERFLOW_FOR,
        severity="ticket",
        summary="{{ $labels.metric }} from {{ $labels.job }} is past its cardinality limit: tenants hidden",
        description=(
            "{{ $value }} series of {{ $labels.metric }} carry "
            f'{OVERFLOW_LABEL}="{OVERFLOW_VALUE}": the emitter ({{{{ $labels.job }}}}) reached its '
            "cardinality limit and folds every tenant past it into that series, without tenant_id, so "
            "those tenants are missing from every per-tenant panel. Raise the emitter's limit to the "
            "contract's (telemetry/contract.py; docs/telemetry-contract.md, \"Cardinality: what one "
            "tenant costs\"): an OTel SDK's View aggregationCardinalityLimit, the spanmetrics "
            "connector's aggregation_cardinality_limit; then restart it."
        ),
        runbook="runbook-tiktickets-telemetry-overflow",
    )


OVERFLOW_ALERT = _overflow()

PROMETHEUS_JOB = "prometheus"
"""The scrape job of Prometheus' own metrics (monitoring/prometheus/prometheus.yml)."""
EXEMPLAR_REACH_S = range_seconds(DASHBOARD_TIME_FROM)
"""The exemplars must reach back over a dashboard's default range (6 h): the P99 panel's dots, each a
link to a slow trace, are the metric -> trace correlation, and a dot missing from the start of the range
is a trace nobody finds from the panel."""


def _exemplars_short() -> AlertRule:
    """Prometheus keeps ONE ring of `storage.exemplars.max_exemplars` for every series: once it is full,
    each new exemplar pushes out the oldest, silently. How far back it reaches is its size divided by
    the pace exemplars arrive at, which grows with traffic and with every series that carries them (a
    per-tenant series with exemplars on multiplies it by the tenants: issue 21 measured 98 % of the
    ring taken by per-tenant counts no panel reads). The alert computes that reach from the pace over
    the last hour, so it warns before the ring is full and stays right after; with no exemplar
    appended there is no pace and no alert. A ticket: the traces are still in Jaeger, only the
    panel's links to them are gone."""
    appended = f'rate(prometheus_tsdb_exemplar_exemplars_appended_total{{job="{PROMETHEUS_JOB}"}}[1h])'
    size = f'prometheus_tsdb_exemplar_max_exemplars{{job="{PROMETHEUS_JOB}"}}'
    return AlertRule(
        alert="TikTicketsExemplarsShort",
        expr=f"{size} / on (job, instance) ({appended} > 0) < {EXEMPLAR_REACH_S:g}",
        duration="30m",
        severity="ticket",
        summary="Exemplars reach back only {{ $value | humanizeDuration }}: P99 trace links are lost",
        description=(
            "At the pace exemplars arrived over the last hour, Prometheus' exemplar ring reaches back "
            "{{ $value | humanizeDuration }}, less than a dashboard's default range "
            f"({EXEMPLAR_REACH_S / 3600:g} h): the latency panel's links to traces are gone from the start "
            "of the range. Raise storage.exemplars.max_exemplars in monitoring/prometheus/prometheus.yml, "
            "or find the series that started to carry exemplars (query_exemplars over the last minutes, "
            "per metric name)."
        ),
        runbook="runbook-tiktickets-exemplars-short",
    )


EXEMPLARS_SHORT_ALERT = _exemplars_short()

ALERT_GROUP = RuleGroup(
    name="tiktickets-alerts",
    # Alert conditions over recorded series and 5 m rates: once a minute is fine-grained enough.
    interval="1m",
    alerts=(
        *BURN_RATE_ALERTS,
        *COLLECTOR_ALERTS,
        *COLLECTOR_QUEUE_ALERTS,
        *ALERTMANAGER_ALERTS,
        *(_no_data(s.key) for s in CONTRACT.metrics if s.present_only_when is None),
        OVERFLOW_ALERT,
        EXEMPLARS_SHORT_ALERT,
    ),
)
