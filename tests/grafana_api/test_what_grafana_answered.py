"""The Grafana client believes only what Grafana documents (shared/reference/grafana.md §3.2, §3.3).

- `/api/health`: only an object with `database: "ok"` and, when present, string `version` and
  `commit` is Grafana (they are absent when Grafana hides its version). Any other JSON object (another
  service's health, a proxy's status page) is named as not Grafana, exit 2, before anything is sent.
- A 412 is a version-mismatch conflict (someone saved the dashboard meanwhile) only when Grafana says
  `status: "version-mismatch"`. `name-exists` (older Grafana: another dashboard of the folder has the
  title) or any other status is a failed write with Grafana's own message: calling it a conflict
  would tell the user to `push --force`, which does not help and would overwrite nothing of theirs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from grafana_client.api import GrafanaApi
from pydantic import SecretStr

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.kinds.base import ConflictError, Desired, SyncError
from dashboards_as_code.kinds.dashboard import DashboardKind, dashboard_document
from dashboards_as_code.settings import Settings
from tests.conftest import REPO
from tests.grafana_api import hostile_servers as hs
from tests.grafana_api.conftest import cli
from tests.grafana_server.server import FakeGrafana
from tests.local_http import QuietHandler, serving

OVERVIEW = "tiktickets-overview"


def _grafana(url: str) -> Grafana:
    settings = Settings(grafana_url=url, grafana_token=SecretStr("glsa_admin"), grafana_timeout=5)
    return Grafana(settings, retries=0)


def _health_server(answer: Any) -> Any:
    """A server answering `answer` at /api/health and Grafana's settings at /api/frontend/settings."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
            if self.path.startswith("/api/health"):
                self.reply(200, json.dumps(answer).encode())
            else:
                self.reply(200, json.dumps({"buildInfo": {"version": "11.6.0"}}).encode())

    return serving(Handler)


GRAFANA_HEALTH = [
    {"commit": "abc123", "database": "ok", "version": "11.6.0"},
    {"database": "ok", "version": "12.1.0", "commit": "x", "enterpriseCommit": "y"},
    {"database": "ok"},  # [auth.anonymous] hide_version = true
]
NOT_GRAFANA = {
    "empty": {},
    "spring-actuator": {"status": "UP"},
    "kubernetes-style": {"status": "ok", "version": "1.29"},
    "database-not-ok": {"database": "healthy", "version": "11.6.0"},
    "database-failing-at-200": {"database": "failing", "version": "11.6.0"},
    "database-boolean": {"database": True, "version": "11.6.0"},
    "version-number": {"database": "ok", "version": 11.6},
    "commit-list": {"database": "ok", "version": "11.6.0", "commit": ["abc"]},
    "version-null-database-missing": {"version": "11.6.0", "commit": "abc"},
}


@pytest.mark.parametrize("answer", GRAFANA_HEALTH, ids=["documented", "enterprise", "version-hidden"])
def test_grafanas_own_health_answers_are_taken_for_grafana(answer: dict[str, Any]) -> None:
    with _health_server(answer) as url:
        health = _grafana(url).health()
    assert health.database == "ok" and health.version == answer.get("version")


@pytest.mark.parametrize("answer", list(NOT_GRAFANA.values()), ids=list(NOT_GRAFANA))
def test_any_other_health_object_is_not_grafana(answer: dict[str, Any]) -> None:
    with _health_server(answer) as url, pytest.raises(SyncError) as raised:
        _grafana(url).health()
    assert raised.value.bad_setting  # a settings problem: exit 2
    assert f"{url}/api/health answered" in str(raised.value) and "not Grafana's health JSON" in str(
        raised.value
    )


