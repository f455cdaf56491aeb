"""Contract-shaped OpenMetrics history for `promtool tsdb create-blocks-from openmetrics`.

24 h at 15 s of what the Collector's exporter would hold for TikTickets: route-level spanmetrics
(30 routes x 2 methods x 3 status codes, 15 histogram buckets), per-tenant calls (OK and ERROR),
and the three business metrics per tenant. Series names and labels come from the telemetry
contract, so the benchmark queries exactly what the dashboards query. The file is streamed to disk
series by series; nothing holds more than one series in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from telemetry.contract import (
    CONTRACT,
    SOCKETIO_CONNECTIONS,
    SPAN_CALLS,
    SPAN_DURATION,
    SPAN_KIND_SERVER,
    STATUS_CODE_ERROR,
    TENANT_SPAN_CALLS,
    WHATSAPP_MESSAGES_SENT,
    WHATSAPP_SESSIONS_ACTIVE,
)

STEP = 15
ROUTES = [f"/api/v1/resource{i:02d}" for i in range(30)]
METHODS = ("GET", "POST")
CODES = (
    ("200", "STATUS_CODE_UNSET", 0.95),
    ("404", "STATUS_CODE_UNSET", 0.03),
    ("500", STATUS_CODE_ERROR, 0.02),
)
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
SHARE_BELOW = (0.02, 0.05, 0.15, 0.35, 0.5, 0.62, 0.8, 0.9, 0.94, 0.96, 0.985, 0.995, 0.998, 0.999)
SERVICE = CONTRACT.resource.service_name
JOB = CONTRACT.resource.job


def _labels(pairs: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in pairs.items()) + "}"


def _counter(out: TextIO, name: str, labels: dict[str, str], per_second: float, times: range) -> None:
    prefix = f"{name}{_labels(labels)} "
    out.write("".join(f"{prefix}{int(per_second * (t - times.start))} {t}\n" for t in times))


def _gauge(out: TextIO, name: str, labels: dict[str, str], base: int, times: range) -> None:
    prefix = f"{name}{_labels(labels)} "
    # A slow daily wave, so the values move without being random.
    out.write("".join(f"{prefix}{base + (t // 3600) % 5} {t}\n" for t in times))


def _route_series() -> Iterator[tuple[dict[str, str], float]]:
    for index, route in enumerate(ROUTES):
        for method in METHODS:
            for code, status, share in CODES:
                labels = {
                    "service_name": SERVICE,
                    "span_name": f"{method} {route}",
                    "span_kind": SPAN_KIND_SERVER,
                    "status_code": status,
                    "http_route": route,
                    "http_request_method": method,
                    "http_response_status_code": code,
                    "job": JOB,
                    "instance": "backend-1",
                }
                yield labels, (1 + index % 7) * share


def write_openmetrics(path: Path, tenants: int, start: int, hours: int = 24) -> int:
    """Write the history ending at start + hours; returns the number of samples written."""
    times = range(start, start + hours * 3600, STEP)
    samples = 0
    with path.open("w", buffering=1 << 22) as out:
        out.write(f"# TYPE {SPAN_CALLS.prometheus_name.removesuffix('_total')} counter\n")
        for labels, rate in _route_series():
            _counter(out, SPAN_CALLS.prometheus_name, labels, rate, times)
            samples += len(times)
        out.write(f"# TYPE {SPAN_DURATION.prometheus_name} histogram\n")
        for labels, rate in _route_series():
            prefix = {
                le: f"{SPAN_DURATION.series('bucket')}{_labels({**labels, 'le': le})} "
                for le in map(str, BOUNDS)
            }
            inf = f"{SPAN_DURATION.series('bucket')}{_labels({**labels, 'le': '+Inf'})} "
            count = f"{SPAN_DURATION.series('count')}{_labels(labels)} "
            total = f"{SPAN_DURATION.series('sum')}{_labels(labels)} "
            lines = []
            for t in times:
                n = int(rate * (t - start))
                lines += [
                    f"{prefix[str(b)]}{int(n * s)} {t}\n" for b, s in zip(BOUNDS, SHARE_BELOW, strict=True)
                ]
                lines += [f"{inf}{n} {t}\n", f"{count}{n} {t}\n", f"{total}{n * 0.12:.1f} {t}\n"]
            out.write("".join(lines))
            samples += len(times) * (len(BOUNDS) + 3)
        out.write(f"# TYPE {TENANT_SPAN_CALLS.prometheus_name.removesuffix('_total')} counter\n")
        for tenant in range(tenants):
            for status, share in (("STATUS_CODE_UNSET", 0.98), (STATUS_CODE_ERROR, 0.02)):
                labels = {
                    "service_name": SERVICE,
                    "span_name": "GET /api/v1/resource00",
                    "span_kind": SPAN_KIND_SERVER,
                    "status_code": status,
                    "tenant_id": f"tenant-{tenant:04d}",
                    "job": JOB,
                    "instance": "backend-1",
                }
                _counter(
                    out, TENANT_SPAN_CALLS.prometheus_name, labels, (0.1 + tenant % 10 / 10) * share, times
                )
                samples += len(times)
        for signal, base in ((WHATSAPP_SESSIONS_ACTIVE, 1), (SOCKETIO_CONNECTIONS, 5)):
            out.write(f"# TYPE {signal.prometheus_name} gauge\n")
            for tenant in range(tenants):
                labels = {"tenant_id": f"tenant-{tenant:04d}", "job": JOB, "instance": "backend-1"}
                if "whatsapp_id" in signal.labels:
                    labels["whatsapp_id"] = "wa-1"
                _gauge(out, signal.prometheus_name, labels, base + tenant % 40, times)
                samples += len(times)
        out.write(f"# TYPE {WHATSAPP_MESSAGES_SENT.prometheus_name.removesuffix('_total')} counter\n")
        for tenant in range(tenants):
            labels = {
                "tenant_id": f"tenant-{tenant:04d}",
                "whatsapp_id": "wa-1",
                "job": JOB,
                "instance": "backend-1",
            }
            _counter(out, WHATSAPP_MESSAGES_SENT.prometheus_name, labels, 0.05 + tenant % 5 / 20, times)
            samples += len(times)
        out.write("# EOF\n")
    return samples
