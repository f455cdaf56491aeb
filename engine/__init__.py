"""The machinery that turns the definitions in `dashboards/` and `datasources/` into Grafana.

Nothing in here names a TikTickets metric or panel; that lives in `telemetry/` and the definitions.
"""
