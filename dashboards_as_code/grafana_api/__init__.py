"""Where the Grafana HTTP API is called: push, diff, pull and prune against a live Grafana.

`client.py` wraps grafana-client (retries, error messages, request counts) and is the `GrafanaHttp`
every kind asks (dashboards_as_code/kinds/: what to send for a folder, a datasource, a dashboard); `plan.py`
turns desired and live objects into actions, kind by kind in push order, and applies them. The CLI
only prints what these return.
"""
