"""The end of a bounded demo run: what falls due after DEMO_DURATION is not the run's.

demo.js: "The clock stops at DEMO_DURATION: the stop timer may fire late on a busy machine, and what
falls due after the end is not the run's (5 s at 400/s is 2,000 requests, not 2,012 because the stop
came 30 ms late)." A busy machine is made certain here: the demo is stopped (SIGSTOP) half a second
before its end and continued a second and a half later, so its pacing tick and its stop timer are
both overdue when it runs again, the tick first (it fell due first).
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
from time import sleep

from dashboards_as_code.external_tools import NODE
from monitoring.tools import DEMO
from tests.demo.otlp_receiver import otlp_receiver
from tests.demo.test_demo_backend import demo_environment, run_demo
from tests.tooling import require_tool

RPS = 100
RUN_SECONDS = 3
TENANTS = 3
"""Each tenant's warm-up message is one request more than the paced ones."""
STOPPED_AT, STOPPED_FOR = 2.5, 1.5
FINAL_COUNT = re.compile(r"^demo: (?P<sent>\d+) requests sent", re.MULTILINE)


def test_a_stop_that_fires_late_sends_nothing_that_fell_due_after_the_end() -> None:
    """At 100/s for 3 s the run is at most 300 paced requests (and the warm-up's 3), however late the
    tick and the stop run: a clock that went on past the end would send up to a second's worth more
    (350 and over here), a rate past the end that the rate panels would show."""
    node, script = require_tool(NODE), require_tool(DEMO)
    with otlp_receiver() as (endpoint, _):
        process = subprocess.Popen(
            [node, script],
            env=demo_environment(
                endpoint,
                DEMO_DURATION=f"{RUN_SECONDS}s",
                DEMO_TENANTS=str(TENANTS),
                DEMO_SOCKET_TENANTS="0",
                DEMO_RPS=str(RPS),
                DEMO_STATUS_INTERVAL="10s",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            assert "backend on 127.0.0.1" in process.stdout.readline()  # its clock starts here
            sleep(STOPPED_AT)
            process.send_signal(signal.SIGSTOP)
            sleep(STOPPED_FOR)
            process.send_signal(signal.SIGCONT)
            out, err = process.communicate(timeout=RUN_SECONDS + 30)
        finally:
            process.send_signal(signal.SIGCONT)
            process.kill()
    assert process.returncode == 0, err
    assert f"ran for {RUN_SECONDS}s; flushing telemetry" in out
    counts = FINAL_COUNT.findall(out)
    assert counts, out
    sent = int(counts[-1])
    most = TENANTS + RPS * RUN_SECONDS
    assert TENANTS + RPS * RUN_SECONDS // 2 <= sent <= most, (
        f"DEMO_RPS={RPS} for {RUN_SECONDS}s, stopped from {STOPPED_AT}s for {STOPPED_FOR}s: {sent} "
        f"requests sent, at most {most} expected (nothing that fell due after the end)"
    )


def test_a_second_signal_during_the_flush_does_not_stop_the_run_twice() -> None:
    """Ctrl-C pressed twice, or a service manager's SIGTERM after a SIGINT, while the final flush waits on
    a Collector that does not answer: the run stops once, with one final status line and one "flushing
    telemetry" (a second stop would print its figures again and flush a second time over the first)."""
    node, script = require_tool(NODE), require_tool(DEMO)
    with socket.socket() as silent:  # accepts connections (the kernel does), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        process = subprocess.Popen(
            [node, script],
            env=demo_environment(
                endpoint,
                DEMO_TENANTS=str(TENANTS),
                DEMO_STATUS_INTERVAL="10s",
                OTEL_EXPORTER_OTLP_TIMEOUT="3000",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            assert "backend on 127.0.0.1" in process.stdout.readline()
            sleep(1)
            process.send_signal(signal.SIGINT)
            sleep(0.05)  # within the 300 ms the demo gives in-flight requests before it flushes
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
    assert out.count("flushing telemetry") == 1 and "demo: interrupted; flushing telemetry" in out, out + err
    assert len(FINAL_COUNT.findall(out)) == 1, out


SERVER_KINDS = (2, "SPAN_KIND_SERVER")
"""OTLP's server span kind, as JSON gives it (the number) or as protobuf's JSON names it."""


def test_a_run_that_ends_with_slow_requests_in_flight_exports_a_span_for_each_request_sent() -> None:
    """The stop waits for the requests still in flight before the flush (demo.js, stop()): a request
    answered after the flush has no exported server span, and then the span metrics count fewer
    requests than the status line says were sent. Every request is slowed by a second here
    (DEMO_SLOW_RATIO=1), so at the end of a 3 s run at 40/s a second's worth is outstanding: a stop
    that did not wait for them (an answer counted twice makes the in-flight count reach 0 too early)
    loses their spans."""
    with otlp_receiver() as (endpoint, received):
        run, _ = run_demo(
            endpoint,
            DEMO_DURATION="3s",
            DEMO_RPS="40",
            DEMO_SLOW_RATIO="1",
            DEMO_TENANTS="4",
            DEMO_SOCKET_TENANTS="0",
        )
        server_spans = sum(1 for _, span in received.spans() if span.get("kind") in SERVER_KINDS)
    assert run.returncode == 0, run.stderr
    counts = FINAL_COUNT.findall(run.stdout)
    assert counts, run.stdout
    sent = int(counts[-1])
    assert server_spans == sent, (
        f"the status line says {sent} requests sent, the collector received {server_spans} "
        "server spans: the requests in flight at the stop were not waited for"
    )


IDLE_RUN_SECONDS = 2
IDLE_STOP_SLACK_SECONDS = 8
"""Start-up, the last requests' answers and the flush on top of the run: a clean 2 s run takes about
3 s in all on a loaded 2-core machine (three runs: 2.7 to 3.1 s), so 8 s is over twice that headroom;
a stop that sat out its whole in-flight wait (10 s) could not finish before 2 + 10 = 12 s."""


def test_a_stop_with_nothing_in_flight_does_not_wait_for_the_in_flight_bound() -> None:
    """The stop waits for in-flight requests at most 10 s (IN_FLIGHT_WAIT_MS), and only while there
    are some: with none outstanding (a low rate, no slow requests, no sockets) a 2 s run ends soon
    after its 2 s. A stop that always sat out the whole bound would make every run 10 s longer, and
    eat most of the 15 s compose and `make stack` allow after SIGTERM, leaving the flush 5 s."""
    with otlp_receiver() as (endpoint, _):
        run, seconds = run_demo(
            endpoint,
            DEMO_DURATION=f"{IDLE_RUN_SECONDS}s",
            DEMO_RPS="2",
            DEMO_TENANTS="2",
            DEMO_SOCKET_TENANTS="0",
        )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"ran for {IDLE_RUN_SECONDS}s; flushing telemetry" in run.stdout
    assert seconds < IDLE_RUN_SECONDS + IDLE_STOP_SLACK_SECONDS, (
        f"a {IDLE_RUN_SECONDS}s run with nothing in flight took {seconds:.1f} s: the stop waited "
        "for requests that were not there"
    )
