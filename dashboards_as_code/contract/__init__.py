"""The telemetry contract's types: signals, their OTel -> Prometheus/Loki names, and its Markdown form."""
