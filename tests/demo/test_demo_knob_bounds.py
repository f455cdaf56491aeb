"""Every demo knob accepts exactly the range the README promises, both ends included.

The README's knob table (and, for the SDK's own timer variables, its sentence on them) says what each
knob accepts; demo.js's refusal message says it again. For each knob this holds that the two say the
same range, that each end of it starts the demo (and the start line shows the value taken), and that
a value just outside either end is refused by name with exit code 2. A bound that slipped by one
(`>` for `>=`) refuses a documented value such as `DEMO_STATUS_INTERVAL=100ms` or `DEMO_DURATION=1ms`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest

from dashboards_as_code.external_tools import NODE
from monitoring.tools import DEMO
from tests.conftest import REPO
from tests.demo.otlp_receiver import otlp_receiver
from tests.demo.test_demo_backend import run_demo
from tests.tooling import require_tool

RANGE = re.compile(r"from (?P<low>[\d.]+(?:ms|s|m|h)?) to (?P<high>[\d.]+(?:ms|s|m|h)?)\b")
LONGEST_TIMER = re.compile(r"\((?P<ms>\d+) ms, the longest Node timer\)")
DURATION_MS = {"ms": Decimal(1), "s": Decimal(1000), "m": Decimal(60_000), "h": Decimal(3_600_000)}
SDK_TIMERS = re.compile(r"The SDK's own\s+timer variables \((?P<names>[^)]*)\)\s+must be whole milliseconds")
START_LINE = "demo: backend on 127.0.0.1:"
STARTED = re.compile(r"demo: backend(?: instance (?P<k>\d+) of (?P<n>\d+))? on 127\.0\.0\.1:")
"""The start line, also of one of several instances (DEMO_INSTANCE=k/n with n > 1 says which)."""
INSTANCE_RANGE = re.compile(r"`k/n` \(1 <= k <= n <= (?P<most>\d+)\)")
"""A knob that takes `k/n` (instance k of n) states its bound so in the README and in its refusal."""
TENANT_LIST = re.compile(r"tenants as the demo names them")
"""A knob that takes a list of the demo's tenants: its bound is DEMO_TENANTS, not a number."""


@dataclass(frozen=True)
class Knob:
    name: str
    low: str
    high: str

    @property
    def is_duration(self) -> bool:
        return self.low[-1].isalpha()

    @property
    def is_whole(self) -> bool:
        return not self.is_duration and "." not in self.low + self.high and self.name != "DEMO_ERROR_RATIO"


def readme_knobs() -> list[Knob]:
    """The README's knob table, then its SDK timer variables (whole milliseconds, 1 to 2^31-1)."""
    readme = (REPO / "README.md").read_text()
    knobs = []
    for line in readme.splitlines():
        row = re.match(r"\| `(?P<name>DEMO_\w+)` \|[^|]*\|(?P<accepted>[^|]*)\|", line)
        if row and not INSTANCE_RANGE.search(row["accepted"]) and not TENANT_LIST.search(row["accepted"]):
            found = RANGE.search(row["accepted"])
            assert found, f"the README gives no range for {row['name']}: {line}"
            knobs.append(Knob(row["name"], found["low"], found["high"]))
    sdk = SDK_TIMERS.search(readme)
    assert sdk, "the README no longer names the SDK's timer variables"
    for name in re.findall(r"`(OTEL_\w+)`", sdk["names"]):
        knobs.append(Knob(name, "1", str(2**31 - 1)))
    return knobs


def readme_instance_knobs() -> list[tuple[str, int]]:
    """(name, most instances) of each `k/n` knob in the README's table."""
    rows = re.findall(r"^\| `(DEMO_\w+)` \|[^|]*\|([^|]*)\|", (REPO / "README.md").read_text(), re.MULTILINE)
    return [
        (name, int(found["most"])) for name, accepted in rows if (found := INSTANCE_RANGE.search(accepted))
    ]


def readme_tenant_list_knobs() -> list[str]:
    """Each knob of the README's table that takes a list of the demo's tenants."""
    rows = re.findall(r"^\| `(DEMO_\w+)` \|[^|]*\|([^|]*)\|", (REPO / "README.md").read_text(), re.MULTILINE)
    return [name for name, accepted in rows if TENANT_LIST.search(accepted)]


