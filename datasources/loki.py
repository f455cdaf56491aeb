"""Loki: logs via native OTLP; `trace_id` is structured metadata and links to Jaeger."""

from dashboards_as_code.define import DerivedField, LokiDatasource, LokiOptions

TRACE_ID_FIELD = "TraceID"
"""The field the derived field below adds to every log row that has a trace_id: the Loki -> Jaeger
correlation (correlations.py) hangs its link on it and reads the trace id from it."""

LOKI = LokiDatasource(
    name="Loki",
    uid="loki",
    url="http://loki:3100",
    json_data=LokiOptions(
        max_lines=1000,
        derived_fields=[
            DerivedField(
                name=TRACE_ID_FIELD,
                # OTLP logs keep trace_id out of the line, so match the label, anchored: an
                # unanchored 'trace_id' would also match a key like 'parent_trace_id_x'.
                matcher_type="label",
                matcher_regex="^trace_id$",
                datasource_uid="jaeger",
                url="${__value.raw}",
                url_display_label="View trace in Jaeger",
            )
        ],
    ),
)
