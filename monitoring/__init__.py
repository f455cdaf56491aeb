"""The stack's committed configs (compose, Collector, Prometheus, Loki, Jaeger, Vector, the demo) and the
code that runs them on 127.0.0.1 without containers: `loopback` renders the configs, `local_stack` is
`make stack`, `stand_ins` serves the Loki and Grafana stand-ins."""
