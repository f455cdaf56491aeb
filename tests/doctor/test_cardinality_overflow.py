"""`doctor` on a tenant an emitter folded into its overflow series, against the real Prometheus.

The exporter is the Collector stand-in with the backend's SDK past its cardinality limit on the
Socket.io gauge: FOLDED has no series of its own there, the one `otel_metric_overflow="true"` series
holds its value, and every other metric still carries it (so the tenant picker offers it). A metric
outside the contract does the same, for the advice given when the contract sets no limit. The same
real Prometheus runs the project's rules, the overflow alert among them.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from dashboards_as_code.contract.model import OVERFLOW_LABEL, MetricSignal
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import recorded_series
from dashboards_as_code.doctor.causes import Cause, CauseCode, Status
from dashboards_as_code.doctor.http import Endpoint
from dashboards_as_code.doctor.overflow import Limit, selects_tenants
from dashboards_as_code.doctor.prometheus_api import PrometheusApi
from dashboards_as_code.doctor.prometheus_diagnosis import PrometheusDoctor
from dashboards_as_code.queries import Matcher, MatchOp
from dashboards_as_code.render.documents import build_documents
from prometheus_rules.alerts import OVERFLOW_ALERT
from telemetry.contract import CONTRACT, SOCKETIO_CONNECTIONS
from tests.conftest import REPO
from tests.doctor.stack import Stack, live_stack, one_tenant_dashboards
from tests.prometheus.collector_exporter import RESOURCE, TENANTS, CollectorExporter

FOLDED = sorted(TENANTS)[0]
"""The tenant the SDK folded: the first in sorted order, which is the first `doctor` samples."""
PRESENT = sorted(TENANTS)[1]
ABSENT = "no-such-tenant"
"""A tenant no series carries at all: a typo, or one that never sent anything."""
GAUGE = SOCKETIO_CONNECTIONS.prometheus_name
OUTSIDE = "doctor_widgets_open"
"""A tenant-labelled gauge no contract signal declares."""
OVERFLOW = 'otel_metric_overflow="true"'
"""The label an OTel SDK puts on its overflow series (attribute `otel.metric.overflow` = true)."""
RANGE_S = 6 * 3600.0


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


class OverflowingExporter(CollectorExporter):
    """The stand-in, with FOLDED's Socket.io series replaced by the SDK's overflow series, and a gauge
    outside the contract doing the same; `stop_overflow` makes both overflow series go away."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.overflowing = True

    def stop_overflow(self, stopped: bool = True) -> None:
        with self.lock:
            self.overflowing = not stopped

    def exposition(self) -> str:
        with self.lock:
            overflowing = self.overflowing
        overflow = _labels({**RESOURCE, OVERFLOW.split("=", maxsplit=1)[0]: "true"})
        lines: list[str] = []
        for line in super().exposition().removesuffix("# EOF\n").splitlines():
            if line.startswith(f"{GAUGE}{{") and f'tenant_id="{FOLDED}"' in line:
                if overflowing:  # where FOLDED's series was: a family's samples stay together
                    lines.append(f"{GAUGE}{overflow} 12")
                continue
            lines.append(line)
        lines.append(f"# TYPE {OUTSIDE} gauge")
        lines += [f"{OUTSIDE}{_labels({**RESOURCE, 'tenant_id': t})} 1" for t in TENANTS if t != FOLDED]
        if overflowing:
            lines.append(f"{OUTSIDE}{overflow} 4")
        return "\n".join(lines) + "\n# EOF\n"


@dataclass
class Scenario:
    stack: Stack
    exporter: OverflowingExporter

    def doctor(self, range_s: float = RANGE_S) -> PrometheusDoctor:
        """The diagnosis as `doctor` builds it from the project (the contract's limits), asked now."""
        limit = Limit(CONTRACT.cardinality_limit(SOCKETIO_CONNECTIONS), SOCKETIO_CONNECTIONS.emitter, "here")
        api = PrometheusApi(Endpoint(self.stack.prometheus.url, "prometheus", 10))
        return PrometheusDoctor(api, {}, {}, limits={GAUGE: limit}, range_s=range_s)

    def first_overflow_sample(self, name: str) -> float:
        """The timestamp of the overflow series' first sample, as Prometheus stores it."""
        [series] = self.stack.prometheus.query(f"{name}{{{OVERFLOW}}}[1h]")
        return min(float(t) for t, _ in series["values"])


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    exporter = OverflowingExporter()
    with live_stack(tmp_path_factory.mktemp("overflow"), exporter=exporter) as stack:
        yield Scenario(stack, exporter)


