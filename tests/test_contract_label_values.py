"""The contract page tells a query author each Prometheus label and its values
(`span_kind="SPAN_KIND_SERVER"`, not `span.kind="server"`), and the contract refuses values described
for a label no metric has.

Engine behaviour is tried on a small contract of its own; the last test reads TikTickets' contract.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dashboards_as_code.contract.markdown import contract_markdown
from dashboards_as_code.contract.model import (
    RESOURCE_LABEL_SOURCES,
    Instrument,
    LabelValues,
    MetricSignal,
    Resource,
    TelemetryContract,
    TenantBudget,
    prometheus_label,
)
from telemetry.contract import CONTRACT

_ORDERS = MetricSignal(
    key="orders",
    otel_name="shop.orders",
    unit="{order}",
    instrument=Instrument.COUNTER,
    emitter="the shop",
    description="Orders placed.",
    attributes=("http.route", "tenant_id"),
    identity=(("job", "shop/api"),),
    prometheus_name="shop_orders_total",
    grafana_unit="short",
    tenant_budget=TenantBudget(series=3, per_extra_instance=3, dimensions="`http_route`: three routes"),
)


def _contract(*described: LabelValues) -> TelemetryContract:
    return TelemetryContract(
        resource=Resource(service_name="api", service_namespace="shop"),
        metrics=(_ORDERS,),
        logs=(),
        traces=(),
        label_values=described,
    )


def _page(contract: TelemetryContract) -> str:
    return contract_markdown(contract, title="Shop", source="shop/contract.py")


def _row(page: str, label: str) -> str:
    rows = [line for line in page.splitlines() if line.startswith(f"| `{label}` |")]
    assert len(rows) == 1, f"one row for {label!r} in the label table, got {rows}"
    return rows[0]


def test_values_for_a_label_no_metric_has_are_refused_with_the_labels_there_are() -> None:
    # `http.route` is the OTel spelling: the label is `http_route`.
    with pytest.raises(
        ValidationError, match=r"'http\.route' is not a Prometheus label of any metric.*http_route"
    ):
        _contract(LabelValues(label="http.route", values=("/orders",)))


def test_a_label_described_twice_or_with_no_value_is_refused() -> None:
    with pytest.raises(ValidationError, match="'tenant_id' is described twice"):
        _contract(
            LabelValues(label="tenant_id", values=("a",)), LabelValues(label="tenant_id", values=("b",))
        )
    with pytest.raises(ValidationError, match="'tenant_id' lists no value"):
        _contract(LabelValues(label="tenant_id", values=()))


def test_every_label_of_every_metric_has_a_row_with_the_attribute_it_comes_from() -> None:
    page = _page(_contract())
    for label in _ORDERS.labels:
        row = _row(page, label)
        if label in RESOURCE_LABEL_SOURCES:
            assert RESOURCE_LABEL_SOURCES[label] in row
        else:
            attribute = next(a for a in _ORDERS.attributes if prometheus_label(a) == label)
            assert f"`{attribute}`" in row
        assert row.endswith("| - |"), "a label the contract says nothing about shows no values"
    assert "| `le` |" not in page, "le is a histogram bucket's, not a label of this counter"


def test_values_are_written_as_a_query_types_them_and_a_closed_list_says_so() -> None:
    page = _page(
        _contract(
            LabelValues(label="http_route", values=("/orders/:id",), meaning="the route template"),
            LabelValues(label="tenant_id", values=("acme", "unknown"), closed=True),
        )
    )
    route = _row(page, "http_route")
    assert '`http_route="/orders/:id"` (examples): the route template' in route
    assert '`tenant_id="acme"`, `tenant_id="unknown"` (the complete list)' in _row(page, "tenant_id")
    assert "every metric" in _row(page, "job")


def test_tiktickets_describes_the_values_of_every_label_its_metrics_carry() -> None:
    """A query author must never guess a value: a new attribute in the contract comes with its values."""
    carried = {label for metric in CONTRACT.metrics for label in metric.labels}
    described = {entry.label for entry in CONTRACT.label_values}
    assert carried - described == set(), "add LabelValues for these labels in telemetry/contract.py"