def test_push_to_a_service_with_another_health_object_sends_nothing(project_copy: Path) -> None:
    """Only the health check reaches it (other shapes, diff, pull: tests/cli/test_bad_answers_and_urls.py)."""
    name = "database-not-ok"
    seen: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            seen.append(f"GET {self.path}")
            self.reply(200, json.dumps(NOT_GRAFANA[name]).encode())

        def do_POST(self) -> None:  # noqa: N802
            seen.append(f"POST {self.path}")
            self.reply(200, b"{}")

    with serving(Handler) as url:
        result = cli(url, "push", project=project_copy)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert "/api/health answered a JSON object, not Grafana's health JSON" in output
    assert seen == ["GET /api/health"], seen


# -- 412: a conflict only when Grafana says version-mismatch ------------------------------------------


@pytest.fixture(scope="module")
def overview() -> dict[str, Any]:
    project = load_project(REPO)
    return dashboard_document(next(d for d in project.dashboards if d.uid == OVERVIEW))


def _desired(document: dict[str, Any]) -> Desired:
    return Desired(
        kind="dashboard", uid=document["uid"], title=document["title"], document=document, owner="t"
    )


NAME_EXISTS = "A dashboard with the same name in the folder already exists"
REFUSALS_412: dict[str, Any] = {
    "name-exists": {"message": NAME_EXISTS, "status": "name-exists"},
    "plugin-dashboard": {"message": "The dashboard belongs to plugin Foo", "status": "plugin-dashboard"},
    "no-status": {"message": "Precondition failed"},
    "unknown-status": {"message": "Precondition failed", "status": "something-new"},
    "status-not-text": {"message": "Precondition failed", "status": 412},
    "list-body": ["version-mismatch"],
    "string-body": "version-mismatch",
}  # fmt: skip


@pytest.mark.parametrize("body", list(REFUSALS_412.values()), ids=list(REFUSALS_412))
def test_a_412_without_version_mismatch_is_a_failed_write_not_a_conflict(
    body: Any, overview: dict[str, Any]
) -> None:
    with (
        hs.hostile(lambda handler: handler.json(412, body)) as (url, _),
        pytest.raises(SyncError) as raised,
    ):
        DashboardKind().write(_grafana(url), _desired(overview), None, force=False)
    assert not isinstance(raised.value, ConflictError), str(raised.value)
    assert raised.value.status == 412 and f"dashboard {OVERVIEW!r}: 412" in str(raised.value)
    if isinstance(body, dict):
        assert body["message"] in str(raised.value)


def test_a_412_version_mismatch_is_a_conflict(overview: dict[str, Any]) -> None:
    body = {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}
    with (
        hs.hostile(lambda handler: handler.json(412, body)) as (url, _),
        pytest.raises(ConflictError) as raised,
    ):
        DashboardKind().write(_grafana(url), _desired(overview), None, force=False)
    assert "412 version-mismatch" in str(raised.value)


@pytest.fixture
def older_grafana(overview: dict[str, Any]) -> Iterator[FakeGrafana]:
    """An older Grafana whose TikTickets folder holds a hand-made dashboard titled like the overview."""
    with FakeGrafana(titles_unique_in_folder=True) as server:
        api = GrafanaApi.from_url(server.url + "/", credential="glsa_admin", timeout=5)
        api.folder.create_folder("TikTickets", uid="tiktickets")
        made = {"uid": "made-by-hand", "title": overview["title"], "panels": []}
        api.dashboard.update_dashboard({"dashboard": made, "folderUid": "tiktickets", "overwrite": False})
        yield server


def test_push_meeting_name_exists_reports_a_failure_with_grafanas_reason(
    older_grafana: FakeGrafana, project_copy: Path
) -> None:
    result = cli(older_grafana.url, "push", project=project_copy)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert (
        f"failed     dashboard {OVERVIEW}: dashboard {OVERVIEW!r}: 412 A dashboard with the same name"
        in output
    )
    assert f"conflict   dashboard {OVERVIEW}" not in output and "version-mismatch" not in output
    assert OVERVIEW not in older_grafana.state.dashboards  # nothing of the hand-made one was taken over
    assert older_grafana.state.dashboards["made-by-hand"]["dashboard"]["panels"] == []