def _recorded_gauge() -> str:
    """The per-tenant series the project records from the Socket.io gauge (what its panel reads)."""
    rules = recorded_series(load_project(REPO).rule_groups)
    [record] = [name for name, rule in rules.items() if GAUGE in rule.expr.text and rule.tenant_scoped]
    return record


def _overflow(causes: list[Cause]) -> list[Cause]:
    return [c for c in causes if c.code is CauseCode.CARDINALITY_OVERFLOW]


def _since(detail: str) -> float:
    match = re.search(r"since (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", detail)
    assert match, detail
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def test_a_folded_tenant_gets_the_overflow_in_the_full_run(scenario: Scenario) -> None:
    """`doctor` as a person runs it: every panel that reads the Socket.io gauge is flagged at FOLDED
    alone, for the overflow (named with the contract's limit and since when): suspect on the
    Overview, whose other selections show data, empty on a one-tenant dashboard, which opens on
    FOLDED (the first tenant) and has no other; no panel blames rule 4 for the overflow series,
    which carries no tenant by design, so every other panel is ok."""
    doctor = scenario.stack.doctor()
    flagged = [r for r in doctor.reports if any(c["code"] == "cardinality-overflow" for c in r["causes"])]
    one_tenant = one_tenant_dashboards()
    assert {(r["dashboard"], r["panel"]) for r in flagged} == _panels_reading(SOCKETIO_CONNECTIONS)
    for panel in flagged:
        assert panel["status"] == ("empty" if panel["dashboard"] in one_tenant else "suspect"), panel
        assert {str(c["selection"]) for c in panel["causes"]} == {str({"tenant": FOLDED})}
        assert "label-missing" not in {c["code"] for c in panel["causes"]}
        [cause] = [c for c in panel["causes"] if c["code"] == "cardinality-overflow"]
        detail = cause["detail"]
        assert detail.startswith(f"with $tenant = {FOLDED}: `{GAUGE}` has an overflow series {{"), detail
        assert f'job="{RESOURCE["job"]}"' in detail and OVERFLOW in detail
        assert (
            f"to the contract's {CONTRACT.cardinality_limit(SOCKETIO_CONNECTIONS):,} attribute sets" in detail
        )
        assert SOCKETIO_CONNECTIONS.emitter in detail
        assert cause["query"] == f'{{__name__="{GAUGE}", {OVERFLOW}}}'
        # The dashboard opens on six hours, with 1 s scrapes: the first sample is found to within 2 s.
        assert abs(_since(detail) - scenario.first_overflow_sample(GAUGE)) <= 3
    others = {(r["dashboard"], r["panel"]): r["status"] for r in doctor.reports if r not in flagged}
    assert set(others.values()) == {"ok"}, doctor.reports


def _panels_reading(signal: MetricSignal) -> set[tuple[str, str]]:
    """(dashboard, panel) of every panel of the project whose queries read `signal` (raw or recorded)."""
    found = set()
    for board in build_documents(load_project(REPO)).dashboards:
        for panel in board.document["panels"]:
            exprs = " ".join(str(t.get("expr", "")) for t in panel.get("targets") or [])
            if signal.prometheus_name in exprs:
                found.add((board.uid, str(panel["title"])))
    return found


@pytest.mark.parametrize("read", ["raw", "recorded"])
def test_a_folded_tenant_is_named_and_an_absent_one_is_not(scenario: Scenario, read: str) -> None:
    """Both empty, but only one is hidden: a tenant no series carries anywhere is absent, not folded
    (its label-mismatch lists the tenants there are); a tenant with data is ok."""
    name = GAUGE if read == "raw" else _recorded_gauge()
    doctor = scenario.doctor()

    status, causes = doctor.diagnose(f'sum({name}{{tenant_id=~"{FOLDED}"}})', exemplar=False)
    assert status is Status.EMPTY
    [first, *rest] = causes
    assert first.code is CauseCode.CARDINALITY_OVERFLOW and not _overflow(rest), causes
    assert first.detail.startswith(f"`{GAUGE}` has an overflow series"), first.detail
    assert f'`tenant_id=~"{FOLDED}"` selects series of other metrics but none of this one' in first.detail

    status, causes = doctor.diagnose(f'sum({name}{{tenant_id=~"{ABSENT}"}})', exemplar=False)
    assert status is Status.EMPTY and not _overflow(causes), causes
    assert [c.code for c in causes] == [CauseCode.LABEL_MISMATCH], causes

    assert doctor.diagnose(f'sum({name}{{tenant_id=~"{PRESENT}"}})', exemplar=False) == (Status.OK, [])


