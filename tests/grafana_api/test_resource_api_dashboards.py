"""push, diff, pull and prune against Grafana 13: dashboards through the resource API (`/apis`).

The test server plays Grafana 13.2 (`/apis/dashboard.grafana.app`, preferred version v2, as with
dynamic dashboards on) on one store shared with its legacy `/api`, so what the 13.x UI does (save a
dashboard as v2) is seen by both. What is held (issue 25, item 1):
- where the server offers the resource API, no dashboard is read or written through
  `/api/dashboards` (whose read of a v2-stored dashboard is a lossy down-conversion);
- a save made in Grafana between the plan and the write is a conflict (409 on the resourceVersion),
  and the person's save is kept;
- a dashboard saved as v2 in the UI is compared, pulled and overwritten as v2, never as a
  down-converted copy, and `--force` keeps it stored as v2;
- prune lists and deletes through `/apis`, page by page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.kinds.base import ConflictError, Desired
from dashboards_as_code.kinds.dashboard import DashboardKind, schema_v2
from dashboards_as_code.kinds.dashboard.resource_api import LIST_PAGE
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.settings import Settings
from tests.conftest import REPO
from tests.grafana_api.conftest import Target, cli
from tests.grafana_api.test_prune_ownership import COPY
from tests.grafana_api.test_push import SECOND_DASHBOARD
from tests.grafana_server.server import FakeGrafana, Fault

OVERVIEW = "tiktickets-overview"
GROUP_PATH = "/apis/dashboard.grafana.app"


@pytest.fixture
def grafana13() -> Iterator[Target]:
    with FakeGrafana(version="13.2.0") as server:
        yield Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)


def _server(target: Target) -> FakeGrafana:
    assert target.server is not None
    return target.server


def _paths(target: Target, method: str | None = None) -> list[str]:
    return [p for m, p, _ in _server(target).state.requests if method is None or m == method]


def _dashboard_requests(target: Target) -> list[str]:
    return [p for p in _paths(target) if p.startswith(("/api/dashboards", "/api/search"))]


def _stored(target: Target, uid: str) -> dict[str, Any]:
    record: dict[str, Any] = _server(target).state.dashboards[uid]
    return record


def _ours_as_v2(uid: str) -> dict[str, Any]:
    """The v2 spec of one of the project's dashboards, as the 13.x UI would store it after a save in
    which the person changed the title."""
    document = json.loads(next((REPO / "provisioning").rglob(f"{uid}.json")).read_text())
    return {**schema_v2.v2_spec(document), "title": "Saved as v2 in the UI"}


def test_push_to_grafana_13_writes_every_dashboard_through_the_resource_api(
    grafana13: Target, project_copy: Path
) -> None:
    pushed = cli(grafana13, "push", project=project_copy)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    created = [p for p in _paths(grafana13, "POST") if p.startswith(GROUP_PATH)]
    boards = sorted(p.name for p in (project_copy / "provisioning" / "dashboards").rglob("*.json"))
    assert len(created) == len(boards) > 0, created
    assert _dashboard_requests(grafana13) == []  # neither read nor written through the legacy API
    for name in boards:
        record = _stored(grafana13, name.removesuffix(".json"))
        assert record["storedVersion"] == "v1"  # classic, the provisioning files' form
        assert record["folderUid"], name  # the folder annotation reached Grafana
    in_sync = cli(grafana13, "diff", project=project_copy)
    assert in_sync.returncode == 0, in_sync.stdout + in_sync.stderr
    assert _dashboard_requests(grafana13) == []


def test_a_grafana_without_the_resource_api_is_served_through_the_legacy_api(project_copy: Path) -> None:
    with FakeGrafana(version="13.2.0", resource_api=False) as server:
        target = Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)
        assert cli(target, "push", project=project_copy).returncode == 0
        assert any(p == "/api/dashboards/db" for p in _paths(target, "POST"))
        assert [p for p in _paths(target) if p.startswith(f"{GROUP_PATH}/")] == []


def test_a_save_in_grafana_between_plan_and_apply_is_a_409_conflict_and_the_save_is_kept(
    grafana13: Target, project_copy: Path
) -> None:
    assert cli(grafana13, "push", project=project_copy).returncode == 0
    overview = project_copy / "dashboards" / "overview.py"
    overview.write_text(overview.read_text().replace('"Recent error logs"', '"Latest error logs"'))
    path = f"{GROUP_PATH}/v1/namespaces/default/dashboards/{OVERVIEW}"
    _server(grafana13).state.faults.append(Fault("user-save", "PUT", path))
    result = cli(grafana13, "push", project=project_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"conflict   dashboard {OVERVIEW}" in result.stdout
    assert "409 Conflict" in result.stdout
    assert _stored(grafana13, OVERVIEW)["dashboard"]["title"] == "Edited in Grafana"


def _overview_desired(project: Path) -> Desired:
    return next(
        d for d in DashboardKind().desired(build_documents(load_project(project))) if d.uid == OVERVIEW
    )


def test_force_writes_over_a_save_made_after_the_plan_read_it_with_the_version_grafana_holds_now(
    grafana13: Target, project_copy: Path
) -> None:
    """`push --force` means "ours wins", also over a save made between the plan's read and the write:
    the write re-reads the resourceVersion Grafana holds now and sends that one (the plan's would be
    a 409). Without `force` the same race is a conflict and the save is kept. (Planted-bug sample 14,
    m2 M8: the plan's version sent.)"""
    assert cli(grafana13, "push", project=project_copy).returncode == 0
    grafana = Grafana(Settings(grafana_url=grafana13.url, grafana_token="glsa_admin"))
    kind, desired = DashboardKind(), _overview_desired(project_copy)
    path = f"{GROUP_PATH}/v1/namespaces/default/dashboards/{OVERVIEW}"

    read_by_the_plan = kind.fetch(grafana, OVERVIEW)
    assert read_by_the_plan is not None
    _server(grafana13).user_saves("PUT", path, None)  # a person saves after the plan read it
    with pytest.raises(ConflictError):
        kind.write(grafana, desired, read_by_the_plan, force=False)
    assert _stored(grafana13, OVERVIEW)["dashboard"]["title"] == "Edited in Grafana"

    kind.write(grafana, desired, read_by_the_plan, force=True)
    assert _stored(grafana13, OVERVIEW)["dashboard"]["title"] == desired.title
    current = kind.fetch(grafana, OVERVIEW)
    assert current is not None and current.resource_version != read_by_the_plan.resource_version


def test_a_dashboard_saved_as_v2_in_the_ui_is_pulled_as_stored_not_down_converted(
    grafana13: Target, project_copy: Path
) -> None:
    assert cli(grafana13, "push", project=project_copy).returncode == 0
    saved = _ours_as_v2(OVERVIEW)
    _server(grafana13).save_as_v2_in_ui(OVERVIEW, saved)
    pulled = cli(grafana13, "pull", OVERVIEW, project=project_copy)
    assert pulled.returncode == 0, pulled.stderr
    document = json.loads(pulled.stdout)
    assert document["spec"] == saved  # unchanged: every element, layout and variable as saved
    assert document["apiVersion"] == "dashboard.grafana.app/v2"
    assert document["kind"] == "Dashboard"
    assert document["metadata"] == {"name": OVERVIEW, "annotations": {"grafana.app/folder": "tiktickets"}}


def test_a_dashboard_saved_as_v2_is_a_conflict_compared_as_v2_and_forced_back_as_v2(
    grafana13: Target, project_copy: Path
) -> None:
    assert cli(grafana13, "push", project=project_copy).returncode == 0
    _server(grafana13).save_as_v2_in_ui(OVERVIEW, _ours_as_v2(OVERVIEW))

    diff = cli(grafana13, "diff", project=project_copy)
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert f"dashboard {OVERVIEW}: conflict: edited in Grafana since the last push" in diff.stdout
    # compared in v2, so the only change shown is the title the person changed, not a v2-vs-classic mess
    assert '-  "title": "Saved as v2 in the UI",' in diff.stdout
    assert '"elements"' not in "".join(line for line in diff.stdout.splitlines() if line[:1] in "+-")

    forced = cli(grafana13, "push", "--force", project=project_copy)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    record = _stored(grafana13, OVERVIEW)
    assert record["storedVersion"] == "v2"  # still v2: what the UI added is not down-converted away
    assert record["v2spec"]["title"] != "Saved as v2 in the UI"
    backups = list((project_copy / ".grafana-backups").glob(f"dashboard-{OVERVIEW}-*.json"))
    assert len(backups) == 1
    assert json.loads(backups[0].read_text())["spec"]["title"] == "Saved as v2 in the UI"
    again = cli(grafana13, "diff", project=project_copy)
    assert again.returncode == 0, again.stdout + again.stderr  # our v2 push reads back as ours


def test_prune_lists_and_deletes_through_the_resource_api_past_the_first_page(
    grafana13: Target, project_copy: Path
) -> None:
    """Prune finds a stale dashboard on any page of the list (500 a page, `continue` to the next)."""
    second = project_copy / "dashboards" / "second.py"
    second.write_text(SECOND_DASHBOARD)
    assert cli(grafana13, "push", project=project_copy).returncode == 0
    server = _server(grafana13)
    with server.state.lock:  # 600 hand-made dashboards that sort before ours: ours are on page two
        for n in range(600):
            uid = f"a-hand-made-{n:03d}"
            server.state.dashboards[uid] = {
                "dashboard": {"uid": uid, "title": uid, "id": server.state.new_id(), "version": 1},
                "folderUid": "",
                "provisioned": False,
                "message": "",
            }
    second.unlink()
    listed = len(server.state.dashboards)
    pruned = cli(grafana13, "push", "--prune", project=project_copy)
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert COPY not in server.state.dashboards, pruned.stdout
    deleted = _paths(grafana13, "DELETE")
    assert deleted == [f"{GROUP_PATH}/v1/namespaces/default/dashboards/{COPY}"]
    lists = [p for m, p, _ in server.state.requests if m == "GET" and p.endswith("/dashboards")]
    assert len(lists) == -(-listed // LIST_PAGE) >= 2  # every page read, and there was more than one
    assert len([u for u in server.state.dashboards if u.startswith("a-hand-made-")]) == 600


def test_a_failed_discovery_stops_before_anything_is_written(grafana13: Target, project_copy: Path) -> None:
    """A 5xx on `/apis/dashboard.grafana.app` is not taken for "no resource API": guessing the API
    could write through the wrong one, so the run stops and says which question failed."""
    _server(grafana13).state.faults.extend(Fault("503", "GET", GROUP_PATH) for _ in range(10))
    result = cli(grafana13, "push", project=project_copy)
    assert result.returncode != 0
    assert "ask Grafana which dashboard APIs it serves" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert [p for p in _paths(grafana13, "POST") if "dashboard" in p] == []


def _creating_as_v2(project: Path) -> Path:
    config = project / "config.py"
    text = config.read_text()
    assert 'name="tiktickets",' in text
    config.write_text(
        text.replace('name="tiktickets",', 'name="tiktickets",\n    push_dashboards_as="v2",', 1)
    )
    return project


def test_a_project_pushing_dashboards_as_v2_creates_them_as_v2_and_reads_them_back_in_sync(
    grafana13: Target, project_copy: Path
) -> None:
    """`push_dashboards_as="v2"`: each new dashboard is stored as v2 (its spec the v2 form `check`
    type-checks), then compares equal to the definitions, so a second push writes nothing."""
    project = _creating_as_v2(project_copy)
    sections = {d.uid: d.sections_in_v2 for d in load_project(project).dashboards}
    pushed = cli(grafana13, "push", project=project)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    for path in sorted((project / "provisioning" / "dashboards").rglob("*.json")):
        record = _stored(grafana13, path.stem)
        assert record["storedVersion"] == "v2", path.stem
        # laid out as the definition asks: a dashboard of `sections_in_v2="tabs"` is stored with tabs
        expected = schema_v2.v2_spec(json.loads(path.read_text()), sections=sections[path.stem])
        stored = {**record["v2spec"], "tags": [t for t in record["v2spec"]["tags"] if ":" not in t]}
        assert stored == {**expected, "tags": [t for t in expected["tags"] if ":" not in t]}, path.stem
    writes = len(_server(grafana13).state.writes)
    again = cli(grafana13, "push", project=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(_server(grafana13).state.writes) == writes  # unchanged: compared as v2, in sync
    pulled = json.loads(cli(grafana13, "pull", OVERVIEW, project=project).stdout)
    assert pulled["apiVersion"] == "dashboard.grafana.app/v2"


def test_a_project_pushing_dashboards_as_v2_gets_classic_on_a_grafana_without_the_resource_api(
    project_copy: Path,
) -> None:
    project = _creating_as_v2(project_copy)
    with FakeGrafana(version="11.6.0") as server:
        target = Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)
        pushed = cli(target, "push", project=project)
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        assert _stored(target, OVERVIEW)["dashboard"]["panels"]  # classic JSON through /api
        assert cli(target, "diff", project=project).returncode == 0
