"""The demo backend's knobs against hostile values: each is refused with exit code 2 and one line that
names it, never a Node stack trace, never a credential; an endpoint's secrets stay off every line.

Node's timers take at most 2^31-1 ms and turn anything longer into 1 ms, so durations, intervals and
the request rate are bounded; an OTLP endpoint the SDK cannot use would silently become localhost,
so it is refused too. The table runs the real `node demo.js`; refused values exit before the SDK loads.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dashboards_as_code.external_tools import NODE
from monitoring.tools import DEMO
from tests.demo.otlp_receiver import otlp_receiver
from tests.demo.test_demo_backend import run_demo, started_demo
from tests.local_http import free_port
from tests.tooling import require_tool

SECRET = "S3cretPw"
MAX_TIMER_MS = 2**31 - 1
STACK_FRAME = re.compile(r"^\s+at ", re.MULTILINE)


@dataclass(frozen=True)
class Refused:
    """A knob set to `value`: refused, with every fragment of `says` in the message."""

    name: str
    value: str
    says: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


CASES = [
    Refused("DEMO_DURATION", "600h", ("596h", "2147483647 ms")),
    Refused("DEMO_DURATION", f"{MAX_TIMER_MS + 1}ms", ("596h",)),
    Refused("DEMO_DURATION", "0s", ("from 1ms",)),
    Refused("DEMO_STATUS_INTERVAL", "1ms", ("from 100ms",)),
    Refused("DEMO_STATUS_INTERVAL", "9999h", ("596h",)),
    Refused("DEMO_RPS", "1e-7", ("from 0.001 to 2000",)),
    Refused("DEMO_RPS", "0", ("from 0.001",)),
    Refused("DEMO_RPS", "-1", ("from 0.001",)),
    Refused("DEMO_RPS", "abc", ('"abc"',)),
    Refused("DEMO_RPS", "1e9", ("to 2000",)),
    Refused("DEMO_RPS", "Infinity", ("to 2000",)),
    Refused("DEMO_INSTANCE", "3/2", ("1 <= k <= n <= 100",)),
    Refused("DEMO_INSTANCE", "0/1", ("1 <= k <= n <= 100",)),
    Refused("DEMO_INSTANCE", "1/101", ("1 <= k <= n <= 100",)),
    Refused("DEMO_INSTANCE", "2", ('"2"',)),
    Refused("DEMO_PORT", "abc", ("0 to 65535",)),
    Refused("DEMO_PORT", "70000", ("0 to 65535",)),
    Refused("DEMO_PORT", "-1", ("0 to 65535",)),
    Refused("DEMO_PORT", "80.5", ("0 to 65535",)),
    Refused("OTEL_METRIC_EXPORT_INTERVAL", "3000000000", (str(MAX_TIMER_MS),)),
    Refused("OTEL_BSP_SCHEDULE_DELAY", "soon", ("milliseconds",)),
    Refused("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url", ("is not a URL", "http://localhost:4318")),
    Refused("OTEL_EXPORTER_OTLP_ENDPOINT", f"ftp://user:{SECRET}@collector/?token={SECRET}", ('"ftp"',)),
    Refused("OTEL_EXPORTER_OTLP_ENDPOINT", f"ftp://collector:4318/#token={SECRET}", ('"ftp"', "/#***")),
    Refused("OTEL_EXPORTER_OTLP_ENDPOINT", "http://:99999", ("is not a URL",)),
    Refused("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:0", ("port 0",)),
    Refused("OTEL_EXPORTER_OTLP_ENDPOINT", f"user:{SECRET}@collector:4318", ("***@collector:4318",)),
    Refused("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"https://u:{SECRET}@:4318/v1/traces", ("not a URL",)),
    Refused("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "localhost:4318", ('"localhost"',)),
    # A tenant the demo does not have would fail or slow nobody, in silence.
    Refused(
        "DEMO_FAILING_TENANTS",
        "tenant-009",
        ("tenant-001 to tenant-005", '"tenant-009"'),
        {"DEMO_TENANTS": "5"},
    ),
    Refused("DEMO_FAILING_TENANTS", "tenant-2", ("tenant-001 to tenant-005",), {"DEMO_TENANTS": "5"}),
    Refused("DEMO_FAILING_TENANTS", "tenant-000", ("tenant-001",), {"DEMO_TENANTS": "5"}),
    Refused("DEMO_SLOW_TENANTS", " , ", ("comma-separated",)),
    Refused("DEMO_SLOW_TENANTS", "tenant-001,acme", ('"tenant-001,acme"',)),
    Refused("DEMO_SLOW_RATIO", "30%", ("from 0 to 1",)),
]


def _id(case: Refused) -> str:
    return f"{case.name}={case.value}"


def assert_clean_refusal(completed: subprocess.CompletedProcess[str], name: str) -> None:
    """Exit 2, the knob named on one line, no stack trace, no warning, nothing started, no secret."""
    output = completed.stdout + completed.stderr
    assert completed.returncode == 2, output
    assert name in completed.stderr, completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert not STACK_FRAME.search(output) and "Error:" not in output and "Warning" not in output, output
    assert "backend on" not in completed.stdout  # refused before anything started
    assert SECRET not in output


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_hostile_knob_is_refused_by_name(case: Refused) -> None:
    completed, _ = run_demo("http://127.0.0.1:9", **{case.name: case.value}, **case.env)
    assert_clean_refusal(completed, case.name)
    for fragment in case.says:
        assert fragment in completed.stderr, completed.stderr


@pytest.mark.parametrize("name", ["DEMO_FAILING_TENANTS", "DEMO_SLOW_TENANTS"])
def test_the_first_and_the_last_tenant_can_be_troubled(name: str) -> None:
    """The range the refusal states, tenant-001 to tenant-N, holds both its ends: with DEMO_TENANTS=3,
    `tenant-001,tenant-003` starts the demo, and its first line names both as troubled."""
    with otlp_receiver() as (endpoint, _):
        completed, _ = run_demo(
            endpoint, DEMO_TENANTS="3", DEMO_DURATION="1s", **{name: "tenant-001,tenant-003"}
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "every request of tenant-001, tenant-003 " in completed.stdout, completed.stdout


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that something is listening on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_port_in_use_is_named_not_a_stack_trace(busy_port: int) -> None:
    completed, _ = run_demo("http://127.0.0.1:9", DEMO_PORT=str(busy_port), DEMO_DURATION="5s")
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert f"DEMO_PORT {busy_port} cannot be used: EADDRINUSE" in completed.stderr
    assert not STACK_FRAME.search(completed.stderr) and "Error:" not in completed.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("DEMO_DURATION", f"{MAX_TIMER_MS}ms"), ("DEMO_STATUS_INTERVAL", "596h"), ("DEMO_RPS", "0.001")],
)
def test_the_longest_timer_is_accepted_and_does_not_fire_at_once(name: str, value: str) -> None:
    """At 2^31-1 ms a timer still waits: the run goes on until it is stopped, no overflow warning."""
    node, script = require_tool(NODE), require_tool(DEMO)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DEMO_"))}
    with otlp_receiver() as (endpoint, _):  # a receiver, so the flush at the end is quick
        env = {**clean, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "DEMO_TENANTS": "2", name: value}
        process = subprocess.Popen(
            [node, script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None
            assert "backend on 127.0.0.1" in process.stdout.readline()
            time.sleep(1)
            assert process.poll() is None, "stopped by itself: the timer overflowed"
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=20)
        finally:
            process.kill()
    assert process.returncode == 0, out + err
    assert "TimeoutOverflowWarning" not in err and "ran for" not in out, out + err


PASSWORDS = [
    SECRET,
    "Pw1st@Pw2nd",  # an '@' in the password: the userinfo ends at the last '@', not the first
    "Pw1st:Pw2nd@Pw3rd",  # a ':' too: only the first one separates the user from the password
    "Pw1st%40Pw2nd",  # the '@' percent-encoded, as RFC 3986 asks
]
"""Passwords as users write them into OTEL_EXPORTER_OTLP_ENDPOINT; Node's URL parser takes each as
one password (the run below really sends), so each must be hidden whole."""


def password_fragments(password: str) -> list[str]:
    """Every piece of the password between its separators, and the whole: none may be printed."""
    return [password, *(piece for piece in re.split(r"[@:]|%40", password) if piece)]


@pytest.mark.parametrize("password", PASSWORDS)
def test_an_endpoints_credentials_never_reach_a_status_line(password: str) -> None:
    """The start line and every status line name the endpoint with its userinfo replaced by `***`,
    whatever the password holds: a password masked only up to its first '@' leaves the rest of it
    (`http://***@Pw2nd@127.0.0.1:...`) on the terminal and in every log that keeps the demo's output."""
    headers = f"authorization=Bearer {SECRET}-header"
    with otlp_receiver() as (endpoint, received):
        with_userinfo = endpoint.replace("http://", f"http://collector:{password}@", 1)
        completed, _ = run_demo(
            with_userinfo,
            OTEL_EXPORTER_OTLP_HEADERS=headers,
            DEMO_DURATION="2s",
            DEMO_STATUS_INTERVAL="200ms",
            DEMO_TENANTS="2",
        )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    status = [line for line in completed.stdout.splitlines() if "requests sent" in line]
    assert len(status) >= 3, completed.stdout
    masked = endpoint.replace("http://", "http://***@", 1)
    leaked = [fragment for fragment in password_fragments(password) if fragment in output]
    assert not leaked, f"password fragments {leaked} printed:\n{output}"
    shown = re.compile(rf"OTLP [a-z/]+ to {re.escape(masked)}/?(?:[\s)]|$)")
    lines = [*status, completed.stdout.splitlines()[0]]
    assert all(shown.search(line) for line in lines), completed.stdout
    assert SECRET not in output
    assert received.spans()  # the run was real: the masked endpoint is only what is shown