def test_a_selection_empty_for_every_tenant_is_not_blamed_on_the_overflow(scenario: Scenario) -> None:
    """A wrong job empties the query at any tenant: that matcher is the cause, not the overflow."""
    expr = f'sum({GAUGE}{{job="elsewhere", tenant_id="{FOLDED}"}})'
    status, causes = scenario.doctor().diagnose(expr, exemplar=False)
    assert status is Status.EMPTY and not _overflow(causes), causes
    assert {c.code for c in causes} == {CauseCode.LABEL_MISMATCH}
    assert any('job="elsewhere"' in c.detail for c in causes), causes


def test_a_metric_outside_the_contract_gets_the_general_advice(scenario: Scenario) -> None:
    status, causes = scenario.doctor().diagnose(f'sum({OUTSIDE}{{tenant_id="{FOLDED}"}})', exemplar=False)
    assert status is Status.EMPTY
    [cause] = _overflow(causes)
    assert cause.detail.startswith(f"`{OUTSIDE}` has an overflow series"), cause.detail
    assert "contract's" not in cause.detail
    assert "2,000 per metric unless a View sets aggregationCardinalityLimit" in cause.detail


def test_since_is_the_first_sample_within_the_range_looked_at(scenario: Scenario) -> None:
    """Over the dashboard's range the first sample is the series' own; over a range shorter than the
    overflow has lasted, it is the first sample within that range, and the detail says which range."""
    expr = f'sum({GAUGE}{{tenant_id="{FOLDED}"}})'
    first = scenario.first_overflow_sample(GAUGE)
    [whole] = _overflow(scenario.doctor().diagnose(expr, exemplar=False)[1])
    assert abs(_since(whole.detail) - first) <= 3 and "in the last 6 h" in whole.detail

    short = 5.0
    scenario.stack.prometheus.wait_for(f"vector(time() - {first})", 3 * short)
    doctor = scenario.doctor(range_s=short)
    [recent] = _overflow(doctor.diagnose(expr, exemplar=False)[1])
    assert "in the last 5 s" in recent.detail
    assert doctor.api.now - short - 2 <= _since(recent.detail) <= doctor.api.now


def test_the_overflow_alert_runs_healthy_per_metric(scenario: Scenario) -> None:
    """The real Prometheus 3 runs the project's alert on this data: healthy, and one alert per metric
    (pending, its `for` not over yet), each naming its metric."""
    groups = scenario.stack.prometheus.get("/api/v1/rules")["groups"]
    [rule] = [r for g in groups for r in g["rules"] if r["name"] == OVERFLOW_ALERT.alert]
    assert rule["health"] == "ok", rule
    alerts = scenario.stack.prometheus.query(f'ALERTS{{alertname="{OVERFLOW_ALERT.alert}"}}')
    assert {a["metric"]["metric"] for a in alerts} == {GAUGE, OUTSIDE}
    assert {a["metric"]["alertstate"] for a in alerts} == {"pending"}


def test_an_overflow_that_is_over_is_not_blamed(scenario: Scenario) -> None:
    """Once the overflow series is gone (an emitter back under its limit), a tenant still empty is
    empty for another reason: no overflow cause. Run last: it stops the overflow, then restores it."""
    expr = f'sum({GAUGE}{{tenant_id="{FOLDED}"}})'
    scenario.exporter.stop_overflow()
    try:
        deadline = time.monotonic() + 15
        while scenario.stack.prometheus.query(f"{GAUGE}{{{OVERFLOW}}}"):
            assert time.monotonic() < deadline, "the overflow series did not go stale"
            time.sleep(0.2)
        status, causes = scenario.doctor().diagnose(expr, exemplar=False)
        assert status is Status.EMPTY and not _overflow(causes), causes
    finally:
        scenario.exporter.stop_overflow(False)
        scenario.stack.prometheus.wait_for(f"count({GAUGE}{{{OVERFLOW}}})", 1, timeout=15)


@pytest.mark.parametrize(
    ("op", "value", "selects"),
    [
        ("=", "acme", True),
        ("=~", "acme", True),
        ("=~", "acme|globex", True),
        ("=~", "__all__", False),  # the All row, not a tenant
        ("=~", ".*", False),  # All as a regex: matches the series without tenant_id too
        ("=~", "acme|", False),
        ("!=", "acme", False),
        ("!~", "acme", False),
        ("=", "", False),
    ],
)
def test_which_matchers_select_tenants(op: MatchOp, value: str, selects: bool) -> None:
    assert selects_tenants(Matcher("tenant_id", op, value)) is selects
    assert not selects_tenants(Matcher("job", op, value))


def test_the_overflow_label_is_the_one_the_fixtures_write() -> None:
    assert OVERFLOW.split("=", maxsplit=1)[0] == OVERFLOW_LABEL
