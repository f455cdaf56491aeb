"""`doctor`: why a panel shows nothing, asked of the live Prometheus and Loki.

Layout: `http.py` (one bounded GET, straight or through Grafana's datasource proxy),
`prometheus_api.py` / `loki_api.py` (the read-only API slices), `prometheus_diagnosis.py` /
`loki_diagnosis.py` (taking an empty query apart), `causes.py` (statuses and the stable cause
codes), `run.py` (every panel of every dashboard) and `report.py` (table, plain lines, JSON).
Variables and intervals are filled in as Grafana does by `dashboards_as_code/grafana_math.py`.
"""
