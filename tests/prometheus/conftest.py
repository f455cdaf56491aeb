"""A real Prometheus scraping contract-shaped series, with the rules the definitions render now."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboards_as_code.external_tools import PROMETHEUS
from prometheus_rules.tenant_slo import TENANT_REQUESTS, above_floor
from tests.prometheus.collector_exporter import TENANTS, CollectorExporter, serve
from tests.prometheus.rules import rules_for_the_test
from tests.prometheus.server import Prometheus, running_prometheus
from tests.tooling import require_tool

SAMPLES_NEEDED = 6
"""Scrapes (1 s apart) before the tests query: enough for rate() over the 5 s window used below."""
FLOOR_HELD = 5
"""Seconds for which every tenant must have been above the per-tenant traffic floor before the tests
query. The floor is read from a rate over 1h of a few seconds of data, so it is passed only after
about three scrapes, and the tests read 3 s in the past (every rule row of that instant written):
waiting only for the scrapes left a panel gated by the floor empty on a loaded machine (CI, stop 35)."""


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    binary = require_tool(PROMETHEUS)
    server, port = serve(CollectorExporter())
    workdir = tmp_path_factory.mktemp("prometheus")
    try:
        with running_prometheus(binary, workdir, f"127.0.0.1:{port}", [rules_for_the_test(workdir)]) as prom:
            prom.wait_for(
                'count_over_time(tiktickets_socketio_connections{tenant_id="acme"}[1m])', SAMPLES_NEEDED
            )
            prom.wait_for(
                "count_over_time(tenant_id:tiktickets_socketio_connections:sum[1m])", SAMPLES_NEEDED
            )
            floor_held = f"count_over_time(({above_floor(TENANT_REQUESTS.record)})[{FLOOR_HELD}s:1s])"
            prom.wait_for(f"count(({floor_held}) >= {FLOOR_HELD})", len(TENANTS))
            yield prom
    finally:
        server.shutdown()
