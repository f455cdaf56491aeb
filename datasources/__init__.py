"""The datasources Grafana gets, with the correlations between them.

Prometheus exemplars -> Jaeger, Loki `trace_id` -> Jaeger, Jaeger trace -> Loki logs (and metrics);
and Alertmanager, so Grafana's Alerting UI shows the alerts the rules fire.
Add a datasource by adding a module here and listing it in DATASOURCES; a correlation (a link Explore
shows from one datasource's results to a query on another) in correlations.py.
"""

from datasources.alertmanager import ALERTMANAGER
from datasources.correlations import CORRELATIONS
from datasources.jaeger import JAEGER
from datasources.loki import LOKI
from datasources.prometheus import PROMETHEUS

DATASOURCES = [PROMETHEUS, LOKI, JAEGER, ALERTMANAGER]

__all__ = ["ALERTMANAGER", "CORRELATIONS", "DATASOURCES", "JAEGER", "LOKI", "PROMETHEUS"]
