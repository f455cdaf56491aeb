"""A real Prometheus (Debian's 2.42) scraping contract-shaped series, shared by this folder's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from config import CONFIG
from engine.external_tools import PROMETHEUS
from tests.conftest import REPO
from tests.prometheus.collector_exporter import CollectorExporter, serve
from tests.prometheus.server import Prometheus, running_prometheus
from tests.tooling import require_tool

SAMPLES_NEEDED = 6
"""Scrapes (1 s apart) before the tests query: enough for rate() over the 5 s window used below."""


def rules_for_the_test(directory: Path) -> Path:
    """The generated rule file, with every group evaluated each second (the test scrapes each second)."""
    document = yaml.safe_load((REPO / CONFIG.rules_file).read_text())
    for group in document["groups"]:
        group["interval"] = "1s"
    path = directory / "rules.yml"
    path.write_text(yaml.safe_dump(document))
    return path


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