KNOBS = readme_knobs()
INSTANCE_KNOBS = readme_instance_knobs()
ENDS = [(knob, side) for knob in KNOBS for side in ("low", "high")]


def _end_id(value: object) -> str:
    return value.name if isinstance(value, Knob) else str(value)


def refusal(name: str, value: str) -> str:
    """The one line the demo prints when it refuses `name=value`; it must exit 2 for it."""
    completed, _ = run_demo("http://127.0.0.1:9", **{name: value})
    assert completed.returncode == 2, f"{name}={value} was not refused: {completed.stdout}{completed.stderr}"
    assert name in completed.stderr and "backend on" not in completed.stdout, completed.stderr
    return completed.stderr


def just_outside(knob: Knob, side: str) -> str:
    """The nearest value beyond one end: a millisecond's thousandth for a duration (the longest Node
    timer, as the refusal states it, plus 1 ms above), 1 for a whole number, else a thousandth of the
    bound's last decimal."""
    bound = knob.low if side == "low" else knob.high
    sign = -1 if side == "low" else 1
    if knob.is_duration:
        if side == "high":
            stated = LONGEST_TIMER.search(refusal(knob.name, "soon"))
            assert stated, f"{knob.name}'s refusal no longer states the longest timer"
            return f"{int(stated['ms']) + 1}ms"
        unit = re.sub(r"[\d.]", "", bound)
        return f"{Decimal(bound[: -len(unit)]) * DURATION_MS[unit] - Decimal('0.001')}ms"
    number = Decimal(bound)
    step = Decimal(1) if knob.is_whole else Decimal(1).scaleb(int(number.as_tuple().exponent) - 3)
    return str(number + sign * step)


@pytest.mark.parametrize("knob", KNOBS, ids=lambda knob: knob.name)
def test_the_refusal_states_the_range_the_readme_promises(knob: Knob) -> None:
    said = RANGE.search(refusal(knob.name, "soon"))
    assert said, f"{knob.name}'s refusal states no range"
    assert (said["low"], said["high"]) == (knob.low, knob.high)


