"""Grafana correlations: Explore's links from a row of results to a query on another datasource.

The datasources already link the signals (Loki's derived field, Jaeger's traces-to-logs, Prometheus'
exemplars); these are the same journeys as Grafana correlations, which Explore shows as links that
run a query (not only a URL) and which Grafana keeps as objects of their own. A correlation's
variables are the fields of the clicked row, by name; Explore hides a link when one is missing.
None of them is per tenant: three objects in Grafana, whatever the number of tenants.
"""

from dashboards_as_code.define import Correlation
from dashboards_as_code.define import queries as q
from datasources.jaeger import JAEGER
from datasources.loki import LOKI, TRACE_ID_FIELD
from datasources.prometheus import PROMETHEUS
from telemetry.contract import BACKEND_LOGS

LOG_LINE_TO_TRACE = Correlation(
    source_uid=LOKI.uid,
    target_uid=JAEGER.uid,
    label="Open the trace in Jaeger",
    description="The trace this log line was written in (the TraceID field Loki's derived field adds).",
    field=TRACE_ID_FIELD,
    # Jaeger's query model for a trace lookup: the trace id in `query`, no queryType.
    target={"query": "${" + TRACE_ID_FIELD + "}"},
)

SPAN_TO_LOGS = Correlation(
    source_uid=JAEGER.uid,
    target_uid=LOKI.uid,
    label="Logs of this trace",
    description="The log lines written while the trace ran, in the service of the clicked span.",
    field="traceID",
    target={
        "expr": q.correlated_logs(
            BACKEND_LOGS, stream={"service_name": "${serviceName}"}, metadata={"trace_id": "${traceID}"}
        ),
        "queryType": "range",
    },
)

TENANT_SERIES_TO_LOGS = Correlation(
    source_uid=PROMETHEUS.uid,
    target_uid=LOKI.uid,
    label="Logs of this tenant",
    description=(
        "The tenant's log lines in the same service. Shown on the tenant_id column of a Prometheus table "
        "result that also has service_name (Explore's table view): series labels are fields only there."
    ),
    field="tenant_id",
    target={
        "expr": q.correlated_logs(
            BACKEND_LOGS, stream={"service_name": "${service_name}"}, metadata={"tenant_id": "${tenant_id}"}
        ),
        "queryType": "range",
    },
)

CORRELATIONS = [LOG_LINE_TO_TRACE, SPAN_TO_LOGS, TENANT_SERIES_TO_LOGS]
