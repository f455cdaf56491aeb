"""Prometheus: metrics from the Collector, with exemplars linking to the trace in Jaeger."""

from dashboards_as_code.define import ExemplarDestination, PrometheusDatasource, PrometheusOptions
from telemetry.contract import SPAN_DURATION

PROMETHEUS = PrometheusDatasource(
    name="Prometheus",
    uid="prometheus",
    url="http://prometheus:9090",
    is_default=True,
    json_data=PrometheusOptions(
        time_interval="15s",
        exemplar_trace_id_destinations=[
            ExemplarDestination(
                # The exemplar label the spanmetrics connector writes; Grafana matches it exactly.
                name=SPAN_DURATION.exemplar_labels[0],
                datasource_uid="jaeger",
                url_display_label="View trace in Jaeger",
            )
        ],
    ),
)
