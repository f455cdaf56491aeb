"""Jaeger (v2): traces from the Collector; a span opens its logs in Loki and its metrics in Prometheus."""

from dashboards_as_code.define import (
    JaegerDatasource,
    JaegerOptions,
    MetricQuery,
    TagMapping,
    TracesToLogs,
    TracesToMetrics,
)
from dashboards_as_code.define import queries as q
from telemetry.contract import BACKEND_LOGS, SPAN_CALLS, SPAN_DURATION

# Explore opens these links, so fixed 5m windows rather than $__rate_interval.
# The span's service.name becomes the `service_name` label/stream label of the target query.
_SERVICE_TAG = [TagMapping(key="service.name", value="service_name")]

JAEGER = JaegerDatasource(
    name="Jaeger",
    uid="jaeger",
    url="http://jaeger:16686",
    json_data=JaegerOptions(
        traces_to_logs=TracesToLogs(
            datasource_uid="loki",
            tags=_SERVICE_TAG,
            custom_query=True,
            query=q.logs_of_trace(BACKEND_LOGS),
        ),
        traces_to_metrics=TracesToMetrics(
            datasource_uid="prometheus",
            tags=_SERVICE_TAG,
            queries=[
                MetricQuery(
                    name="Request rate",
                    query=q.sum_by(q.rate(q.select(SPAN_CALLS, grafana_tags=True), window="5m")).text,
                ),
                MetricQuery(
                    name="Latency p95",
                    query=q.histogram_quantile(0.95, SPAN_DURATION, window="5m", grafana_tags=True).text,
                ),
            ],
        ),
    ),
)
