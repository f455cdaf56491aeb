"""Every recording rule with a `tenant_id="__all__"` twin, proved with `promtool test rules`: for two
tenants' synthetic input, each tenant's row is that tenant's value and the `__all__` row is their sum.

The rules are the project's as it loads (hand-written groups and the group derived from the
dashboards' queries), rendered fresh; the input is derived from each rule's own expression (its
series, matchers and `by` labels), so a new tenant panel gets this proof without a line here. What
`$tenant` at All shows is the `__all__` row: a twin that double counts, drops a label or reads
another series is wrong at All only, which no single-tenant look would notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import promql_parser
import pytest

from dashboards_as_code.defaults import ALL_TENANTS, TENANT_LABEL
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import RecordingRule
from dashboards_as_code.promql.tree import grouping_labels
from tests.conftest import REPO
from tests.prometheus_rules.evaluation import SCHEDULES
from tests.prometheus_rules.test_promtool_rules import run_promtool

FASTEST = SCHEDULES[0]
"""The twins are read directly, not by an alert: the fastest schedule in file order is enough."""

SCRAPE = 15
"""Seconds between synthetic samples."""
TENANTS = {"acme": (1.5, 0.5), "globex": (4.0, 3.0)}
"""Each tenant's two series (differing only in a label the rule does not keep): acme is 2, globex 7."""
DECOY = 1000.0
"""A series that breaks one of the rule's own matchers: counting it would show at once."""
SPARE_LABEL = "synthetic_replica"


@dataclass(frozen=True)
class Twinned:
    per_tenant: RecordingRule
    everyone: RecordingRule
    group: str


def twinned_rules() -> dict[str, Twinned]:
    """record -> its per-tenant rule and its `__all__` twin, for every such pair the project loads."""
    found: dict[str, Twinned] = {}
    for group in load_project(REPO).rule_groups:
        rules = {r.record: [x for x in group.recording if x.record == r.record] for r in group.recording}
        for record, same in rules.items():
            twins = [r for r in same if r.labels.get(TENANT_LABEL) == ALL_TENANTS]
            rows = [r for r in same if TENANT_LABEL not in r.labels and TENANT_LABEL in r.expr.labels]
            if twins:
                assert len(twins) == len(rows) == 1, f"{record}: expected one per-tenant rule and one twin"
                found[record] = Twinned(rows[0], twins[0], group.name)
    return found


TWINNED = twinned_rules()


def test_the_pairs_come_from_the_project() -> None:
    """Hand-written or derived: the project has pairs, and the derived group's are among them."""
    assert TWINNED
    assert any(pair.group.endswith("-derived") for pair in TWINNED.values())


@dataclass(frozen=True)
class Shape:
    """`sum by (tenant_id, kept...) (rate(series{matchers}[window]))`, or without the rate."""

    series: str
    matchers: tuple[tuple[str, str, str], ...]
    kept: tuple[str, ...]
    window: timedelta | None


def _read(rule: RecordingRule) -> Shape:
    tree = promql_parser.parse(rule.expr.text)
    understood = (
        "this test derives input for `sum by (tenant_id, ...) (rate(<series>{...}[w]))` and "
        f"`sum by (tenant_id, ...) (<series>{{...}})`; extend it for {rule.record}: "
        f"{rule.expr.text}"
    )
    assert isinstance(tree, promql_parser.AggregateExpr) and str(tree.op) == "sum", understood
    grouping = grouping_labels(tree)
    by = grouping[1] if grouping is not None and grouping[0] == "by" else []
    assert TENANT_LABEL in by, understood
    inner, window = tree.expr, None
    if isinstance(inner, promql_parser.Call):
        assert inner.func.name == "rate" and isinstance(inner.args[0], promql_parser.MatrixSelector), (
            understood
        )
        window = inner.args[0].range
        inner = inner.args[0].vector_selector
    assert isinstance(inner, promql_parser.VectorSelector) and inner.name, understood
    matchers = tuple((m.name, str(m.op).removeprefix("MatchOp."), m.value) for m in inner.matchers.matchers)
    kept = tuple(sorted(label for label in by if label != TENANT_LABEL))
    return Shape(inner.name, matchers, kept, window)


def shape(rule: RecordingRule) -> Shape:
    """The per-tenant rule: `sum by (tenant_id, ...)`. Its twin is judged by its values alone."""
    return _read(rule)


def satisfying(op: str, value: str) -> str:
    """A label value the matcher selects."""
    if op == "Equal":
        return value
    tests = {
        "NotEqual": lambda c: c != value,
        "Re": lambda c: re.fullmatch(value, c) is not None,
        "NotRe": lambda c: re.fullmatch(value, c) is None,
    }
    found = next((c for c in (value, *value.split("|"), "x", "y", "synthetic") if c and tests[op](c)), None)
    assert found is not None, f"no label value found for a {op} matcher on {value!r}"
    return found


def _labels(series: str, labels: dict[str, str]) -> str:
    return series + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def case(pair: Twinned) -> dict[str, Any]:
    form = shape(pair.per_tenant)
    selected = {label: satisfying(op, value) for label, op, value in form.matchers}
    kept = {label: selected.get(label, f"{label}-1") for label in form.kept}
    samples = 4 * max(int((form.window or timedelta(minutes=5)).total_seconds()) // SCRAPE, 20)
    at = f"{samples * SCRAPE * 3 // 4}s"

    def values(value: float) -> str:
        return f"0+{value * SCRAPE:g}x{samples}" if form.window else f"{value:g}x{samples}"

    series = []
    for tenant, parts in TENANTS.items():
        for replica, part in enumerate(parts):
            labels = {**selected, **kept, TENANT_LABEL: tenant, SPARE_LABEL: str(replica)}
            series.append({"series": _labels(form.series, labels), "values": values(part)})
    for label, op, wanted in form.matchers:
        if op == "Equal":  # the same tenant's series, but one the rule must not select
            broken = {label: f"{wanted}-other", TENANT_LABEL: "acme", SPARE_LABEL: "decoy"}
            labels = {**selected, **kept, **broken}
            series.append({"series": _labels(form.series, labels), "values": values(DECOY)})
    record, constant = pair.per_tenant.record, dict(pair.per_tenant.labels)
    expected = [
        (_labels(record, {**kept, **constant, TENANT_LABEL: tenant}), sum(parts))
        for tenant, parts in TENANTS.items()
    ]
    total = sum(sum(parts) for parts in TENANTS.values())
    expected.append((_labels(record, {**kept, **dict(pair.everyone.labels)}), total))
    return {
        "interval": f"{SCRAPE}s",
        "input_series": series,
        "promql_expr_test": [
            {
                "expr": record,
                "eval_time": at,
                "exp_samples": [{"labels": labels, "value": value} for labels, value in expected],
            }
        ],
    }


@pytest.mark.parametrize("record", sorted(TWINNED))
def test_all_row_is_the_sum_of_the_tenant_rows(tmp_path: Path, record: str) -> None:
    result = run_promtool(tmp_path, case(TWINNED[record]), FASTEST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_twin_that_double_counts_fails(tmp_path: Path) -> None:
    """The proof has teeth: the same case against an expectation of twice the total fails."""
    pair = next(iter(TWINNED.values()))
    doubled = case(pair)
    expected = doubled["promql_expr_test"][0]["exp_samples"]
    expected[-1]["value"] *= 2
    result = run_promtool(tmp_path, doubled, FASTEST)
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr
