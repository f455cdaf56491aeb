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
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.defaults import MANAGED_TAG
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.kinds.base import ConflictError, Desired, Live, ProvisionedError, SyncError
from dashboards_as_code.kinds.dashboard import DashboardKind, schema_v2
from dashboards_as_code.kinds.dashboard.resource_api import (
    LIST_PAGE,
    ResourceDashboards,
    in_v2_form,
    resource_dashboards,
)
from dashboards_as_code.settings import Settings
from tests.conftest import REPO
from tests.grafana_api.conftest import Target, cli, server_of
from tests.grafana_api.test_prune_ownership import COPY
from tests.grafana_api.test_push import SECOND_DASHBOARD
from tests.grafana_server.server import FakeGrafana, Fault

OVERVIEW = "tiktickets-overview"
GROUP_PATH = "/apis/dashboard.grafana.app"


def _paths(target: Target, method: str | None = None) -> list[str]:
    return [p for m, p, _ in server_of(target).state.requests if method is None or m == method]


def _dashboard_requests(target: Target) -> list[str]:
    return [p for p in _paths(target) if p.startswith(("/api/dashboards", "/api/search"))]


def _stored(target: Target, uid: str) -> dict[str, Any]:
    record: dict[str, Any] = server_of(target).state.dashboards[uid]
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
    server_of(grafana13).state.faults.append(Fault("user-save", "PUT", path))
    result = cli(grafana13, "push", project=project_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"conflict   dashboard {OVERVIEW}" in result.stdout
    assert "409 Conflict" in result.stdout
    assert _stored(grafana13, OVERVIEW)["dashboard"]["title"] == "Edited in Grafana"


def test_a_dashboard_saved_as_v2_in_the_ui_is_pulled_as_stored_not_down_converted(
    grafana13: Target, project_copy: Path
) -> None:
    assert cli(grafana13, "push", project=project_copy).returncode == 0
    saved = _ours_as_v2(OVERVIEW)
    server_of(grafana13).save_as_v2_in_ui(OVERVIEW, saved)
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
    server_of(grafana13).save_as_v2_in_ui(OVERVIEW, _ours_as_v2(OVERVIEW))

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
    server = server_of(grafana13)
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
    server_of(grafana13).state.faults.extend(Fault("503", "GET", GROUP_PATH) for _ in range(10))
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
    writes = len(server_of(grafana13).state.writes)
    again = cli(grafana13, "push", project=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(server_of(grafana13).state.writes) == writes  # unchanged: compared as v2, in sync
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


# -- each branch of ResourceDashboards, in-process against the test server as Grafana 13.2 ----------------


@pytest.fixture
def grafana13_http() -> Iterator[tuple[FakeGrafana, Grafana]]:
    """The test server as Grafana 13.2 and a client of it that never waits between retries."""
    with FakeGrafana(version="13.2.0") as server:
        yield (
            server,
            Grafana(Settings(grafana_url=server.url, grafana_token="glsa_admin"), sleep=lambda _: None),
        )


def _resources(grafana: Grafana) -> ResourceDashboards:
    found = resource_dashboards(grafana)
    assert found is not None, "the premise: Grafana 13.2 serves the resource API"
    return found


def _ours(uid: str = "board", title: str = "Board", folder_uid: str | None = None) -> Desired:
    document = {"uid": uid, "title": title, "tags": [MANAGED_TAG], "panels": []}
    return Desired("dashboard", uid, title, document, "tiktickets", folder_uid=folder_uid)


def _resource_path(uid: str, namespace: str = "default") -> str:
    return f"{GROUP_PATH}/v1/namespaces/{namespace}/dashboards/{uid}"


def test_a_forced_write_overwrites_a_save_made_in_grafana_after_the_plan_read_it(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """`push --force` is "overwrite what Grafana holds now": a person saving the dashboard between the
    plan's read and the write changes its resourceVersion, and the forced write still lands (it sends the
    version Grafana holds at the write), where an unforced one is the 409 conflict that keeps the save."""
    server, grafana = grafana13_http
    resources, live = _pushed_once(grafana)
    with server.state.lock:
        assert server.resources is not None
        server.resources.user_saves("PUT", _resource_path("board"))
    with pytest.raises(ConflictError):
        resources.write(_ours(title="Ours again"), live, force=False)
    assert _stored_title(server, "board") == "Edited in Grafana"  # the premise: the save happened
    resources.write(_ours(title="Ours again"), live, force=True)
    assert _stored_title(server, "board") == "Ours again"


def _pushed_once(grafana: Grafana) -> tuple[ResourceDashboards, Live]:
    """Our dashboard `board` written once, and what the next plan reads of it."""
    resources = _resources(grafana)
    resources.write(_ours(), None, force=False)
    live = resources.fetch("board")
    assert live is not None
    return resources, live


def _stored_title(server: FakeGrafana, uid: str) -> str:
    return str(server.state.dashboards[uid]["dashboard"]["title"])


def test_a_forced_write_of_a_dashboard_deleted_in_grafana_meanwhile_says_so_and_creates_nothing(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """The plan saw the dashboard, then someone deleted it: the forced write finds nothing to overwrite
    and says that it was deleted while we pushed (a run-stopping SyncError, not a crash), and does not
    bring it back behind the person's back."""
    server, grafana = grafana13_http
    resources, live = _pushed_once(grafana)
    with server.state.lock:
        del server.state.dashboards["board"]
    with pytest.raises(SyncError, match="'board' was deleted in Grafana while we pushed"):
        resources.write(_ours(title="Ours again"), live, force=True)
    assert "board" not in server.state.dashboards


def test_a_create_that_meets_a_dashboard_made_meanwhile_is_a_conflict_saying_it_was_created(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """The plan found no dashboard of this uid, someone created one before the write: Grafana's 409
    AlreadyExists is a conflict that says the dashboard was created while we pushed (not "saved", which
    sends the reader looking for an edit), and what they created is kept."""
    server, grafana = grafana13_http
    resources = _resources(grafana)
    resources.write(_ours(title="Made by hand"), None, force=False)
    with pytest.raises(ConflictError) as conflict:
        resources.write(_ours(), None, force=False)
    assert (
        str(conflict.value) == "dashboard 'board' was created in Grafana while we pushed (409 AlreadyExists)"
    )
    assert conflict.value.status == 409
    assert _stored_title(server, "board") == "Made by hand"


def test_a_file_provisioned_dashboard_reads_as_provisioned_and_is_neither_written_nor_deleted(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """Grafana marks what it loads from provisioning files with `grafana.app/managedBy:
    classic-file-provisioning` and refuses to save or delete it (400): the read says provisioned, and
    each refusal is a ProvisionedError (which push reports as such), not a generic failure."""
    server, grafana = grafana13_http
    resources = _resources(grafana)
    resources.write(_ours(), None, force=False)
    mine = resources.fetch("board")
    assert mine is not None and not mine.provisioned
    with server.state.lock:
        server.state.dashboards["board"]["provisioned"] = True
    live = resources.fetch("board")
    assert live is not None and live.provisioned
    with pytest.raises(ProvisionedError, match="provisioned"):
        resources.write(_ours(title="Ours again"), live, force=False)
    with pytest.raises(ProvisionedError, match="provisioned"):
        resources.delete("board")
    assert _stored_title(server, "board") == "Board"


def test_deleting_a_dashboard_already_gone_is_done(grafana13_http: tuple[FakeGrafana, Grafana]) -> None:
    """Prune's goal is that the dashboard is not there: a 404 on the DELETE (someone removed it first)
    reaches it, and is no error."""
    server, grafana = grafana13_http
    resources = _resources(grafana)
    resources.delete("never-was")
    assert ("DELETE", _resource_path("never-was")) in [(m, p) for m, p, _ in server.state.requests]


def test_the_managed_list_holds_only_dashboards_with_the_managed_tag_by_uid_and_title(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """What prune may consider is what carries the managed tag, named by uid and by its title (what a
    person reads in Grafana), never a dashboard made by hand."""
    _, grafana = grafana13_http
    resources = _resources(grafana)
    resources.write(_ours("one", "First board"), None, force=False)
    resources.write(_ours("two", "Second board"), None, force=False)
    hand = Desired("dashboard", "hand", "By hand", {"uid": "hand", "title": "By hand", "tags": ["team"]}, "x")
    resources.write(hand, None, force=False)
    assert sorted(resources.list_managed()) == [("one", "First board"), ("two", "Second board")]


def test_a_dashboard_whose_tags_are_null_is_listed_as_not_managed(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """Dashboard JSON imported from elsewhere may carry `"tags": null`: it is a dashboard without tags,
    not managed, and prune's listing goes on past it instead of failing the run."""
    _, grafana = grafana13_http
    resources = _resources(grafana)
    resources.write(_ours("one", "First board"), None, force=False)
    imported = {
        "apiVersion": f"dashboard.grafana.app/{resources.classic}",
        "kind": "Dashboard",
        "metadata": {"name": "imported"},
        "spec": {"uid": "imported", "title": "Imported", "tags": None},
    }
    grafana.resource_api().send("import a dashboard", "POST", resources.path(resources.classic), imported)
    assert resources.list_managed() == [("one", "First board")]


def test_the_namespace_is_the_one_grafana_names_in_its_frontend_settings(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """A Grafana Cloud stack or another org is not `default`: its namespace comes from
    `/api/frontend/settings`, and every read and write goes there (any other is Grafana's 403)."""
    server, grafana = grafana13_http
    assert server.resources is not None
    server.resources.namespace = "stacks-4242"
    resources = _resources(grafana)
    resources.write(_ours(), None, force=False)
    live = resources.fetch("board")
    assert live is not None and live.document["title"] == "Board"
    writes = [p for m, p, _ in server.state.requests if m == "POST" and p.startswith(GROUP_PATH)]
    assert writes == [f"{GROUP_PATH}/v1/namespaces/stacks-4242/dashboards"]


def test_frontend_settings_that_name_no_namespace_mean_org_ones_default(
    grafana13_http: tuple[FakeGrafana, Grafana], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Grafana whose `/api/frontend/settings` carries no `namespace` (or a null one) is org 1's
    `default` namespace, as mcp-grafana takes it: dashboards are written there, not refused as another
    org's."""
    server, grafana = grafana13_http
    monkeypatch.setattr(
        server, "_frontend_settings", lambda: {"buildInfo": {"version": "13.2.0"}, "namespace": None}
    )
    resources = _resources(grafana)
    assert resources.namespace == "default"
    resources.write(_ours(), None, force=False)
    assert "board" in server.state.dashboards


@pytest.mark.parametrize(("served", "classic"), [(["v0alpha1"], None), (["v1beta1", "v0alpha1"], "v1beta1")])
def test_only_a_classic_version_from_v1beta1_on_makes_grafana_a_resource_api_grafana(
    served: list[str], classic: str | None
) -> None:
    """A Grafana serving dashboards only as `v0alpha1` (Grafana 11 behind a feature flag) is served
    through the legacy API; one serving `v1beta1` as its newest classic version is read and written in it."""
    with FakeGrafana(version="13.2.0") as server:
        assert server.resources is not None
        server.resources.versions = served
        grafana = Grafana(Settings(grafana_url=server.url, grafana_token="glsa_admin"), sleep=lambda _: None)
        found = resource_dashboards(grafana)
        assert (found.classic if found else None) == classic
        DashboardKind().write(grafana, _ours(), None, force=False)
        posts = [p for m, p, _ in server.state.requests if m == "POST"]
        assert posts == (
            ["/api/dashboards/db"]
            if classic is None
            else [f"{GROUP_PATH}/{classic}/namespaces/default/dashboards"]
        )


def test_a_failed_discovery_fails_every_later_question_of_that_client_and_a_new_client_asks_again(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """Dashboards are planned on several threads and all must use one API: once the discovery failed,
    the same client never asks again (an answer a moment later would let one thread write while the run
    is being stopped): every dashboard fails with the first failure. The next run's client asks afresh."""
    server, grafana = grafana13_http
    server.state.faults.extend(Fault("503", "GET", GROUP_PATH) for _ in range(10))
    with pytest.raises(SyncError) as first:
        resource_dashboards(grafana)
    assert "ask Grafana which dashboard APIs it serves" in str(first.value)
    server.state.faults.clear()
    with pytest.raises(SyncError):
        resource_dashboards(grafana)
    asked = [p for m, p, _ in server.state.requests if m == "GET" and p == GROUP_PATH]
    again = Grafana(Settings(grafana_url=server.url, grafana_token="glsa_admin"), sleep=lambda _: None)
    assert resource_dashboards(again) is not None
    assert [p for m, p, _ in server.state.requests if m == "GET" and p == GROUP_PATH] == [*asked, GROUP_PATH]


def test_a_dashboard_stored_in_a_v2_version_grafana_does_not_serve_is_refused_not_read_converted(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """A dashboard stored as `v2` on a Grafana that serves only older v2 versions (and the classic
    ones) could be read only as a converted copy: the read stops and names the stored version and what
    is served, instead of comparing (and overwriting) a copy, or taking the dashboard for absent."""
    server, grafana = grafana13_http
    _resources(grafana).write(_ours(), None, force=False)
    server.save_as_v2_in_ui("board", {**schema_v2.v2_spec(_ours().document), "title": "Saved as v2"})
    assert server.resources is not None
    server.resources.versions = ["v1", "v1beta1", "v0alpha1", "v2beta1", "v2alpha1"]
    other = Grafana(Settings(grafana_url=server.url, grafana_token="glsa_admin"), sleep=lambda _: None)
    with pytest.raises(SyncError) as refused:
        _resources(other).fetch("board")
    assert "'board' is stored as v2, which Grafana at" in str(refused.value)
    assert "(it serves v1, v1beta1, v0alpha1, v2beta1, v2alpha1)" in str(refused.value)


def test_a_dashboard_stored_as_an_older_v2_version_is_overwritten_in_that_version(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """A dashboard stored as `v2beta1` (saved by an earlier 13.x) is read in v2beta1 and forced back in
    v2beta1, its stored version: written as `v2` it would be stored anew in another schema version."""
    server, grafana = grafana13_http
    resources = _resources(grafana)
    resources.write(_ours(), None, force=False)
    server.save_as_v2_in_ui("board", {**schema_v2.v2_spec(_ours().document), "title": "Saved as v2beta1"})
    with server.state.lock:
        server.state.dashboards["board"]["storedVersion"] = "v2beta1"
    live = resources.fetch("board")
    assert live is not None and (live.form, live.stored_version) == ("v2", "v2beta1")
    resources.write(in_v2_form(_ours()), live, force=True)
    record = _stored(Target(server.url, {}, server), "board")
    assert (record["storedVersion"], record["v2spec"]["title"]) == ("v2beta1", "Board")
    puts = [p for m, p, _ in server.state.requests if m == "PUT"]
    assert puts == [f"{GROUP_PATH}/v2beta1/namespaces/default/dashboards/board"]


def test_a_classic_spec_without_a_uid_reads_back_with_its_name_as_uid(
    grafana13_http: tuple[FakeGrafana, Grafana],
) -> None:
    """An object's name is the dashboard's uid; a classic spec may leave `uid` out (a dashboard created
    through the resource API by another client). Read back, it carries its name as uid, so a dashboard
    pushed that way compares equal to its definition instead of showing a uid change."""
    _, grafana = grafana13_http
    resources = _resources(grafana)
    ours = _ours()
    without_uid = {k: v for k, v in ours.document.items() if k != "uid"}
    resources.write(replace(ours, document=without_uid), None, force=False)
    live = resources.fetch("board")
    assert live is not None and live.form == "classic"
    assert live.document == ours.document


@pytest.mark.parametrize("path", [GROUP_PATH, "/api/frontend/settings"])
def test_a_discovery_that_fails_with_a_5xx_past_the_retries_stops_the_run(
    grafana13_http: tuple[FakeGrafana, Grafana], path: str
) -> None:
    """Which dashboard API to use cannot be guessed: a discovery question (the API group, or the
    namespace) that Grafana keeps failing with a 5xx stops the whole run, as a 4xx or a bad answer
    there does, instead of failing each dashboard while the run goes on."""
    server, grafana = grafana13_http
    server.state.faults.extend(Fault("503", "GET", path) for _ in range(10))
    with pytest.raises(SyncError) as failed:
        resource_dashboards(grafana)
    assert failed.value.fatal, str(failed.value)
    assert "503" in str(failed.value)
