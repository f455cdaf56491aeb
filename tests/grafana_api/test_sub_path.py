"""A Grafana behind a reverse proxy at a sub-path (`root_url = http://host/grafana/`,
`serve_from_sub_path = true`): GRAFANA_URL=http://host/grafana reaches its API at /grafana/api/...

A join that loses the sub-path's trailing slash asks /grafanaapi/health (or /api/health on the
proxy's root), gets a 404, and `push` refuses a Grafana that is there. The test server serves
under the sub-path only and answers 404 outside it, as such a proxy does.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from dashboards_as_code.definitions.loader import load_project
from tests.conftest import REPO, push_writes
from tests.grafana_api.conftest import cli
from tests.grafana_server.server import FakeGrafana

SUB_PATH = "/grafana"


def test_the_test_server_serves_under_its_sub_path_only() -> None:
    """The premise: /grafana/api/health answers, /api/health does not."""
    with FakeGrafana(sub_path=SUB_PATH) as server:
        assert server.url.endswith(SUB_PATH)
        with urllib.request.urlopen(f"{server.url}/api/health", timeout=10) as answer:
            assert answer.status == 200
        root = server.url.removesuffix(SUB_PATH)
        with pytest.raises(urllib.error.HTTPError) as outside:
            urllib.request.urlopen(f"{root}/api/health", timeout=10)
        assert outside.value.code == 404


def test_push_and_diff_reach_a_grafana_served_from_a_sub_path() -> None:
    with FakeGrafana(sub_path=SUB_PATH) as server:
        pushed = cli(server.url, "push")
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        assert len(server.state.writes) == push_writes(load_project(REPO))
        assert all(path.startswith("/api/") for _, path, _ in server.state.writes)
        same = cli(server.url, "diff")
        assert same.returncode == 0, same.stdout + same.stderr
