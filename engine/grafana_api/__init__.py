"""Where the Grafana HTTP API is called: push, diff, pull and prune against a live Grafana.

`client.py` wraps grafana-client (retries, error messages, request counts); `normalise.py` says
which fields are dropped before comparing and why; `handlers.py` has one handler per kind
(folder, datasource, dashboard); `plan.py` turns desired and live objects into actions and
applies them. The CLI in build.py only prints what these return.
"""
