"""What the comments of the Collector config promise about the per-tenant counts, read from the file.

Each test states one sentence of monitoring/otel-collector/config.yaml as the series Prometheus gets:
which spans a tenant's counts read, which resource they are one of, how many tenants they keep apart,
when a quiet tenant's series ends, and which flush interval the end-to-end tests may shorten.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from telemetry.contract import CONTRACT, TENANT_SLOW_SPAN_CALLS, TENANT_SPAN_CALLS
from tests.stack.conftest import MONITORING, load

PER_TENANT = {"span_metrics/tenant": TENANT_SPAN_CALLS, "span_metrics/tenant_slow": TENANT_SLOW_SPAN_CALLS}
KEEP_KEYS = re.compile(r"^keep_keys\(resource\.attributes, \[(?P<keys>[^\]]*)\]\)$")


def test_the_per_tenant_counts_read_server_spans_only(collector: dict[str, Any]) -> None:
    """The comment: "server spans only (an Express middleware span carries the tenant too, and
    would count once more per request)": a filter processor drops the spans its condition matches,
    so the condition must match every span that is not a server span, and nothing else."""
    conditions = collector["processors"]["filter/server_spans"]["traces"]["span"]
    assert conditions == ["span.kind != SPAN_KIND_SERVER"]
    pipelines = collector["service"]["pipelines"]
    for name in ("traces/tenant", "traces/tenant_slow"):
        assert "filter/server_spans" in pipelines[name]["processors"], name
    # The route-level pipeline keeps every span: Jaeger shows the middleware spans too.
    assert "filter/server_spans" not in pipelines["traces"]["processors"]


def test_the_per_tenant_counts_keep_the_two_attributes_prometheus_makes_the_job_from(
    collector: dict[str, Any],
) -> None:
    """The comment: "without its instance, host and process attributes": only service.namespace and
    service.name stay, the two the Prometheus exporter writes as job="tiktickets/tiktickets-backend". Without
    service.namespace the per-tenant series would carry job="tiktickets-backend", and every query on
    the application's job would miss them; with any other attribute each instance is a series."""
    (statement,) = collector["processors"]["transform/one_resource"]["trace_statements"]
    match = KEEP_KEYS.match(statement)
    assert match is not None, statement
    kept = [key.strip().strip('"') for key in match["keys"].split(",")]
    assert sorted(kept) == ["service.name", "service.namespace"]


@pytest.mark.parametrize("connector", sorted(PER_TENANT))
def test_each_per_tenant_connector_keeps_the_contracts_number_of_attribute_sets(
    collector: dict[str, Any], connector: str
) -> None:
    """The comment: "The contract's limit: N series x 10,000 tenants x 2": the limit is the
    contract's, no lower (the last tenants would fold into the overflow series) and no higher (the
    budget's memory bound)."""
    signal = PER_TENANT[connector]
    assert collector["connectors"][connector]["aggregation_cardinality_limit"] == CONTRACT.cardinality_limit(
        signal
    )


@pytest.mark.parametrize("connector", sorted(PER_TENANT))
def test_a_tenant_quiet_for_an_hour_stops_being_a_series(collector: dict[str, Any], connector: str) -> None:
    """The comment: "A tenant with no request for an hour is forgotten (its series ends) instead of
    kept forever", and the slow count is a series "only while the tenant had a slow request in the
    last hour"."""
    assert collector["connectors"][connector]["metrics_expiration"] == "1h"


def test_every_span_metrics_connector_flushes_at_the_interval_the_tests_can_shorten() -> None:
    """Every connector's flush interval is ${env:SPAN_METRICS_FLUSH_INTERVAL:-15s}: the end-to-end
    tests set SPAN_METRICS_FLUSH_INTERVAL=1s, and a connector with a literal interval would keep its
    series 15 s behind the others there (and its own pace if the variable is set in production)."""
    raw = load(MONITORING / "otel-collector" / "config.yaml")
    intervals = {name: c.get("metrics_flush_interval") for name, c in raw["connectors"].items()}
    assert intervals == dict.fromkeys(raw["connectors"], "${env:SPAN_METRICS_FLUSH_INTERVAL:-15s}")
