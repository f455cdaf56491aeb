"""The stack's programs that only `make stack`, the end-to-end tests and the benchmarks run: the demo
backend, the Collector, Jaeger, and Go for what is built on first use.

They are not the engine's: `build`, `check`, `push` and `doctor` never start them, so they live with
the stack (dashboards_as_code/external_tools.py keeps the checkers the engine runs: promtool, amtool, Node's
LogQL grammar and Grafana's schema).
"""

from dashboards_as_code.external_tools import Tool

DEMO = Tool(
    "demo backend (monitoring/demo)",
    "install Node.js, then run `make tools` (npm ci in monitoring/demo)",
    "monitoring/demo/demo.js",
)


OTELCOL = Tool(
    "the OpenTelemetry Collector (tools/bin/otelcol-tiktickets)",
    "install Go 1.26, then run `make tools` (scripts/build-otelcol builds tools/otelcol/manifest.yaml)",
    binary="tools/bin/otelcol-tiktickets",
    on_path=False,
)


JAEGER = Tool(
    "Jaeger v2 (tools/bin/jaeger)",
    "install Go 1.26, then run `make tools` (scripts/build-gotools builds it from tools/jaeger/go.mod)",
    binary="tools/bin/jaeger",
    on_path=False,
)


CORTEX = Tool(
    "Cortex (tools/bin/cortex)",
    "install Go 1.26, then run `make tools` (scripts/build-gotools builds it from tools/cortex/go.mod)",
    binary="tools/bin/cortex",
    on_path=False,
)
"""The metrics engine of the scaled topology (monitoring/docker-compose.scale.yml)."""


GO = Tool("go", "install Go 1.26 (`make tools` builds Prometheus, Jaeger and the Collector with it)")
"""Go itself, for what is built on first use (the benchmark's history writer, tools/gotools/cmd/tsdbfill)."""
