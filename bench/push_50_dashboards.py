#!/usr/bin/env python3
"""Benchmark: push 50 dashboards to the Grafana test server with 50 ms latency on every request.

Prints wall time and request counts for a first push and a no-op re-push, sequential (1 worker)
and concurrent (the default 8 workers). Run from the repository root:
`.venv/bin/python -m bench.push_50_dashboards`.
"""

from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from config import OVERVIEW_UID
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.grafana_api.plan import DEFAULT_WORKERS, desired_objects, synchronise
from dashboards_as_code.render.documents import Documents, build_documents
from dashboards_as_code.settings import Settings
from datasources import DATASOURCES
from tests.grafana_server.server import FakeGrafana

DASHBOARDS = 50
LATENCY = 0.05


def documents() -> Documents:
    """This repository's project with the Overview copied under DASHBOARDS other uids and titles
    (picked by uid: the project may hold other dashboards, which the 50 copies replace)."""
    project = load_project(Path(__file__).resolve().parent.parent)
    (base,) = [board for board in project.dashboards if board.uid == OVERVIEW_UID]
    copies = []
    for index in range(DASHBOARDS):
        item = copy.deepcopy(base)
        item.dashboard.uid = f"bench-{index:02d}"
        item.dashboard.title = f"Bench {index:02d}"
        copies.append(item)
    project.definitions["dashboard"] = copies
    return build_documents(project)


def run(workers: int) -> list[tuple[str, float, int, int]]:
    rows = []
    desired = desired_objects(documents())
    with FakeGrafana() as server, tempfile.TemporaryDirectory() as backups:
        server.state.latency = LATENCY
        for label in ("first push", "no-op re-push"):
            grafana = Grafana(Settings(grafana_url=server.url, grafana_token=SecretStr("glsa_admin")))
            before = len(server.state.requests)
            started = time.perf_counter()
            report = synchronise(grafana, desired, apply=True, backup_dir=Path(backups), workers=workers)
            wall = time.perf_counter() - started
            assert report.ok, [a.error for a in report.actions if a.failed]
            requests = server.state.requests[before:]
            writes = sum(1 for method, _, _ in requests if method != "GET")
            rows.append((label, wall, len(requests), writes))
    return rows


def main() -> None:
    objects = f"{DASHBOARDS} dashboards + 1 folder + {len(DATASOURCES)} datasources"
    print(f"{objects}, {LATENCY * 1000:.0f} ms per request")
    print(f"{'workers':>7}  {'run':<14} {'wall (s)':>8} {'requests':>8} {'writes':>6}")
    for workers in (1, DEFAULT_WORKERS):
        for label, wall, requests, writes in run(workers):
            print(f"{workers:>7}  {label:<14} {wall:>8.2f} {requests:>8} {writes:>6}")


if __name__ == "__main__":
    main()
