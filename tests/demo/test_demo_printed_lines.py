"""What `make demo` prints at its start and at its end, row by row from the README's knob table.

The start line says what the run does: each knob the README lists as shown there (DEMO_TENANTS,
DEMO_RPS, DEMO_ERROR_RATIO and DEMO_SLOW_RATIO as percentages, the troubled tenants, the instance
k of n, the OTLP protocol and endpoint). The end is two lines: the final status line, then
`demo: <why>; flushing telemetry`, where why is `interrupted` (Ctrl-C, SIGINT), `terminated` (SIGTERM,
`docker stop`) or `ran for <DEMO_DURATION as written>`. Each row's expected text is worked out from
the README, not copied from a run.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field

import pytest

from tests.demo.otlp_receiver import otlp_receiver
from tests.demo.test_demo_backend import run_demo, started_demo
from tests.demo.test_demo_output import STATUS


@dataclass(frozen=True)
class Start:
    id: str
    env: dict[str, str]
    said: list[str]
    not_said: list[str] = field(default_factory=list)


START_CASES = [
    Start(
        "defaults",
        {},
        [", 20 tenants, 20 requests/s, 0.1 % fail with a 5xx, OTLP http/protobuf to "],
        ["instance", "slower", "every request of"],
    ),
    Start("slow-ratio", {"DEMO_SLOW_RATIO": "0.3"}, [", 30 % are 1000 ms slower, OTLP "]),
    Start("slow-ratio-all", {"DEMO_SLOW_RATIO": "1"}, [", 100 % are 1000 ms slower, OTLP "]),
    Start("slow-ratio-fine", {"DEMO_SLOW_RATIO": "0.0005"}, [", 0.05 % are 1000 ms slower, OTLP "]),
    # 0.07 * 100 is 7.000000000000001 in floating point; 0.12345 keeps all five digits.
    Start("error-ratio-rounding", {"DEMO_ERROR_RATIO": "0.07"}, [", 7 % fail with a 5xx"]),
    Start("error-ratio-digits", {"DEMO_ERROR_RATIO": "0.12345"}, [", 12.345 % fail with a 5xx"]),
    Start("error-ratio-none", {"DEMO_ERROR_RATIO": "0"}, [", 0 % fail with a 5xx"]),
    Start("rps-fraction", {"DEMO_RPS": "0.5"}, [", 20 tenants, 0.5 requests/s, "]),
    Start("tenants", {"DEMO_TENANTS": "1"}, [", 1 tenants, 20 requests/s, "]),
    Start(
        "failing-first-and-last",
        {"DEMO_TENANTS": "3", "DEMO_FAILING_TENANTS": "tenant-001,tenant-003"},
        [", every request of tenant-001, tenant-003 fails, OTLP "],
        ["slower"],
    ),
    Start(
        "slow-tenant",
        {"DEMO_TENANTS": "3", "DEMO_SLOW_TENANTS": "tenant-003"},
        [", every request of tenant-003 is 1000 ms slower, OTLP "],
        ["fails,"],
    ),
    Start("instance-2-of-3", {"DEMO_INSTANCE": "2/3"}, ["demo: backend instance 2 of 3 on 127.0.0.1:"]),
    Start("instance-1-of-1", {"DEMO_INSTANCE": "1/1"}, ["demo: backend on 127.0.0.1:"], ["instance"]),
    Start("json", {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, [", OTLP http/json to "]),
]


@pytest.mark.parametrize("case", START_CASES, ids=lambda case: case.id)
def test_the_start_line_says_what_each_knob_makes_the_run_do(case: Start) -> None:
    with otlp_receiver() as (endpoint, _), started_demo(endpoint, **case.env) as (_, first):
        pass
    assert first.startswith("demo: backend ") and first.endswith(f" to {endpoint}\n"), first
    for text in case.said:
        assert text in first, f"{case.env}: {text!r} not in {first!r}"
    for text in case.not_said:
        assert text not in first, f"{case.env}: {text!r} in {first!r}"


def _the_end(stdout: str) -> tuple[str, str]:
    """The run's last two lines: (final status line, the line saying why it stops)."""
    lines = stdout.splitlines()
    assert len(lines) >= 3, stdout  # the start line, the final status line, the reason
    return lines[-2], lines[-1]


@pytest.mark.parametrize(("sent", "why"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")])
def test_a_signal_ends_with_the_final_status_then_its_own_reason(sent: signal.Signals, why: str) -> None:
    # No status line falls due during the run (every 10 min): the one before the reason is the end's own.
    with (
        otlp_receiver() as (endpoint, _),
        started_demo(endpoint, DEMO_TENANTS="2", DEMO_STATUS_INTERVAL="10m") as (process, first),
    ):
        time.sleep(1.0)
        process.send_signal(sent)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, out + err
    last_status, reason = _the_end(first + out)
    assert reason == f"demo: {why}; flushing telemetry", out
    figures = STATUS.match(last_status)
    assert figures is not None, out
    assert int(figures["sent"]) >= 2 and figures["seen"] == "2" and figures["tenants"] == "2", last_status


@pytest.mark.parametrize("duration", ["1500ms", "1.5s", "2s"])
def test_a_bounded_run_ends_by_naming_its_duration_as_written(duration: str) -> None:
    with otlp_receiver() as (endpoint, _):
        completed, seconds = run_demo(
            endpoint, DEMO_DURATION=duration, DEMO_STATUS_INTERVAL="10m", DEMO_TENANTS="2"
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    last_status, reason = _the_end(completed.stdout)
    assert reason == f"demo: ran for {duration}; flushing telemetry", completed.stdout
    assert STATUS.match(last_status), completed.stdout
    assert seconds < 15, seconds


def test_the_shortest_run_still_ends_with_its_status_and_reason() -> None:
    """DEMO_DURATION=1ms, the README's lower end: the run stops at once, and still says so."""
    with otlp_receiver() as (endpoint, _):
        completed, _ = run_demo(endpoint, DEMO_DURATION="1ms", DEMO_TENANTS="1")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert STATUS.match(completed.stdout.splitlines()[-2]), completed.stdout
    assert completed.stdout.splitlines()[-1] == "demo: ran for 1ms; flushing telemetry", completed.stdout


def test_the_start_line_masks_the_endpoints_query_but_names_its_host() -> None:
    """The README: every endpoint printed has its user, password and query masked (an API key is
    often passed as a query parameter); where the telemetry goes stays readable."""
    with otlp_receiver() as (endpoint, _), started_demo(f"{endpoint}/?api_key=s3cr3t-k3y&x=1") as (_, first):
        pass
    assert f" to {endpoint}/" in first, first
    assert "s3cr3t" not in first and "api_key" not in first, first
