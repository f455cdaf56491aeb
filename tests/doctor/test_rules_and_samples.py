"""`doctor` on what the panels do not show: rule health, a rule that ran before its data, sparse samples.

One real Prometheus serves the module. Besides the project's rules (every group at 1 s) it loads:
- `doctor-extras` (1 s): an alert whose join always fails (`health: err`), and a rule recording a
  1m rate over a series whose samples are 60 s apart;
- `doctor-daily` (24 h): an alert whose group has not run yet (`health: unknown`);
- `doctor-slow` (15 s): a rule over a series the exporter only starts to send when a test says so.
The exporter is the Collector stand-in plus those two series: one written with explicit timestamps
60 s apart (what Prometheus stores of an OTel SDK at its default 60 s export interval; the first
scrapes fast-forward through ten minutes of such history), and one held back until released.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards_as_code.doctor.causes import Cause, CauseCode, Status
from dashboards_as_code.doctor.http import Endpoint
from dashboards_as_code.doctor.prometheus_api import PrometheusApi, evaluated_at
from dashboards_as_code.doctor.prometheus_diagnosis import PrometheusDoctor
from tests.doctor.stack import Stack, live_stack
from tests.prometheus.collector_exporter import RESOURCE, CollectorExporter
from tests.prometheus.rules import rendered_rules
from tests.prometheus.server import Prometheus

EXPORT_S = 60
"""The OTel SDK's default metric export interval (OTEL_METRIC_EXPORT_INTERVAL=60000)."""
HISTORY = 10
"""Exports of history the sparse series starts with."""
SPARSE = "doctor_sdk_exports_total"
SPARSE_RULE = "doctor:sdk_exports:rate1m"
LATE = "doctor_late_sessions"
LATE_RULE = "doctor:late_sessions:sum"
SLOW_S = 15
"""The slow group's interval: long enough for a diagnosis to fit between two of its runs."""
SETTLE_S = 5
"""The warm-up diagnosis runs this long after the slow group's run (the data arrives in between)."""
FAILING_ALERT = "DoctorJoinAlwaysFails"
DAILY_ALERT = "DoctorDailyCheck"


