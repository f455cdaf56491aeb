"""Push/diff/pull scenarios run against the Grafana test server, or a real Grafana with `-m live`.

`pytest -m live` with GRAFANA_URL (and GRAFANA_TOKEN or GRAFANA_USER/GRAFANA_PASSWORD) set runs the
scenarios marked for both against that Grafana; they are deselected by default. The Grafana must
not provision these dashboards and datasources from files (start it without the provisioning mount).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError

from dashboards_as_code.defaults import MANAGED_TAG
from datasources import DATASOURCES
from tests.conftest import REPO
from tests.grafana_server.server import FakeGrafana

PROJECT_UIDS = {"dashboards": ["tiktickets-overview"], "datasources": [d.uid for d in DATASOURCES]}


@dataclass
class Target:
    """The Grafana a scenario runs against, with what the scenario needs to set it up and inspect it."""

    url: str
    credentials: dict[str, str]
    server: FakeGrafana | None

    @property
    def api(self) -> GrafanaApi:
        credential: Any = self.credentials.get("GRAFANA_TOKEN") or (
            self.credentials["GRAFANA_USER"],
            self.credentials["GRAFANA_PASSWORD"],
        )
        api: GrafanaApi = GrafanaApi.from_url(self.url + "/", credential=credential, timeout=10)
        return api

    def dashboard(self, uid: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.api.dashboard.get_dashboard(uid)
        except GrafanaClientError as error:
            if error.status_code == 404:
                return None
            raise
        return found

    def edit_dashboard(self, uid: str, change: Callable[[dict[str, Any]], None]) -> None:
        """What a user's save in the dashboard editor does: a new version with their JSON."""
        current = self.api.dashboard.get_dashboard(uid)
        dashboard = current["dashboard"]
        change(dashboard)
        self.api.dashboard.update_dashboard(
            {"dashboard": dashboard, "folderUid": current["meta"].get("folderUid", ""), "overwrite": False}
        )

    def reset(self) -> None:
        """Remove what the project pushes (live Grafana only; the test server starts empty)."""
        api = self.api
        for hit in api.search.search_dashboards(tag=MANAGED_TAG, type_="dash-db"):
            api.dashboard.delete_dashboard(hit["uid"])
        for uid in PROJECT_UIDS["dashboards"]:
            if self.dashboard(uid):
                api.dashboard.delete_dashboard(uid)
        for uid in PROJECT_UIDS["datasources"]:
            with contextlib.suppress(GrafanaClientError):
                api.datasource.delete_datasource_by_uid(uid)
        for folder in api.folder.get_all_folders():
            if folder["uid"] == "tiktickets":
                api.folder.delete_folder("tiktickets")


@pytest.fixture(params=["test-server", "test-server-13", pytest.param("live", marks=pytest.mark.live)])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The test server as a Grafana without the resource API (`test-server`: 11.6, every dashboard
    through `/api/dashboards`) and as Grafana 13.2 (`test-server-13`: through `/apis`), or a live one."""
    if request.param == "live":
        credentials = {k: v for k, v in os.environ.items() if k.startswith("GRAFANA_") and k != "GRAFANA_URL"}
        if "GRAFANA_URL" not in os.environ:
            pytest.fail(
                "pytest -m live needs GRAFANA_URL (and GRAFANA_TOKEN or GRAFANA_USER/GRAFANA_PASSWORD)"
            )
        live = Target(os.environ["GRAFANA_URL"].rstrip("/"), credentials, None)
        live.reset()
        yield live
        return
    with FakeGrafana(version="13.2.0" if request.param == "test-server-13" else "11.6.0") as server:
        yield Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)


@pytest.fixture
def grafana13() -> Iterator[Target]:
    """The test server as Grafana 13.2 only: for what exists only through its resource API."""
    with FakeGrafana(version="13.2.0") as server:
        yield Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)


def server_of(target: Target) -> FakeGrafana:
    """The test server behind `target` (a live Grafana has none)."""
    assert target.server is not None
    return target.server


@pytest.fixture
def fake() -> Iterator[Target]:
    """For scenarios that need fault injection or provisioning: the test server only."""
    with FakeGrafana() as server:
        yield Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)


def cli(
    target_or_url: Target | str,
    *args: str,
    project: Path = REPO,
    credentials: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run build.py as a user would, with only the given Grafana settings in the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAFANA_")} | (extra_env or {})
    if isinstance(target_or_url, Target):
        env.update(GRAFANA_URL=target_or_url.url, **(credentials or target_or_url.credentials))
    else:
        env.update(GRAFANA_URL=target_or_url, **(credentials or {"GRAFANA_TOKEN": "glsa_admin"}))
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "build.py"),
            *args,
            *(["--project", str(project)] if args[0] != "pull" else []),
        ],
        env=env,
        cwd=project,  # no developer .env is picked up from elsewhere
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
