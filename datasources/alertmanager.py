"""Alertmanager: the alerts Prometheus' rules fire, and their silences, seen from Grafana's Alerting UI."""

from dashboards_as_code.define import AlertmanagerDatasource, AlertmanagerOptions

ALERTMANAGER = AlertmanagerDatasource(
    name="Alertmanager",
    uid="alertmanager",
    url="http://alertmanager:9093",
    json_data=AlertmanagerOptions(implementation="prometheus"),
)
