"""The demo's refusals word for word, for knob values the bounds tests do not try: a fraction where a
whole number is meant, a duration spelled in a way the README does not give, an OTLP protocol the demo
does not speak, and an endpoint of each signal. Each run
exits before the SDK loads, so each takes a fraction of a second."""

from __future__ import annotations

import os
import subprocess

import pytest

from dashboards_as_code.external_tools import NODE
from monitoring.tools import DEMO
from tests.tooling import require_tool

SECRET = "S3cretPw"


def refused(**env: str) -> str:
    """The demo's stderr for `env` alone; it must exit 2 with one line and print nothing on stdout."""
    node, script = require_tool(NODE), require_tool(DEMO)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DEMO_"))}
    completed = subprocess.run(
        [node, script],
        env={**clean, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stdout == "" and completed.stderr.count("\n") == 1, completed.stdout + completed.stderr
    return completed.stderr.rstrip("\n")


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("DEMO_TENANTS", "2.5", "a whole number from 1 to 10000"),
        ("DEMO_TENANTS", "1e2x", "a whole number from 1 to 10000"),
        ("DEMO_SOCKET_TENANTS", "0.5", "a whole number from 0 to 10000"),
        ("DEMO_SOCKET_TENANTS", "10001", "a whole number from 0 to 10000"),
        ("DEMO_ERROR_RATIO", "half", "a number from 0 to 1"),
        ("DEMO_PORT", "0x50", "a whole number from 0 to 65535 (0: any free port)"),
        ("OTEL_METRIC_EXPORT_TIMEOUT", "1.5", "a whole number of milliseconds from 1 to 2147483647"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "0", "a whole number of milliseconds from 1 to 2147483647"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s", "a whole number of milliseconds from 1 to 2147483647"),
    ],
)
def test_a_number_knob_is_refused_word_for_word(name: str, value: str, rule: str) -> None:
    assert refused(**{name: value}) == f'demo: {name} must be {rule}, got "{value}"'


@pytest.mark.parametrize("value", ["5 s", "5S", "5sec", "1d", "-5s", ".5s", "5"])
def test_a_duration_outside_the_readmes_spelling_is_refused(value: str) -> None:
    """A number then ms, s, m or h, nothing between: `5` alone is not 5 ms nor 5 s."""
    assert refused(DEMO_DURATION=value) == (
        "demo: DEMO_DURATION must be a duration from 1ms to 596h (2147483647 ms, the longest Node timer), "
        f'such as 30s, 5m or 1h, got "{value}"'
    )


def test_the_status_interval_refusal_gives_its_own_floor_and_example() -> None:
    assert refused(DEMO_STATUS_INTERVAL="99ms") == (
        "demo: DEMO_STATUS_INTERVAL must be a duration from 100ms to 596h (2147483647 ms, the longest Node "
        'timer), such as 10s, got "99ms"'
    )


@pytest.mark.parametrize("protocol", ["grpc", "HTTP/PROTOBUF", "http/proto"])
def test_an_otlp_protocol_the_demo_does_not_speak_is_refused(protocol: str) -> None:
    assert refused(OTEL_EXPORTER_OTLP_PROTOCOL=protocol) == (
        f'demo: OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json, got "{protocol}"'
    )


@pytest.mark.parametrize("signal", ["", "TRACES_", "METRICS_", "LOGS_"])
def test_each_signals_endpoint_is_checked_and_named(signal: str) -> None:
    name = f"OTEL_EXPORTER_OTLP_{signal}ENDPOINT"
    assert refused(**{name: f"ftp://u:{SECRET}@collector:4318/v1?token={SECRET}"}) == (
        f"demo: {name} must be an http(s) URL with a host and a port from 1 to 65535, such as "
        'http://localhost:4318; "ftp://***@collector:4318/v1?***" has scheme "ftp", not http or https'
    )


def test_an_endpoint_with_port_zero_is_named_so() -> None:
    assert refused(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=" http://collector:0/v1/metrics ").endswith(
        '" http://collector:0/v1/metrics " has port 0'
    )


def test_a_short_header_value_is_not_masked_out_of_every_message() -> None:
    """`OTEL_EXPORTER_OTLP_HEADERS=X-Scope-OrgID=1` (Mimir's and Loki's tenant header, commonly `1`)
    is no secret worth masking: a refusal still reads as written, its numbers whole, not with every
    `1` turned into `***`."""
    assert refused(OTEL_EXPORTER_OTLP_HEADERS="X-Scope-OrgID=1", DEMO_TENANTS="0") == (
        'demo: DEMO_TENANTS must be a whole number from 1 to 10000, got "0"'
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [("k9z", "***"), ("k9", "k9")],
    ids=["three-characters-masked", "two-characters-shown"],
)
def test_a_header_value_is_masked_from_three_characters_on(value: str, shown: str) -> None:
    """A header value of three characters may be a short API key: a refusal that quotes it (here the
    user gave the same text to DEMO_RPS) must print `***`, not the key, on a terminal or into a CI
    log. One or two characters (a tenant id such as `1` or `eu`) are no secret, and masking them would
    garble every message that happens to hold them, so they stay as written."""
    said = refused(OTEL_EXPORTER_OTLP_HEADERS=f"x-api-key={value}", DEMO_RPS=value)
    assert said == f'demo: DEMO_RPS must be a number of requests per second from 0.001 to 2000, got "{shown}"'
