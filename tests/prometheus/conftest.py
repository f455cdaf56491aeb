"""A real Prometheus (Debian's 2.42) scraping contract-shaped series, shared by this folder's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from machinery.tools import PROMETHEUS
from tests.prometheus.collector_exporter import CollectorExporter, serve
from tests.prometheus.server import Prometheus, running_prometheus
from tests.tooling import require_tool

SAMPLES_NEEDED = 6
"""Scrapes (1 s apart) before the tests query: enough for rate() over the 5 s window used below."""


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    binary = require_tool(PROMETHEUS)
    server, port = serve(CollectorExporter())
    try:
        with running_prometheus(binary, tmp_path_factory.mktemp("prometheus"), f"127.0.0.1:{port}") as prom:
            prom.wait_for(
                'count_over_time(tiktickets_socketio_connections{tenant_id="acme"}[1m])', SAMPLES_NEEDED
            )
            yield prom
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def repo() -> Path:
    return Path(__file__).resolve().parents[2]