def _accepted(name: str, value: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of a run with `name=value` alone, stopped by SIGTERM once it has
    started (a run at DEMO_DURATION=1ms may have stopped by itself)."""
    node, script = require_tool(NODE), require_tool(DEMO)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DEMO_"))}
    with otlp_receiver() as (endpoint, _):
        env = {**clean, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "DEMO_TENANTS": "2"}
        process = subprocess.Popen(
            [node, script],
            env={**env, name: value},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            if STARTED.match(first) and process.poll() is None:
                process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=120)
        finally:
            process.kill()
    return process.returncode, first + out, err


def _shown(knob: Knob, value: str) -> str | None:
    """What the start line says for a knob it reports, or None."""
    if knob.name == "DEMO_TENANTS":
        return f", {value} tenants,"
    if knob.name == "DEMO_RPS":
        return f", {value} requests/s,"
    if knob.name == "DEMO_ERROR_RATIO":
        return f", {(Decimal(value) * 100).normalize():f} % fail with a 5xx"
    if knob.name == "DEMO_PORT" and value != "0":
        return f"127.0.0.1:{value},"
    return None


@pytest.mark.parametrize(("knob", "side"), ENDS, ids=_end_id)
def test_each_end_of_the_range_is_accepted(knob: Knob, side: str) -> None:
    value = knob.low if side == "low" else knob.high
    code, out, err = _accepted(knob.name, value)
    assert out.startswith(START_LINE), f"{knob.name}={value} did not start the demo: {out}{err}"
    assert "must be" not in err and code != 2, f"{knob.name}={value} was refused: {err}"
    # Only a 1 ms export timeout may make the final flush fail; anything else ends with exit 0.
    assert code == 0 or (knob.name == "OTEL_EXPORTER_OTLP_TIMEOUT" and "flush failed" in err), out + err
    assert "flushing telemetry" in out, out + err
    shown = _shown(knob, value)
    if shown is not None:
        assert shown in out.splitlines()[0], f"the start line does not say {shown!r}: {out}"


@pytest.mark.parametrize(("knob", "side"), ENDS, ids=_end_id)
def test_just_outside_the_range_is_refused(knob: Knob, side: str) -> None:
    value = just_outside(knob, side)
    said = RANGE.search(refusal(knob.name, value))
    assert said and json_quoted(value) in said.string, said.string if said else value


def json_quoted(value: str) -> str:
    """How the refusal quotes the value it got (JSON.stringify of the raw text)."""
    return f'"{value}"'


def readme_defaults() -> dict[str, str]:
    """The README knob table's default column, by variable."""
    rows = re.findall(
        r"^\| `(DEMO_\w+)` \| (?P<default>[^|]*?) \|", (REPO / "README.md").read_text(), re.MULTILINE
    )
    return dict(rows)


def test_a_knob_set_to_nothing_takes_its_default() -> None:
    """`DEMO_TENANTS=` (an empty line in `.env`, a variable exported empty) means "not set": the demo
    starts with the README's defaults, runs until stopped, and no empty endpoint or timer is refused."""
    empty = (
        [knob.name for knob in KNOBS]
        + [name for name, _ in INSTANCE_KNOBS]
        + [f"OTEL_EXPORTER_OTLP_{s}_ENDPOINT" for s in ("TRACES", "METRICS", "LOGS")]
    )
    node, script = require_tool(NODE), require_tool(DEMO)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DEMO_"))}
    with otlp_receiver() as (endpoint, received):
        env = {**clean, **dict.fromkeys(empty, ""), "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        process = subprocess.Popen(
            [node, script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            running = process.poll() is None
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
    assert first.startswith(START_LINE) and running, first + out + err
    assert received.spans(), "nothing reached the endpoint"
    assert process.returncode == 0, first + out + err
    defaults = readme_defaults()
    for knob in KNOBS:
        if knob.name in defaults:
            shown = _shown(knob, defaults[knob.name].split()[0])  # "0 (any free port)": 0
            if shown is not None:
                assert shown in first, f"{knob.name}= should mean its default {defaults[knob.name]}: {first}"
    assert {"DEMO_TENANTS", "DEMO_RPS", "DEMO_ERROR_RATIO"} <= set(defaults), defaults  # the table was read
    # DEMO_SLOW_RATIO's default is 0 and DEMO_FAILING_TENANTS/DEMO_SLOW_TENANTS' none: the start line,
    # which shows each one that is set, claims no slowed requests and no troubled tenant.
    assert defaults["DEMO_SLOW_RATIO"] == "0" and defaults["DEMO_SLOW_TENANTS"] == "none", defaults
    assert "slower" not in first and "every request of" not in first, first


def readme_duration_units() -> list[str]:
    """The units of the README's DEMO_DURATION examples (`500ms`, `30s`, `5m`, `1h`)."""
    row = next(
        line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("| `DEMO_DURATION`")
    )
    return re.findall(r"`\d+(ms|s|m|h)`", row)


RUN_SECONDS = Decimal(3)


@pytest.mark.parametrize("unit", readme_duration_units())
def test_a_duration_lasts_what_its_unit_says(unit: str) -> None:
    """`DEMO_DURATION=0.05m` is 3 s and `0.001h` 3.6 s (a minute is 60 s, an hour 3600 s): the run
    stops by itself that long after it started, never sooner (a timer does not fire early; half of it
    is allowed for a slow reader of the start line), at most 15 s later on a loaded machine."""
    amount = (RUN_SECONDS * 1000 / DURATION_MS[unit]).normalize()
    if unit == "h":
        amount = Decimal("0.001")  # 3.6 s: a third of a minute's worth of decimals would not be exact
    expected = float(amount * DURATION_MS[unit] / 1000)
    node, script = require_tool(NODE), require_tool(DEMO)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "DEMO_"))}
    with otlp_receiver() as (endpoint, _):
        env = {
            **clean,
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "DEMO_TENANTS": "2",
            "DEMO_DURATION": f"{amount:f}{unit}",
        }
        process = subprocess.Popen(
            [node, script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            started = time.monotonic()
            stopped = None
            for line in process.stdout:
                if "ran for" in line:
                    stopped = time.monotonic()
                    break
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
    assert first.startswith(START_LINE) and stopped is not None, first + out + err
    assert expected / 2 <= stopped - started <= expected + 15, (
        f"DEMO_DURATION={amount:f}{unit} ran {stopped - started:.1f}s, expected {expected:g}s"
    )
    assert f"ran for {amount:f}{unit}; flushing telemetry" in first + out + line, out


def test_by_default_a_status_line_comes_as_often_as_the_readme_says() -> None:
    """The README: "prints a status line every 10 s" (and DEMO_STATUS_INTERVAL's default). A run of
    0.6 of that interval prints only the final line: the default is not a shorter interval. (That
    an interval is kept at all is test_demo_knobs.py's run at 200ms, several lines in 2 s.)"""
    readme = (REPO / "README.md").read_text()
    every = re.search(r"prints a status line every (\d+) s\b", readme)
    assert every, "the README no longer says how often the status line comes"
    assert readme_defaults()["DEMO_STATUS_INTERVAL"] == f"{every[1]}s"
    interval = int(every[1])
    with otlp_receiver() as (endpoint, _):
        completed, _ = run_demo(
            endpoint, DEMO_STATUS_INTERVAL="", DEMO_DURATION=f"{interval * 0.6:g}s", DEMO_TENANTS="2"
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = [line for line in completed.stdout.splitlines() if "requests sent" in line]
    assert len(lines) == 1, f"a {interval * 0.6:g}s run printed {len(lines)} status lines: {completed.stdout}"


def test_by_default_metrics_are_exported_as_often_as_the_readmes_backend_env_says() -> None:
    """The demo is the reference backend, and the README's backend `.env` exports metrics every
    OTEL_METRIC_EXPORT_INTERVAL=15000 ms (Prometheus scrapes the Collector every 15 s). Left unset, the
    demo does the same: a run of 1.5 intervals makes exactly one periodic export, then the flush at
    its end (a longer default would make none, a shorter one two or more)."""
    found = re.search(r"^OTEL_METRIC_EXPORT_INTERVAL=(\d+)$", (REPO / "README.md").read_text(), re.MULTILINE)
    assert found, "the README's backend .env no longer sets OTEL_METRIC_EXPORT_INTERVAL"
    interval_ms = int(found[1])
    with otlp_receiver() as (endpoint, received):
        completed, _ = run_demo(
            endpoint,
            OTEL_METRIC_EXPORT_INTERVAL="",
            DEMO_DURATION=f"{interval_ms * 3 // 2}ms",
            DEMO_TENANTS="2",
        )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    exports = len(received.requests["/v1/metrics"])
    assert exports == 2, (
        f"{exports} metric exports in {interval_ms * 1.5 / 1000:g}s, expected 1 + the final flush"
    )


def test_the_readme_documents_the_instance_knob() -> None:
    """The premise of the test below: DEMO_INSTANCE's row states its `k/n` bound."""
    assert [name for name, _ in INSTANCE_KNOBS] == ["DEMO_INSTANCE"]


@pytest.mark.parametrize(("name", "most"), INSTANCE_KNOBS, ids=[n for n, _ in INSTANCE_KNOBS])
def test_an_instance_knob_takes_exactly_k_of_n_up_to_the_readmes_bound(name: str, most: int) -> None:
    """Its refusal states the README's bound; the corners of 1 <= k <= n <= most start the demo (and the
    start line names instance k of n when there are several); one past each corner is refused."""
    assert f"1 <= k <= n <= {most}" in refusal(name, "soon")
    for k, n in ((1, 1), (1, most), (most, most)):
        code, out, err = _accepted(name, f"{k}/{n}")
        started = STARTED.match(out)
        assert started and code == 0, f"{name}={k}/{n} did not start and stop cleanly: {out}{err}"
        assert (started["k"], started["n"]) == ((str(k), str(n)) if n > 1 else (None, None)), out
    for k, n in ((0, 1), (2, 1), (1, most + 1), (most + 1, most + 1)):
        assert json_quoted(f"{k}/{n}") in refusal(name, f"{k}/{n}")


@pytest.mark.parametrize("name", readme_tenant_list_knobs())
def test_a_tenant_list_knob_takes_the_demos_tenants_and_refuses_one_past_them(name: str) -> None:
    """Bounded by DEMO_TENANTS: one past the last is refused, and the refusal names the range (a tenant
    within it is taken: tests/demo/test_demo_troubled_tenants.py)."""
    completed, _ = run_demo("http://127.0.0.1:9", **{name: "tenant-004", "DEMO_TENANTS": "3"})
    assert completed.returncode == 2 and name in completed.stderr, completed.stderr
    assert "tenant-001 to tenant-003" in completed.stderr, completed.stderr
