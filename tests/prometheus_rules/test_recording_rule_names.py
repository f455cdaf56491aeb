"""A recording rule is named level:metric:operations (Prometheus' naming practice for recording rules),
or the project does not load: the name is how a panel, an alert or a reader tells a recorded series
from a raw one and what it was aggregated by."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dashboards_as_code import queries as q
from dashboards_as_code.definitions.prometheus_rule import RecordingRule

EXPR = q.PromQL(
    "sum by (job) (rate(http_server_request_duration_seconds_count[5m]))", (), labels=frozenset({"job"})
)


def _rule(record: str) -> RecordingRule:
    return RecordingRule(record=record, expr=EXPR, grafana_unit="reqps")


@pytest.mark.parametrize(
    "record",
    ["job:http_server_requests:rate5m", "tenant_id_job:http_server_requests:rate5m", "job:x:sum:rate5m"],
)
def test_a_name_with_a_level_a_metric_and_operations_is_accepted(record: str) -> None:
    assert _rule(record).record == record


@pytest.mark.parametrize(
    "record",
    ["job:http_server_requests", "http_server_requests:rate5m", "http_server_requests_rate5m"],
    ids=["level-and-metric-only", "metric-and-operations-only", "no-colon"],
)
def test_a_name_without_all_three_parts_is_refused_with_the_form_it_should_take(record: str) -> None:
    with pytest.raises(ValidationError) as refused:
        _rule(record)
    message = str(refused.value)
    assert f"recording rule name {record!r} should read level:metric:operations" in message, message