def test_a_tenant_list_may_have_a_space_after_each_comma() -> None:
    """`DEMO_FAILING_TENANTS="tenant-001, tenant-003"`, as lists are commonly written: each name is taken
    without the space around it, not refused as a tenant the demo does not have."""
    with otlp_receiver() as (endpoint, _):
        completed, _ = run_demo(
            endpoint, DEMO_TENANTS="3", DEMO_DURATION="1s", DEMO_FAILING_TENANTS=" tenant-001 , tenant-003 "
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "every request of tenant-001, tenant-003 fails" in completed.stdout, completed.stdout


LISTEN = "0A"
"""/proc/net/tcp's state of a listening socket."""


def _listeners(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp{,6} writes them) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        for line in path.read_text().splitlines()[1:] if path.exists() else []:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.rpartition(":")
            if state == LISTEN and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_the_backend_listens_on_loopback_only() -> None:
    """The start line says `backend on 127.0.0.1:<port>`: the demo's backend answers this machine alone,
    not every interface (a demo on a laptop is no server for the network it is on)."""
    port = free_port()
    with (
        otlp_receiver() as (endpoint, _),
        started_demo(endpoint, DEMO_TENANTS="2", DEMO_PORT=str(port)) as (
            process,
            first,
        ),
    ):
        listening = _listeners(port)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert first.startswith(f"demo: backend on 127.0.0.1:{port},"), first + out + err
    assert listening == {"0100007F"}, f"listening on {listening} (0100007F is 127.0.0.1)"


def test_without_a_port_two_demos_run_side_by_side() -> None:
    """DEMO_PORT's default is 0, "any free port" (README): two demos started at once on one machine
    (two instances, `make demo` beside `make stack`) each get a port, neither is refused as busy."""
    with otlp_receiver() as (endpoint, _), ExitStack() as stack:
        started = [stack.enter_context(started_demo(endpoint, DEMO_TENANTS="2")) for _ in range(2)]
        firsts = [first for _, first in started]
        for process, _ in started:
            process.send_signal(signal.SIGTERM)
        ends = [process.communicate(timeout=30) for process, _ in started]
        codes = [process.returncode for process, _ in started]
    ports = [re.match(r"demo: backend on 127\.0\.0\.1:(\d+),", first) for first in firsts]
    assert all(ports), f"{firsts} {ends}"
    assert len({found[1] for found in ports if found}) == 2, firsts
    assert codes == [0, 0], ends


def test_an_https_collector_endpoint_is_accepted() -> None:
    """An `https://` Collector endpoint, which the refusal itself names as allowed ("an http(s) URL"),
    starts the demo: it prints its start line naming that endpoint, and is not refused with exit 2.
    Nothing listens there (no TLS server is needed to start); the demo is killed once it has started.
    (Planted-bug sample 14, m3 M5)"""
    endpoint = f"https://127.0.0.1:{free_port()}"
    with started_demo(endpoint, DEMO_TENANTS="1") as (process, first):
        if not first:  # it stopped before starting: say how
            out, err = process.communicate(timeout=30)
            pytest.fail(f"{endpoint} did not start the demo (exit {process.returncode}): {out}{err}")
        running = process.poll() is None
    assert first.startswith("demo: backend on 127.0.0.1:"), first
    assert first.rstrip().endswith(f", OTLP http/protobuf to {endpoint}"), first
    assert running, f"{endpoint}: the demo stopped right after its start line"