class ScenarioExporter(CollectorExporter):
    """The Collector stand-in, plus a series with samples EXPORT_S apart and one held back."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.released = False
        now = int(time.time()) // EXPORT_S * EXPORT_S
        self.next_export = now - HISTORY * EXPORT_S

    def release(self) -> None:
        """From the next scrape on, the held-back series is exported."""
        with self.lock:
            self.released = True

    def _sparse(self) -> str:
        """One sample per scrape, at the next export time not in the future (so the first scrapes
        walk through HISTORY exports), then the newest export again: Prometheus keeps one sample
        per distinct timestamp, EXPORT_S apart, as it would from a 60 s push."""
        with self.lock:
            stamp = self.next_export
            if stamp + EXPORT_S <= time.time():
                self.next_export += EXPORT_S
        labels = ",".join(f'{k}="{v}"' for k, v in sorted({**RESOURCE, "tenant_id": "acme"}.items()))
        value = (stamp // EXPORT_S) % 100_000 * 120  # 2 per second, always increasing
        return f"# TYPE {SPARSE.removesuffix('_total')} counter\n{SPARSE}{{{labels}}} {value} {stamp}\n"

    def exposition(self) -> str:
        body = super().exposition().removesuffix("# EOF\n")
        with self.lock:
            late = f'# TYPE {LATE} gauge\n{LATE}{{tenant_id="acme"}} 3\n' if self.released else ""
        return body + self._sparse() + late + "# EOF\n"


def _extra_groups(document: dict[str, Any]) -> None:
    document["groups"] += [
        {
            "name": "doctor-extras",
            "interval": "1s",
            "rules": [
                {"record": SPARSE_RULE, "expr": f"sum(rate({SPARSE}[1m]))"},
                {  # many series on both sides of a one-to-one join: an error at every evaluation
                    "alert": FAILING_ALERT,
                    "expr": "tiktickets_whatsapp_sessions_active * on () tiktickets_whatsapp_sessions_active",
                },
            ],
        },
        {
            "name": "doctor-daily",
            "interval": "24h",
            "rules": [{"alert": DAILY_ALERT, "expr": "vector(1) > 2"}],
        },
        {
            "name": "doctor-slow",
            "interval": f"{SLOW_S}s",
            "rules": [{"record": LATE_RULE, "expr": f"sum({LATE})"}],
        },
    ]


@dataclass
class Scenario:
    stack: Stack
    exporter: ScenarioExporter
    rules: Path

    @property
    def prometheus(self) -> Prometheus:
        return self.stack.prometheus

    def doctor(self) -> PrometheusDoctor:
        """The diagnosis as `doctor` runs it, against this Prometheus, asked now."""
        return PrometheusDoctor(PrometheusApi(Endpoint(self.prometheus.url, "prometheus", 10)), {}, {})


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    workdir = tmp_path_factory.mktemp("doctor-rules")
    exporter = ScenarioExporter()
    with live_stack(workdir, change_rules=_extra_groups, exporter=exporter) as stack:
        yield Scenario(stack, exporter, workdir / "rules.yml")


def _group(prometheus: Prometheus, name: str) -> dict[str, Any]:
    [group] = [g for g in prometheus.get("/api/v1/rules")["groups"] if g["name"] == name]
    return dict(group)


def _reload(prometheus: Prometheus, rules: Path, document: dict[str, Any], until: Any) -> None:
    rules.write_text(yaml.safe_dump(document))
    request = urllib.request.Request(f"{prometheus.url}/-/reload", method="POST")
    with urllib.request.urlopen(request, timeout=30):
        pass
    deadline = time.monotonic() + 30
    while not until(prometheus.get("/api/v1/rules")["groups"]):
        assert time.monotonic() < deadline, "Prometheus did not take the new rule file"
        time.sleep(0.2)


# -- every rule's health ---------------------------------------------------------------------------


def test_every_rule_not_ok_is_listed_and_an_erring_one_fails_the_run(scenario: Scenario) -> None:
    doctor = scenario.stack.doctor()
    assert set(doctor.statuses().values()) == {"ok"}, doctor.reports  # the panels alone would pass
    assert doctor.code == 1, "an alert in err never fires: the run must fail"
    rules = {rule["name"]: rule for rule in doctor.rules}
    failing = rules[FAILING_ALERT]
    assert (failing["health"], failing["type"], failing["group"]) == ("err", "alerting", "doctor-extras")
    assert "many-to-many" in failing["last_error"] or "duplicate series" in failing["last_error"]
    assert failing["file"] == str(scenario.rules)
    daily = rules[DAILY_ALERT]
    assert (daily["health"], daily["interval_seconds"]) == ("unknown", 86400)
    assert all(rule["health"] != "ok" for rule in doctor.rules)
    project = {rule.get("alert") or rule["record"] for g in rendered_rules()["groups"] for rule in g["rules"]}
    assert not project & set(rules), "the project's rules are healthy on this data"

    text = scenario.stack.doctor_text()
    assert text.code == 1
    # Prometheus' own words (cut at 500 characters, as any text from a server is on a terminal).
    assert (
        f"err      group doctor-extras / alert {FAILING_ALERT}: {failing['last_error'][:300]}" in text.stdout
    )
    assert (
        f"unknown  group doctor-daily / alert {DAILY_ALERT}: not evaluated yet (its group runs every 86400 s)"
        in text.stdout
    )
    assert re.search(r"\d+ rule\(s\) not ok: 1 err, \d+ unknown\.", text.stdout), text.stdout


def test_rules_not_evaluated_yet_do_not_fail_the_run(scenario: Scenario) -> None:
    original = yaml.safe_load(scenario.rules.read_text())
    without = yaml.safe_load(scenario.rules.read_text())
    [extras] = [g for g in without["groups"] if g["name"] == "doctor-extras"]
    extras["rules"] = [r for r in extras["rules"] if r.get("alert") != FAILING_ALERT]

    def names(groups: list[dict[str, Any]]) -> set[str]:
        return {rule["name"] for group in groups for rule in group["rules"]}

    def restored(groups: list[dict[str, Any]]) -> bool:
        """The alert is back, and its group has run again (the next tests read its other rule)."""
        [group] = [g for g in groups if g["name"] == "doctor-extras"]
        return FAILING_ALERT in names(groups) and all(
            evaluated_at(r["lastEvaluation"]) for r in group["rules"]
        )

    _reload(scenario.prometheus, scenario.rules, without, lambda groups: FAILING_ALERT not in names(groups))
    try:
        doctor = scenario.stack.doctor()
    finally:
        _reload(scenario.prometheus, scenario.rules, original, restored)
    assert {rule["health"] for rule in doctor.rules} == {"unknown"}, doctor.rules
    assert doctor.code == 0, (doctor.rules, doctor.reports)


# -- a rule that ran before its data ---------------------------------------------------------------


def _fresh_run_of_the_slow_group(prometheus: Prometheus) -> float:
    """Wait until the slow group has just run (at most 3 s ago); its lastEvaluation."""
    deadline = time.monotonic() + 3 * SLOW_S
    while time.monotonic() < deadline:
        [rule] = _group(prometheus, "doctor-slow")["rules"]
        ran = evaluated_at(rule["lastEvaluation"])
        if ran is not None and time.time() - ran <= 3:
            return ran
        time.sleep(0.1)
    raise AssertionError("the slow group did not run within three of its intervals")


def _sampled_for(prometheus: Prometheus) -> float:
    """Seconds between the first and the newest sample of LATE that Prometheus holds now."""
    series = prometheus.query(f"{LATE}[1m]")
    times = [float(t) for t, _ in series[0]["values"]] if series else []
    return max(times) - min(times) if times else 0.0


def test_a_recorded_series_whose_rule_ran_before_its_data_is_warming_up(scenario: Scenario) -> None:
    ran = _fresh_run_of_the_slow_group(scenario.prometheus)
    scenario.exporter.release()
    scenario.prometheus.wait_for(f"count({LATE})", 1, timeout=10)
    time.sleep(max(0.0, ran + SETTLE_S - time.time()))  # so that "next run in" differs from the interval
    # The premise below (samples 2 s apart) needs three scrapes; under load they come late: wait for
    # them, while the diagnosis still fits before the group's next run.
    while _sampled_for(scenario.prometheus) < 2 and time.time() < ran + SLOW_S - 5:
        time.sleep(0.2)
    doctor = scenario.doctor()
    status, causes = doctor.diagnose(f"sum({LATE_RULE})", exemplar=False)
    asked = doctor.api.now
    [rule] = _group(scenario.prometheus, "doctor-slow")["rules"]
    assert evaluated_at(rule["lastEvaluation"]) == ran, "the group ran again during the diagnosis: too slow"

    assert status is Status.EMPTY
    assert [c.code for c in causes] == [CauseCode.RULE_WARMING_UP], causes
    detail = causes[0].detail
    assert f"`{LATE_RULE}`" in detail and f"group 'doctor-slow', every {SLOW_S} s" in detail
    assert "before the data it reads arrived" in detail and f"first sample of `{LATE}`" in detail
    # Its age is the FIRST sample's (when the data arrived), not the newest one's: as Prometheus has them.
    [late] = scenario.prometheus.query(f"{LATE}[1m]", at=asked)
    times = [float(t) for t, _ in late["values"]]
    assert max(times) - min(times) >= 2, f"the premise: samples far enough apart to tell apart: {times}"
    age = re.search(rf"first sample of `{LATE}` is (\d+) s old", detail)
    assert age and abs(int(age.group(1)) - (asked - min(times))) <= 1, (detail, asked - min(times))
    match = re.search(r"Next run in (\d+) s\.", detail)
    assert match, detail
    announced = int(match.group(1))
    assert announced < SLOW_S - SETTLE_S + 1

    # What it announced happens: the series appears at the next run, that many seconds after asking.
    deadline = time.monotonic() + SLOW_S + 5
    while not scenario.prometheus.query(LATE_RULE):
        assert time.monotonic() < deadline, f"no {LATE_RULE} after the announced run"
        time.sleep(0.1)
    assert abs((time.time() - asked) - announced) <= 2, (detail, time.time() - asked)
    assert scenario.doctor().diagnose(f"sum({LATE_RULE})", exemplar=False) == (Status.OK, [])


# -- samples further apart than a third of the rate window -----------------------------------------------


def _history_written(prometheus: Prometheus) -> None:
    prometheus.wait_for(f"count_over_time({SPARSE}[{HISTORY + 1}m])", HISTORY, timeout=30)


def _sparse_cause(causes: list[Cause]) -> str:
    assert [c.code for c in causes] == [CauseCode.SPARSE_SAMPLES], causes
    return causes[0].detail


def test_samples_further_apart_than_a_third_of_the_window_are_named_with_the_fix(scenario: Scenario) -> None:
    _history_written(scenario.prometheus)
    doctor = scenario.doctor()
    status, causes = doctor.diagnose(f"sum(rate({SPARSE}[60s]))", exemplar=False)
    assert status is Status.EMPTY
    detail = _sparse_cause(causes)
    assert detail.startswith(
        f"samples of `{SPARSE}` arrive every {EXPORT_S} s; rate over 60s needs at least two"
    )
    assert "set OTEL_METRIC_EXPORT_INTERVAL to <= 20000 (milliseconds: 60s / 3)" in detail
    advised = re.search(r"widen the window to at least (\d+s)", detail)
    assert advised and advised.group(1) == f"{3 * EXPORT_S}s", detail
    # The advice works: over the advised window the same data gives a rate, whenever it is asked,
    # even in the moment after an export when the newest sample has not been scraped yet (at two
    # spacings it would be empty then).
    assert doctor.diagnose(f"sum(rate({SPARSE}[{advised.group(1)}]))", exemplar=False) == (Status.OK, [])

    # Through a recording rule, as the Overview's panels read rates: the rule is named.
    status, causes = doctor.diagnose(f"sum({SPARSE_RULE})", exemplar=False)
    assert status is Status.EMPTY
    assert f"(read by the rule recording `{SPARSE_RULE}`)" in _sparse_cause(causes)


def test_dense_samples_are_never_blamed_on_the_export_interval(scenario: Scenario) -> None:
    _history_written(scenario.prometheus)
    doctor = scenario.doctor()
    dense = 'sum(rate(tenant_span_metrics_calls_total{span_kind="SPAN_KIND_SERVER"}[60s]))'
    assert doctor.diagnose(dense, exemplar=False) == (Status.OK, [])
    status, causes = doctor.diagnose(f"{dense} > 1e9", exemplar=False)  # empty for another reason
    assert status is Status.EMPTY and [c.code for c in causes] == [CauseCode.NO_MATCH], causes
