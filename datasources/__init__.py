"""The datasources Grafana gets, with the correlations between them.

Prometheus exemplars -> Jaeger, Loki `trace_id` -> Jaeger, Jaeger trace -> Loki logs (and metrics).
Add a datasource by adding a module here and listing it in DATASOURCES.
"""

from datasources.jaeger import JAEGER
from datasources.loki import LOKI
from datasources.prometheus import PROMETHEUS

DATASOURCES = [PROMETHEUS, LOKI, JAEGER]

__all__ = ["DATASOURCES", "JAEGER", "LOKI", "PROMETHEUS"]
