"""A real Prometheus scraping contract-shaped series, with the rules the definitions render now."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.external_tools import PROMETHEUS
from tests.prometheus.collector_exporter import CollectorExporter, serve
from tests.prometheus.rules import rules_for_the_test
from tests.prometheus.server import Prometheus, running_prometheus
from tests.tooling import require_tool

SAMPLES_NEEDED = 6
"""Scrapes (1 s apart) before the tests query: enough for rate() over the 5 s window used below."""


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
            yield prom
    finally:
        server.shutdown()
