"""Every tenant-scoped signal states what one tenant costs, and the emitters' limits follow from it.

An OTel SDK keeps 2,000 attribute sets per metric unless told otherwise and folds the rest into one
overflow series: the contract's budgets are where the limits that keep 10,000 tenants apart come from.
"""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from dashboards_as_code.contract.model import MetricSignal, TenantBudget
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from tests.conftest import REPO

SDK_DEFAULT_LIMIT = 2_000
"""The OTel JS SDK's default cardinality limit per metric stream (sdk-metrics CHANGELOG 1.29.0)."""


def _budget(series: int = 1, per_extra_instance: int = 1) -> TenantBudget:
    return TenantBudget(series=series, per_extra_instance=per_extra_instance, dimensions="-")


def _signal(attributes: tuple[str, ...], budget: TenantBudget | None) -> dict[str, object]:
    project = load_project(REPO)
    base = next(m for m in project.contract.metrics if m.tenant_budget is not None)
    return {**base.model_dump(), "attributes": attributes, "tenant_budget": budget}


def test_a_tenant_scoped_signal_without_a_budget_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs a tenant_budget"):
        MetricSignal.model_validate(_signal(("tenant_id",), None))


def test_a_budget_on_a_signal_without_tenants_is_refused() -> None:
    with pytest.raises(ValidationError, match="only such a signal may have one"):
        MetricSignal.model_validate(_signal(("http.route",), _budget()))


@pytest.mark.parametrize(("series", "extra"), [(0, 0), (1, -1), (1, 2)])
def test_a_budget_out_of_bounds_is_refused(series: int, extra: int) -> None:
    with pytest.raises(ValidationError, match="tenant budget needs"):
        _budget(series, extra)


def test_every_limit_keeps_the_contracts_tenants_apart_with_headroom() -> None:
    """Each tenant-scoped signal's limit holds its budget for every tenant an instance serves, twice
    over (the SDK remembers tenants seen since it started), and is above the SDK's default."""
    contract = load_project(REPO).contract
    budgeted = [m for m in contract.metrics if m.tenant_budget is not None]
    assert budgeted, "the project's contract has no tenant-scoped signal"
    for signal in budgeted:
        assert signal.tenant_budget is not None
        limit = contract.cardinality_limit(signal)
        assert limit >= signal.tenant_budget.series * contract.tenants_per_instance * 2, signal.key
        assert limit > SDK_DEFAULT_LIMIT, signal.key


def test_series_per_tenant_adds_the_budgets_per_instance() -> None:
    contract = load_project(REPO).contract
    budgets = [m.tenant_budget for m in contract.metrics if m.tenant_budget is not None]
    one = sum(b.series for b in budgets)
    assert contract.series_per_tenant() == one
    assert contract.series_per_tenant(3) == one + 2 * sum(b.per_extra_instance for b in budgets)
    assert contract.series_per_tenant(shards=3) == one + 2 * sum(b.per_extra_shard for b in budgets)
    assert contract.series_per_tenant(2, 2) == one + sum(
        b.per_extra_instance + b.per_extra_shard for b in budgets
    )


def test_a_budget_with_more_shard_series_than_series_is_refused() -> None:
    assert (
        TenantBudget(series=2, per_extra_instance=0, per_extra_shard=2, dimensions="-").per_extra_shard == 2
    )
    for shard in (-1, 3):
        with pytest.raises(ValidationError, match="per_extra_shard"):
            TenantBudget(series=2, per_extra_instance=0, per_extra_shard=shard, dimensions="-")


def test_what_the_shards_count_from_spans_repeats_per_shard_and_nothing_else_does() -> None:
    """The scaled topology's cost (README "When one Prometheus is not enough"): the span-metrics
    connectors run on every shard and label their series with it, and a tenant's traces reach every
    shard, so their per-tenant series repeat per shard; what the backend emits goes, by resource, to one
    shard. The contract's budgets must say so, or the scale benchmark's prediction on Cortex is short."""
    contract = load_project(REPO).contract
    for signal in contract.metrics:
        if signal.tenant_budget is None:
            continue
        from_spans = "spanmetrics" in signal.emitter  # a Collector connector that counts spans
        expected = signal.tenant_budget.series if from_spans else 0
        assert signal.tenant_budget.per_extra_shard == expected, signal.key


def test_build_writes_the_limits_the_emitters_read() -> None:
    """The JSON the demo configures its SDK from names every tenant-scoped signal by its OTel name."""
    documents = build_documents(load_project(REPO))
    config, contract = documents.project.config, documents.project.contract
    assert config.cardinality_limits_file is not None
    [output] = [o for o in render_outputs(documents) if o.path == config.cardinality_limits_file]
    limits = json.loads(output.content)["limits"]
    assert limits == {
        m.otel_name: contract.cardinality_limit(m) for m in contract.metrics if m.tenant_budget is not None
    }
    committed = json.loads((REPO / config.cardinality_limits_file).read_text())
    assert committed["limits"] == limits, "run `python build.py build`"


def test_the_contract_page_states_each_budget_and_limit() -> None:
    documents = build_documents(load_project(REPO))
    contract = documents.project.contract
    page = documents.contract_markdown
    for signal in contract.metrics:
        if signal.tenant_budget is None:
            assert f"| `{signal.prometheus_name}` | " not in page.split("## Cardinality")[1]
            continue
        row = next(line for line in page.splitlines() if line.startswith(f"| `{signal.prometheus_name}` | "))
        assert f"| {signal.tenant_budget.series} | {signal.tenant_budget.per_extra_instance} |" in row
        assert f"{contract.cardinality_limit(signal):,} attribute sets" in row


def test_the_contract_pages_totals_are_the_sums_of_its_own_budget_table() -> None:
    """What the backend team reads on the contract page: "In all: N series per tenant with one
    backend instance, M with two". N is the sum of the table's "per tenant" column and M adds its
    "each further instance adds" column once, read from the rendered page itself, so a total that
    drifts from the rows above it is caught before anyone commits the page. (Planted-bug sample
    14, m2 M2: the two-instance figure repeated the one-instance one.)"""
    page = build_documents(load_project(REPO)).contract_markdown
    header = "| series | per tenant | each further instance adds |"
    lines = page.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("| `"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append((int(cells[1]), int(cells[2]), int(cells[3])))
    assert rows, "the budget table has no row"
    one = sum(series for series, _, _ in rows)
    two = one + sum(extra for _, extra, _ in rows)
    sharded = one + sum(shard for _, _, shard in rows)
    (total,) = [line for line in lines if line.startswith("In all: ")]
    assert f"In all: {one} series per tenant with one backend instance, {two} with two," in total, total
    assert f"; {sharded} with one instance behind two Collector shards" in total, total
