"""A stand-in for the Collector's `prometheus` exporter: the contract's series, as that exporter writes them.

Shape (shared/reference/telemetry-contract.md §2.2): OpenMetrics text, `job` = namespace/name and
`instance` from the resource (scraped with honor_labels), no `otel_scope_*` labels (turned off),
exemplars with `trace_id`/`span_id` on counters and histogram buckets of the spanmetrics
connectors, UpDownCounters as gauges, `target_info`. Values move with wall-clock time so that
rate() has something to measure. Every label a contract signal declares must get a value from
LABEL_VALUES, so a label added to the contract without a fixture value fails loudly here.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from dashboards_as_code.contract.model import MetricSignal, PromType
from telemetry.contract import (
    CONTRACT,
    LATENCY_THRESHOLD_SECONDS,
    SOCKETIO_CONNECTIONS,
    SPAN_CALLS,
    SPAN_DURATION,
    TENANT_SLOW_SPAN_CALLS,
    TENANT_SPAN_CALLS,
    WHATSAPP_MESSAGES_SENT,
    WHATSAPP_SESSIONS_ACTIVE,
)

TENANTS = ("acme", "globex", "initech", "umbrella", "hooli")
ROUTES = ("/api/tickets", "/api/messages", "/api/contacts/:id")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
ERROR_SHARE = {"acme": 0.02, "globex": 0.1, "initech": 0.0, "umbrella": 0.3, "hooli": 0.05}
"""Share of each tenant's server spans (requests served) with status ERROR. initech has had no error
yet, so it has no ERROR series at all: spanmetrics creates a series at its first span."""
CLIENT_ERROR_SHARE = 0.5
"""Share of client spans (outgoing calls) with status ERROR, far from every server share: an error
ratio that counted client spans would show a different number than the data's."""
TENANT_SPANS_PER_SECOND = 40.0
"""Spans per second per tenant and span kind (equal traffic). Enough that within the few seconds a test
Prometheus scrapes, each tenant passes the per-tenant alerts' and the Tenants dashboard's traffic
floor (prometheus_rules/tenant_slo.py: 100 requests seen in the last hour)."""
LATENCIES = (0.004, 0.02, 0.04, 0.08, 0.12, 0.3, 0.6, 1.2)
"""Request durations in seconds, equally likely: p50 between 0.08 and 0.12, p99 around 1.2."""

SLOW_TENANTS = tuple(tenant for tenant in TENANTS if tenant != "initech")
"""Tenants with requests over the latency threshold: each its share of LATENCIES over it. initech has
had none yet, so, as the Collector's per-tenant slow count writes it, it has no series at all."""

NO_SESSION = "hooli"
"""A tenant whose every WhatsApp session is disconnected (its sessions' gauge reads 0)."""

RESOURCE = {"job": CONTRACT.resource.job, "instance": "backend-1"}
SCOPES: dict[str, dict[str, str]] = {"spanmetrics": {}, "backend": {}}
"""No otel_scope_* labels: the stack's exporter runs with `without_scope_info: true` (seen on the real
Collector v0.161.0, tools/otelcol); the dashboards must not depend on them either way."""


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _trace_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def span_series(signal: MetricSignal) -> Iterator[tuple[dict[str, str], float]]:
    """(labels, requests per second) for each series of a spanmetrics signal."""
    base = {"service_name": CONTRACT.resource.service_name, **RESOURCE}
    if signal is TENANT_SPAN_CALLS:
        for tenant, kind in itertools.product(TENANTS, ("SPAN_KIND_SERVER", "SPAN_KIND_CLIENT")):
            failing = ERROR_SHARE[tenant] if kind == "SPAN_KIND_SERVER" else CLIENT_ERROR_SHARE
            for status, share in (("STATUS_CODE_ERROR", failing), ("STATUS_CODE_UNSET", 1 - failing)):
                if not share:
                    continue
                yield (
                    {
                        **base,
                        "tenant_id": tenant,
                        "span_kind": kind,
                        "status_code": status,
                        "span_name": "GET /api/tickets",
                    },
                    TENANT_SPANS_PER_SECOND * share,
                )
        return
    for route, method in itertools.product(ROUTES, ("GET", "POST")):
        for code, status, rate in (("200", "STATUS_CODE_UNSET", 3.0), ("500", "STATUS_CODE_ERROR", 0.2)):
            yield (
                {
                    **base,
                    "http_route": route,
                    "http_request_method": method,
                    "http_response_status_code": code,
                    "status_code": status,
                    "span_kind": "SPAN_KIND_SERVER",
                    "span_name": f"{method} {route}",
                },
                rate,
            )


def server_error_share(tenants: Iterable[str]) -> float:
    """The share of these tenants' server spans (requests served) with status ERROR, in this data."""
    selected = set(tenants)
    served = [
        (labels["status_code"], rate)
        for labels, rate in span_series(TENANT_SPAN_CALLS)
        if labels["span_kind"] == "SPAN_KIND_SERVER" and labels["tenant_id"] in selected
    ]
    return sum(rate for status, rate in served if status == "STATUS_CODE_ERROR") / sum(r for _, r in served)


class CollectorExporter:
    """Produces one OpenMetrics exposition per scrape."""

    def __init__(self, seed: int = 7, *, duration_unit: str = "seconds") -> None:
        self.started = time.time() - 600  # as if the backend had been running for ten minutes
        self.rng = random.Random(seed)
        self.duration_unit = duration_unit
        """"milliseconds" plays a spanmetrics connector left at its default unit (ms)."""

    def _duration(self, name: str) -> str:
        return name.replace("_seconds", f"_{self.duration_unit}")

    def _elapsed(self) -> float:
        return time.time() - self.started

    def _exemplar(self, value: float) -> str:
        trace_id = _trace_id(self.rng)
        span_id = f"{self.rng.getrandbits(64):016x}"
        return f' # {{span_id="{span_id}",trace_id="{trace_id}"}} {value} {time.time():.3f}'

    def _check_labels(self, signal: MetricSignal, labels: dict[str, str]) -> None:
        missing = set(signal.labels) - set(labels)
        if missing:
            raise AssertionError(f"fixture gives no value for {signal.key} labels {sorted(missing)}")

    def exposition(self) -> str:
        elapsed = self._elapsed()
        lines: list[str] = []
        for signal in (SPAN_CALLS, TENANT_SPAN_CALLS):
            family = signal.prometheus_name.removesuffix("_total")
            lines.append(f"# TYPE {family} counter")
            for labels, rate in span_series(signal):
                self._check_labels(signal, labels)
                full = {**labels, **SCOPES["spanmetrics"]}
                lines.append(
                    f"{signal.prometheus_name}{_labels(full)} {rate * elapsed:.6f}{self._exemplar(1)}"
                )
        lines.append(f"# TYPE {self._duration(SPAN_DURATION.prometheus_name)} histogram")
        for labels, rate in span_series(SPAN_DURATION):
            self._check_labels(SPAN_DURATION, labels)
            total = rate * elapsed
            full = {**labels, **SCOPES["spanmetrics"]}
            lower = 0.0
            for bound in (*BUCKETS, float("inf")):
                share = sum(1 for v in LATENCIES if v <= bound) / len(LATENCIES)
                le = "+Inf" if bound == float("inf") else repr(float(bound))
                inside = [v for v in LATENCIES if lower < v <= bound]  # an exemplar lies in its bucket
                exemplar = self._exemplar(inside[0]) if inside else ""
                lower = bound
                bucket = self._duration(SPAN_DURATION.series("bucket")) + _labels({**full, "le": le})
                lines.append(f"{bucket} {total * share:.1f}{exemplar}")
            mean = sum(LATENCIES) / len(LATENCIES)
            lines.append(f"{self._duration(SPAN_DURATION.series('sum'))}{_labels(full)} {total * mean:.3f}")
            lines.append(f"{self._duration(SPAN_DURATION.series('count'))}{_labels(full)} {total:.1f}")
        slow = TENANT_SLOW_SPAN_CALLS
        over = sum(1 for v in LATENCIES if v > float(LATENCY_THRESHOLD_SECONDS)) / len(LATENCIES)
        lines.append(f"# TYPE {slow.prometheus_name.removesuffix('_total')} counter")
        for tenant in SLOW_TENANTS:
            labels = {
                "service_name": CONTRACT.resource.service_name,
                "job": RESOURCE["job"],
                "tenant_id": tenant,
            }
            self._check_labels(slow, labels)
            total = TENANT_SPANS_PER_SECOND * over * elapsed
            lines.append(f"{slow.prometheus_name}{_labels({**labels, **SCOPES['spanmetrics']})} {total:.6f}")
        gauges: dict[MetricSignal, Callable[[int, int], float]] = {
            # hooli's WhatsApp connections are down: users working, no message can leave.
            WHATSAPP_SESSIONS_ACTIVE: lambda i, j: (
                0.0 if TENANTS[i] == NO_SESSION else float(1 + (i + j) % 3)
            ),
            SOCKETIO_CONNECTIONS: lambda i, j: float(10 * (i + 1) + int(elapsed) % 5),
        }
        for signal, value in gauges.items():
            lines.append(f"# TYPE {signal.prometheus_name} gauge")
            for i, tenant in enumerate(TENANTS):
                numbers = ("wa-1", "wa-2") if "whatsapp_id" in signal.labels else ("",)
                for j, number in enumerate(numbers):
                    labels = {**RESOURCE, "tenant_id": tenant, **({"whatsapp_id": number} if number else {})}
                    self._check_labels(signal, labels)
                    lines.append(
                        f"{signal.prometheus_name}{_labels({**labels, **SCOPES['backend']})} {value(i, j)}"
                    )
        sent = WHATSAPP_MESSAGES_SENT
        lines.append(f"# TYPE {sent.prometheus_name.removesuffix('_total')} counter")
        for i, tenant in enumerate(TENANTS):
            labels = {**RESOURCE, "tenant_id": tenant, "whatsapp_id": "wa-1"}
            self._check_labels(sent, labels)
            lines.append(
                f"{sent.prometheus_name}{_labels({**labels, **SCOPES['backend']})} {(i + 1) * elapsed:.1f}"
            )
        lines.append("# TYPE target_info gauge")
        lines.append(f"target_info{_labels({**RESOURCE, 'deployment_environment_name': 'test'})} 1")
        assert {s.prom_type for s in CONTRACT.metrics} <= {
            PromType.COUNTER,
            PromType.GAUGE,
            PromType.HISTOGRAM,
        }
        lines.append("# EOF")
        return "\n".join(lines) + "\n"


class _Handler(BaseHTTPRequestHandler):
    exporter: CollectorExporter

    def do_GET(self) -> None:
        body = self.exporter.exposition().encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: Prometheus scrapes every second."""


def serve(exporter: CollectorExporter) -> tuple[ThreadingHTTPServer, int]:
    handler = type("Handler", (_Handler,), {"exporter": exporter})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]
