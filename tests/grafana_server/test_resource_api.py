"""The test server's resource API answers as docs/grafana-13-facts.md says Grafana 13.2's does.

One test per documented behaviour; each docstring names the facts section ("facts §N") and the source
the fact comes from. Plain urllib, on purpose: these tests hold the server, not a client of it.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.grafana_server.server import FakeGrafana, Fault

DASHBOARDS = "/apis/dashboard.grafana.app/{version}/namespaces/default/dashboards"
FOLDERS = "/apis/folder.grafana.app/v1/namespaces/default/folders"
ADMIN = "Basic " + base64.b64encode(b"admin:admin-password").decode()


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with FakeGrafana(version="13.2.0") as server:
        yield server


def call(
    server: FakeGrafana, method: str, path: str, body: Any = None, auth: str | None = ADMIN
) -> tuple[int, Any]:
    """One request; (status, parsed JSON body), whatever the status."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def dashboards(version: str = "v1", name: str = "") -> str:
    return DASHBOARDS.format(version=version) + (f"/{name}" if name else "")


def classic(name: str, title: str = "Classic", **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "dashboard.grafana.app/v1",
        "kind": "Dashboard",
        "metadata": {"name": name, **metadata},
        "spec": {"title": title, "tags": ["t"], "panels": [{"id": 1, "type": "stat", "title": "P"}]},
    }


def v2_spec(title: str = "Dynamic") -> dict[str, Any]:
    """A v2 spec with what the classic form cannot keep: a query, tabs, conditional rendering."""
    query = {"kind": "DataQuery", "group": "prometheus", "version": "v0", "spec": {"expr": "up"}}
    panel = {
        "kind": "Panel",
        "spec": {
            "id": 7,
            "title": "Up",
            "links": [],
            "data": {
                "kind": "QueryGroup",
                "spec": {
                    "queries": [
                        {"kind": "PanelQuery", "spec": {"query": query, "refId": "A", "hidden": False}}
                    ],
                    "transformations": [],
                    "queryOptions": {},
                },
            },
            "vizConfig": {"kind": "VizConfig", "group": "timeseries", "version": "", "spec": {}},
        },
    }
    item = {
        "kind": "GridLayoutItem",
        "spec": {
            "x": 0,
            "y": 0,
            "width": 12,
            "height": 6,
            "element": {"kind": "ElementReference", "name": "up"},
        },
    }
    tab = {
        "kind": "TabsLayoutTab",
        "spec": {
            "title": "First tab",
            "conditionalRendering": {"kind": "ConditionalRenderingGroup", "spec": {"items": []}},
            "layout": {"kind": "GridLayout", "spec": {"items": [item]}},
        },
    }
    return {
        "title": title,
        "tags": ["v2"],
        "elements": {"up": panel},
        "layout": {"kind": "TabsLayout", "spec": {"tabs": [tab]}},
        "annotations": [],
        "links": [],
        "variables": [],
        "cursorSync": "Off",
        "preload": False,
        "timeSettings": {"from": "now-1h", "to": "now"},
    }


def v2_object(name: str, version: str = "v2") -> dict[str, Any]:
    return {
        "apiVersion": f"dashboard.grafana.app/{version}",
        "kind": "Dashboard",
        "metadata": {"name": name},
        "spec": v2_spec(),
    }


def conflict(name: str, group: str = "dashboard.grafana.app", resource: str = "dashboards") -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'Operation cannot be fulfilled on {resource}.{group} "{name}": '
        "requested RV does not match current RV",
        "reason": "Conflict",
        "details": {"name": name, "group": group, "kind": resource},
        "code": 409,
    }


# -- discovery (facts §1) -------------------------------------------------------------------------------


def test_discovery_serves_six_dashboard_versions_and_prefers_v2(grafana: FakeGrafana) -> None:
    """Facts §1: the manifest's six versions; with `dashboardNewLayouts` on (13.x default, UNSURE
    inference from featureToggles.gen.ts and the AWS 13 docs) the order is v2, v2beta1, v2alpha1,
    v0alpha1, v1, v1beta1 (register_test.go `TestDashboardAPIBuilder_GetGroupVersions`); the APIGroup
    shape mcp-grafana parses (k8s_client.go l.235-273)."""
    status, group = call(grafana, "GET", "/apis/dashboard.grafana.app")
    assert status == 200
    assert group["kind"] == "APIGroup" and group["name"] == "dashboard.grafana.app"
    assert [v["version"] for v in group["versions"]] == [
        "v2",
        "v2beta1",
        "v2alpha1",
        "v0alpha1",
        "v1",
        "v1beta1",
    ]
    assert group["versions"][4] == {"groupVersion": "dashboard.grafana.app/v1", "version": "v1"}
    assert group["preferredVersion"] == {"groupVersion": "dashboard.grafana.app/v2", "version": "v2"}
    status, folders = call(grafana, "GET", "/apis/folder.grafana.app")
    assert (status, folders["preferredVersion"]["version"]) == (200, "v1")
    status, groups = call(grafana, "GET", "/apis")
    assert status == 200 and groups["kind"] == "APIGroupList"
    assert {g["name"] for g in groups["groups"]} == {"dashboard.grafana.app", "folder.grafana.app"}


def test_discovery_prefers_v1_with_dynamic_dashboards_off() -> None:
    """Facts §1: with `dashboardNewLayouts` off the served order starts v1, v1beta1, v0alpha1
    (register_test.go `TestDashboardAPIBuilder_GetGroupVersions`)."""
    with FakeGrafana(version="13.2.0", preferred_dashboard_version="v1") as server:
        _, group = call(server, "GET", "/apis/dashboard.grafana.app")
    assert [v["version"] for v in group["versions"]] == [
        "v1",
        "v1beta1",
        "v0alpha1",
        "v2",
        "v2beta1",
        "v2alpha1",
    ]
    assert group["preferredVersion"]["version"] == "v1"


def test_a_grafana_without_the_resource_api_answers_404_at_apis() -> None:
    """Facts §1: a 404 at `/apis/<group>` means the group is not served; mcp-grafana then uses the
    legacy API (mcp-grafana@c6e492b3:k8s_client.go l.235-273, tools/dashboard.go #937 step 1)."""
    with FakeGrafana(resource_api=False) as server:
        assert call(server, "GET", "/apis")[0] == 404
        assert call(server, "GET", "/apis/dashboard.grafana.app")[0] == 404
        assert call(server, "GET", dashboards("v1"))[0] == 404
        assert "namespace" not in call(server, "GET", "/api/frontend/settings")[1]


def test_frontend_settings_name_the_namespace(grafana: FakeGrafana) -> None:
    """Facts §1: `GET /api/frontend/settings` has `namespace`, `default` for org 1
    (mcp-grafana@c6e492b3:mcpgrafana.go l.1070, l.1128-1157; docs apis.md "Namespace")."""
    assert call(grafana, "GET", "/api/frontend/settings")[1]["namespace"] == "default"


# -- the object and the verbs (facts §2, §3) ---------------------------------------------------------------


def test_a_dashboard_saved_through_the_legacy_api_is_a_resource(grafana: FakeGrafana) -> None:
    """Facts §2 and §9: one unified storage behind both APIs; `metadata.name` is the uid, the legacy
    numeric id is the label `grafana.app/deprecatedInternalID`, the folder the annotation
    `grafana.app/folder` (docs apis.md "Metadata", dashboard.md Create response); the legacy API
    writes through v0alpha1, so a read at v1 is a conversion naming it (conversion.go
    `normalizeConversion`; pkg/api/dashboard.go `saveDashboardViaK8s`)."""
    call(grafana, "POST", "/api/folders", {"uid": "ops", "title": "Ops"})
    _, saved = call(
        grafana,
        "POST",
        "/api/dashboards/db",
        {"dashboard": {"uid": "old", "title": "Old"}, "folderUid": "ops"},
    )
    status, found = call(grafana, "GET", dashboards("v1", "old"))
    assert status == 200
    assert (found["kind"], found["apiVersion"]) == ("Dashboard", "dashboard.grafana.app/v1")
    assert found["metadata"]["name"] == "old" and found["metadata"]["uid"] != "old"
    assert found["metadata"]["labels"] == {"grafana.app/deprecatedInternalID": str(saved["id"])}
    assert found["metadata"]["annotations"]["grafana.app/folder"] == "ops"
    assert found["metadata"]["annotations"]["grafana.app/createdBy"] == "user:admin"
    assert found["spec"]["title"] == "Old"
    assert found["status"] == {"conversion": {"failed": False, "storedVersion": "v0alpha1"}}


def test_a_dashboard_created_as_a_resource_is_seen_by_the_legacy_api(grafana: FakeGrafana) -> None:
    """Facts §9: legacy APIs "remain fully accessible" on 13 (docs api-legacy) over the same store."""
    assert call(grafana, "POST", dashboards("v1"), classic("new", "New"))[0] == 201
    status, legacy = call(grafana, "GET", "/api/dashboards/uid/new")
    assert status == 200 and legacy["dashboard"]["title"] == "New"
    assert [hit["uid"] for hit in call(grafana, "GET", "/api/search?query=New")[1]] == ["new"]


def test_create_then_get_round_trips_the_object(grafana: FakeGrafana) -> None:
    """Facts §2 and §3: POST answers 201 with the object (dashboard.md "Create Dashboard");
    `resourceVersion` is a string, generation starts at 1, createdBy is `<user-type>:<uid>` (apis.md
    "Metadata", pkg/apimachinery/utils/meta.go); GET in the stored version gives the spec as saved
    and a classic create's `status` is `{}` (dashboard.md Create response)."""
    sent = classic("rt", "Round trip")
    status, created = call(grafana, "POST", dashboards("v1"), sent, auth="Bearer glsa_editor")
    assert status == 201
    status, got = call(grafana, "GET", dashboards("v1", "rt"))
    assert status == 200 and got == created
    assert json.dumps(got["spec"]) == json.dumps(sent["spec"])
    meta = got["metadata"]
    assert isinstance(meta["resourceVersion"], str) and meta["resourceVersion"]
    assert (meta["namespace"], meta["generation"]) == ("default", 1)
    assert meta["creationTimestamp"].endswith("Z")
    assert meta["annotations"]["grafana.app/createdBy"] == "service-account:glsa_editor"
    assert "grafana.app/folder" not in meta["annotations"]
    assert got["status"] == {}


def test_create_with_a_taken_name_is_409_already_exists(grafana: FakeGrafana) -> None:
    """Facts §3: 409 "dashboard with the same uid already exists" on create (dashboard.md "Create
    Dashboard"); the body is k8s NewAlreadyExists (UNSURE)."""
    call(grafana, "POST", dashboards("v1"), classic("dup"))
    status, body = call(grafana, "POST", dashboards("v1"), classic("dup"))
    assert status == 409 and (body["kind"], body["reason"], body["code"]) == ("Status", "AlreadyExists", 409)


def test_generate_name_gives_a_fresh_name_with_the_prefix(grafana: FakeGrafana) -> None:
    """Facts §3: `metadata.generateName` (a non-empty prefix) gets a random uid (dashboard.md)."""
    body = classic("")
    body["metadata"] = {"generateName": "gen-"}
    first = call(grafana, "POST", dashboards("v1"), body)[1]["metadata"]["name"]
    second = call(grafana, "POST", dashboards("v1"), body)[1]["metadata"]["name"]
    assert first.startswith("gen-") and second.startswith("gen-") and first != second


def test_update_with_a_stale_resource_version_is_the_409_conflict_status(grafana: FakeGrafana) -> None:
    """Facts §3 "409 body (stale RV)": unified storage's NewConflict, exactly (pkg/storage/unified/resource
    `conflictError`; k8s errors.go `NewConflict`; seen on 13.x in grafana #130334)."""
    created = call(grafana, "POST", dashboards("v1"), classic("lock"))[1]
    assert call(grafana, "PUT", dashboards("v1", "lock"), created)[0] == 200
    status, body = call(grafana, "PUT", dashboards("v1", "lock"), created)
    assert (status, body) == (409, conflict("lock"))


def test_update_without_a_resource_version_is_the_409_conflict_status(grafana: FakeGrafana) -> None:
    """Facts §3 "Empty resourceVersion on update": the backend enforces that the client passed an RV
    (grafana PR #121814), answered as the same Conflict."""
    call(grafana, "POST", dashboards("v1"), classic("norv"))
    status, body = call(grafana, "PUT", dashboards("v1", "norv"), classic("norv", "Changed"))
    assert (status, body) == (409, conflict("norv"))
    assert call(grafana, "GET", dashboards("v1", "norv"))[1]["spec"]["title"] == "Classic"


def test_resource_version_changes_on_every_write_generation_only_on_spec_change(grafana: FakeGrafana) -> None:
    """Facts §2: "resourceVersion changes on any change (metadata, status included)"; "generation
    increments only when the spec changes" (docs apis.md "Metadata"). A legacy save is a write too."""
    call(grafana, "POST", "/api/folders", {"uid": "f", "title": "F"})
    first = call(grafana, "POST", dashboards("v1"), classic("gen"))[1]
    moved = {**first, "metadata": {**first["metadata"], "annotations": {"grafana.app/folder": "f"}}}
    second = call(grafana, "PUT", dashboards("v1", "gen"), moved)[1]
    assert second["metadata"]["resourceVersion"] != first["metadata"]["resourceVersion"]
    assert second["metadata"]["generation"] == 1
    retitled = {**second, "spec": {**second["spec"], "title": "Retitled"}}
    third = call(grafana, "PUT", dashboards("v1", "gen"), retitled)[1]
    assert third["metadata"]["generation"] == 2
    assert third["metadata"]["resourceVersion"] not in {
        m["metadata"]["resourceVersion"] for m in (first, second)
    }
    legacy = call(grafana, "GET", "/api/dashboards/uid/gen")[1]["dashboard"]
    call(
        grafana, "POST", "/api/dashboards/db", {"dashboard": {**legacy, "title": "Legacy"}, "folderUid": "f"}
    )
    fourth = call(grafana, "GET", dashboards("v1", "gen"))[1]
    assert fourth["metadata"]["resourceVersion"] != third["metadata"]["resourceVersion"]
    assert fourth["metadata"]["generation"] == 3
    assert call(grafana, "PUT", dashboards("v1", "gen"), third)[1] == conflict("gen")


def test_list_pages_with_limit_and_an_opaque_continue_token(grafana: FakeGrafana) -> None:
    """Facts §3 "LIST": `limit` and `continue`; DashboardList; the last page has no
    `metadata.continue` (dashboard.md "List Dashboards"). The token is opaque: a client passes it back
    as it came and never builds one."""
    for name in ("a", "b", "c", "d", "e"):
        call(grafana, "POST", dashboards("v1"), classic(name, name.upper()))
    pages, token = [], ""
    for _ in range(5):
        status, page = call(
            grafana, "GET", dashboards("v1") + "?limit=2" + (f"&continue={token}" if token else "")
        )
        assert status == 200 and page["kind"] == "DashboardList"
        assert page["apiVersion"] == "dashboard.grafana.app/v1"
        pages.append([item["metadata"]["name"] for item in page["items"]])
        token = page["metadata"].get("continue", "")
        if not token:
            break
        assert not token.isdigit() and token not in "abcde"
    assert pages == [["a", "b"], ["c", "d"], ["e"]]
    exact = call(grafana, "GET", dashboards("v1") + "?limit=5")[1]
    assert len(exact["items"]) == 5 and "continue" not in exact["metadata"]  # a full last page ends too
    assert [i["metadata"]["name"] for i in call(grafana, "GET", dashboards("v1"))[1]["items"]] == list(
        "abcde"
    )


def test_a_v2_stored_dashboard_read_at_v1_is_lossy_and_names_its_stored_version(grafana: FakeGrafana) -> None:
    """Facts §4: a GET in a classic version of a v2-stored dashboard is a down-conversion with
    `status.conversion.storedVersion` set even on success (conversion.go `normalizeConversion`;
    mcp-grafana #937 re-GETs at that version because "the v1beta1 response is a lossy
    down-conversion"); queries and tabs have no classic form (facts §9, the UI's warning)."""
    assert call(grafana, "POST", dashboards("v2"), v2_object("dyn"))[0] == 201
    for version in ("v1", "v1beta1", "v0alpha1"):
        status, got = call(grafana, "GET", dashboards(version, "dyn"))
        assert status == 200 and got["apiVersion"] == f"dashboard.grafana.app/{version}"
        assert got["status"] == {"conversion": {"failed": False, "storedVersion": "v2"}}
        (panel,) = got["spec"]["panels"]
        assert (panel["title"], panel["gridPos"]) == ("Up", {"x": 0, "y": 0, "w": 12, "h": 6})
        assert panel["targets"] == []
        assert "elements" not in got["spec"] and got["spec"]["title"] == "Dynamic"


def test_a_v2_stored_dashboard_read_at_v2_is_unchanged(grafana: FakeGrafana) -> None:
    """Facts §4: "storedVersion: Fetching this version should always succeed" (dashboard_status_gen.go);
    the stored version's read involves no conversion, so the spec is the one saved."""
    sent = v2_object("same")
    call(grafana, "POST", dashboards("v2"), sent)
    status, got = call(grafana, "GET", dashboards("v2", "same"))
    assert status == 200 and json.dumps(got["spec"]) == json.dumps(sent["spec"])
    assert got["status"] == {}
    other = call(grafana, "GET", dashboards("v2beta1", "same"))[1]
    assert other["spec"] == sent["spec"] and other["status"]["conversion"]["storedVersion"] == "v2"


def test_the_legacy_get_of_a_v2_stored_dashboard_is_the_lossy_classic_form(grafana: FakeGrafana) -> None:
    """Facts §9: the legacy endpoint down-converts v2 dashboards (mcp-grafana tools/dashboard.go
    l.188-189; grafana #126641: classic JSON with `panels`, `schemaVersion: 42`)."""
    call(grafana, "POST", dashboards("v2"), v2_object("legacy-v2"))
    dashboard = call(grafana, "GET", "/api/dashboards/uid/legacy-v2")[1]["dashboard"]
    assert dashboard["schemaVersion"] == 42 and dashboard["title"] == "Dynamic"
    assert [(p["title"], p["targets"]) for p in dashboard["panels"]] == [("Up", [])]


def test_a_ui_save_as_v2_keeps_the_object_and_changes_its_stored_version(grafana: FakeGrafana) -> None:
    """Facts §4 and issue 25: saving a classic dashboard in the 13.x UI stores it as v2 (grafana PR
    #105381); the object stays (name, internal id, folder) and its resourceVersion changes, so a
    client's next PUT with the old one is a conflict."""
    before = call(grafana, "POST", dashboards("v1"), classic("ui"))[1]
    grafana.save_as_v2_in_ui("ui", v2_spec("Saved in the UI"))
    after = call(grafana, "GET", dashboards("v1", "ui"))[1]
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["metadata"]["labels"] == before["metadata"]["labels"]
    assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]
    assert after["status"]["conversion"]["storedVersion"] == "v2"
    assert call(grafana, "GET", dashboards("v2", "ui"))[1]["spec"] == v2_spec("Saved in the UI")
    assert call(grafana, "PUT", dashboards("v1", "ui"), before)[0] == 409


def test_a_classic_put_onto_a_v2_stored_dashboard_stores_it_classic(grafana: FakeGrafana) -> None:
    """Facts §4: a write in a classic version replaces the v2 content with its down-converted form
    (mcp-grafana tools/dashboard.go l.527-532, "dropping any v2-only content"): what a client that
    round-trips a v1 read must avoid."""
    call(grafana, "POST", dashboards("v2"), v2_object("trap"))
    read = call(grafana, "GET", dashboards("v1", "trap"))[1]
    assert call(grafana, "PUT", dashboards("v1", "trap"), read)[0] == 200
    after = call(grafana, "GET", dashboards("v1", "trap"))[1]
    assert after["status"] == {}
    assert after["spec"]["panels"][0]["targets"] == []
    assert call(grafana, "GET", dashboards("v2", "trap"))[1]["status"]["conversion"]["storedVersion"] == "v1"


def test_a_v2_read_of_a_classic_stored_dashboard_is_a_failed_conversion(grafana: FakeGrafana) -> None:
    """Facts §4 (UNSURE: GET v2 of a v1-stored dashboard). The server's documented choice: a failed
    conversion with the default spec, `failed: true` meaning "the caller should instead fetch the
    stored version" (dashboard_status_gen.go), never a 500 and never a home-made v2."""
    call(grafana, "POST", dashboards("v1"), classic("old-style"))
    status, got = call(grafana, "GET", dashboards("v2", "old-style"))
    assert status == 200
    assert got["status"]["conversion"]["failed"] is True
    assert got["status"]["conversion"]["storedVersion"] == "v1"
    assert got["spec"]["elements"] == {} and got["spec"]["title"] == ""


def test_delete_answers_a_success_status_and_the_dashboard_is_gone(grafana: FakeGrafana) -> None:
    """Facts §3 "DELETE": 200 Status Success with details (dashboard.md "Delete Dashboard"); then GET
    is the k8s NotFound Status (errors.go `NewNotFound`, UNSURE in Grafana)."""
    created = call(grafana, "POST", dashboards("v1"), classic("gone"))[1]
    status, body = call(grafana, "DELETE", dashboards("v1", "gone"))
    assert (status, body["kind"], body["status"]) == (200, "Status", "Success")
    assert body["details"] == {
        "name": "gone",
        "group": "dashboard.grafana.app",
        "kind": "dashboards",
        "uid": created["metadata"]["uid"],
    }
    status, body = call(grafana, "GET", dashboards("v1", "gone"))
    assert (status, body["reason"]) == (404, "NotFound")
    assert body["message"] == 'dashboards.dashboard.grafana.app "gone" not found'
    assert call(grafana, "GET", "/api/dashboards/uid/gone")[0] == 404
    assert call(grafana, "DELETE", dashboards("v1", "gone"))[0] == 404


def test_a_provisioned_dashboard_cannot_be_deleted(grafana: FakeGrafana) -> None:
    """Facts §3: admission's `ErrDashboardCannotDeleteProvisionedDashboard` is a 400 (register.go
    `validateDelete`, an older version)."""
    grafana.provision_dashboard({"uid": "prov", "title": "Provisioned"})
    assert call(grafana, "DELETE", dashboards("v1", "prov"))[0] == 400
    assert call(grafana, "GET", dashboards("v1", "prov"))[0] == 200


def test_a_folder_annotation_naming_a_missing_folder_is_refused(grafana: FakeGrafana) -> None:
    """Facts §5: create and update admission check that the folder exists (register.go
    `validateCreate`/`validateUpdate` → `validateFolderExists`)."""
    orphan = classic("orphan", annotations={"grafana.app/folder": "nowhere"})
    status, body = call(grafana, "POST", dashboards("v1"), orphan)
    assert (status, body["kind"]) == (400, "Status")
    assert call(grafana, "GET", dashboards("v1", "orphan"))[0] == 404
    created = call(grafana, "POST", dashboards("v1"), classic("placed"))[1]
    created["metadata"]["annotations"] = {"grafana.app/folder": "nowhere"}
    assert call(grafana, "PUT", dashboards("v1", "placed"), created)[0] == 400


def test_another_orgs_namespace_is_forbidden(grafana: FakeGrafana) -> None:
    """Facts §1 "Namespace": `org-<id>` is another org; Grafana's org authorizer denies it (403)."""
    status, body = call(grafana, "GET", dashboards("v1").replace("/default/", "/org-2/"))
    assert (status, body["reason"]) == (403, "Forbidden")


def test_viewers_read_editors_write_and_no_credential_is_401(grafana: FakeGrafana) -> None:
    """Facts §3: 401 and 403 are documented for every verb (dashboard.md); roles as the legacy API."""
    assert call(grafana, "GET", dashboards("v1"), auth=None)[0] == 401
    assert call(grafana, "GET", "/apis", auth="Bearer wrong")[0] == 401
    status, body = call(grafana, "POST", dashboards("v1"), classic("v"), auth="Bearer glsa_viewer")
    assert (status, body["reason"]) == (403, "Forbidden")
    assert call(grafana, "POST", dashboards("v1"), classic("v"), auth="Bearer glsa_editor")[0] == 201
    assert call(grafana, "GET", dashboards("v1", "v"), auth="Bearer glsa_viewer")[0] == 200


# -- folders (facts §5) -------------------------------------------------------------------------------------


def test_folders_share_the_legacy_store_and_name_their_parent(grafana: FakeGrafana) -> None:
    """Facts §5: `folder.grafana.app/v1`, kind Folder, `spec.title`, the parent in `grafana.app/folder`
    (folder.md); the same folders as `/api/folders`."""
    call(grafana, "POST", "/api/folders", {"uid": "top", "title": "Top"})
    body = {
        "metadata": {"name": "sub", "annotations": {"grafana.app/folder": "top"}},
        "spec": {"title": "Sub"},
    }
    status, created = call(grafana, "POST", FOLDERS, body)
    assert status == 201 and created["kind"] == "Folder"
    assert created["metadata"]["annotations"]["grafana.app/folder"] == "top"
    assert call(grafana, "GET", "/api/folders/sub")[1]["title"] == "Sub"
    listed = call(grafana, "GET", FOLDERS)[1]
    assert listed["kind"] == "FolderList"
    assert [(f["metadata"]["name"], f["spec"]["title"]) for f in listed["items"]] == [
        ("sub", "Sub"),
        ("top", "Top"),
    ]
    bad = {
        "metadata": {"name": "lost", "annotations": {"grafana.app/folder": "nowhere"}},
        "spec": {"title": "L"},
    }
    assert call(grafana, "POST", FOLDERS, bad)[0] == 400
    assert call(grafana, "POST", FOLDERS, body)[0] == 409


def test_a_folder_update_needs_the_current_resource_version(grafana: FakeGrafana) -> None:
    """Facts §3 and §5: folders live in the same unified storage, so a stale RV is the same Conflict
    Status (the folder doc's 412 is the legacy API's; see `ResourceApi._update_folder`)."""
    created = call(grafana, "POST", FOLDERS, {"metadata": {"name": "f"}, "spec": {"title": "F"}})[1]
    renamed = {**created, "spec": {"title": "F2"}}
    status, updated = call(grafana, "PUT", f"{FOLDERS}/f", renamed)
    assert status == 200 and updated["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    assert call(grafana, "GET", "/api/folders/f")[1]["title"] == "F2"
    assert call(grafana, "PUT", f"{FOLDERS}/f", renamed) == (
        409,
        conflict("f", "folder.grafana.app", "folders"),
    )


def test_a_folder_keeps_its_description_and_a_put_without_it_clears_it(grafana: FakeGrafana) -> None:
    """grafana-13-folder-facts.md 2d, 4a: `spec.description` is an optional string kept with the
    folder, and a PUT replaces the whole object, so one that leaves the description out clears it."""
    body = {"metadata": {"name": "d"}, "spec": {"title": "D", "description": "Owned by SRE"}}
    created = call(grafana, "POST", FOLDERS, body)[1]
    assert created["spec"] == {"title": "D", "description": "Owned by SRE"}
    assert call(grafana, "GET", f"{FOLDERS}/d")[1]["spec"]["description"] == "Owned by SRE"
    status, updated = call(grafana, "PUT", f"{FOLDERS}/d", {**created, "spec": {"title": "D2"}})
    assert status == 200 and updated["spec"] == {"title": "D2"}


def test_deleting_a_folder_answers_the_folder_and_deletes_its_dashboards(grafana: FakeGrafana) -> None:
    """Facts §5: DELETE returns the Folder object, not a Status, and deletes the dashboards in it
    (folder.md)."""
    call(grafana, "POST", FOLDERS, {"metadata": {"name": "doomed"}, "spec": {"title": "Doomed"}})
    call(grafana, "POST", dashboards("v1"), classic("inside", annotations={"grafana.app/folder": "doomed"}))
    status, body = call(grafana, "DELETE", f"{FOLDERS}/doomed")
    assert (status, body["kind"], body["metadata"]["name"]) == (200, "Folder", "doomed")
    assert call(grafana, "GET", f"{FOLDERS}/doomed")[0] == 404
    assert call(grafana, "GET", dashboards("v1", "inside"))[0] == 404


def test_a_v2_put_onto_a_classic_stored_dashboard_is_down_converted(grafana: FakeGrafana) -> None:
    """Facts §4: the stored version is pinned at creation; "a dashboard stored as classic v1 cannot be
    replaced in place with a v2 (elements/layout) body — Grafana silently down-converts it back to
    v1, dropping any v2-only content" (mcp-grafana@c6e492b3:tools/dashboard.go l.527-532)."""
    created = call(grafana, "POST", dashboards("v1"), classic("pinned"))[1]
    body = {**v2_object("pinned"), "metadata": created["metadata"]}
    assert call(grafana, "PUT", dashboards("v2", "pinned"), body)[0] == 200
    after = call(grafana, "GET", dashboards("v1", "pinned"))[1]
    assert after["status"] == {}
    assert after["spec"]["title"] == "Dynamic" and after["spec"]["panels"][0]["targets"] == []


def test_an_update_names_who_and_when_and_a_missing_dashboard_is_404(grafana: FakeGrafana) -> None:
    """Facts §2: `grafana.app/updatedBy` (`<user-type>:<uid>`) and `grafana.app/updatedTimestamp`
    follow each write while `createdBy` stays (docs apis.md "Metadata"); facts §3: PUT of a name that
    does not exist is 404, a body naming another object is refused (k8s: the name is the URL's)."""
    created = call(grafana, "POST", dashboards("v1"), classic("who"), auth="Bearer glsa_editor")[1]
    updated = call(grafana, "PUT", dashboards("v1", "who"), {**created, "spec": {"title": "By admin"}})[1]
    annotations = updated["metadata"]["annotations"]
    assert annotations["grafana.app/createdBy"] == "service-account:glsa_editor"
    assert annotations["grafana.app/updatedBy"] == "user:admin"
    assert annotations["grafana.app/updatedTimestamp"].endswith("Z")
    assert (
        call(grafana, "PUT", dashboards("v1", "nobody"), {**updated, "metadata": {"name": "nobody"}})[0]
        == 404
    )
    assert call(grafana, "PUT", dashboards("v1", "who"), {**updated, "metadata": {"name": "other"}})[0] == 400


def test_a_ui_save_between_read_and_write_makes_the_write_a_conflict(grafana: FakeGrafana) -> None:
    """Facts §2 and §3, issue 25 item 1: a person's save in the UI changes the resourceVersion, so the
    client's PUT with the one it read is the 409 Conflict, never a silent overwrite (the test server's
    `user-save` fault)."""
    read = call(grafana, "POST", dashboards("v1"), classic("race"))[1]
    grafana.state.faults.append(Fault("user-save", "PUT", dashboards("v1", "race")))
    assert call(grafana, "PUT", dashboards("v1", "race"), {**read, "spec": {"title": "Mine"}}) == (
        409,
        conflict("race"),
    )
    assert call(grafana, "GET", dashboards("v1", "race"))[1]["spec"]["title"] == "Edited in Grafana"


def test_a_legacy_save_of_a_v2_stored_dashboard_stores_it_classic(grafana: FakeGrafana) -> None:
    """Facts §9: legacy writes go through the k8s client at v0alpha1 (pkg/api/dashboard.go
    `saveDashboardViaK8s`; grafana #126641), so a legacy save of the lossy classic form it read
    replaces the v2 content: the dashboard is now stored as v0alpha1 (what `pull`/`push` through the
    legacy API would do to a v2 dashboard)."""
    call(grafana, "POST", dashboards("v2"), v2_object("via-legacy"))
    legacy = call(grafana, "GET", "/api/dashboards/uid/via-legacy")[1]["dashboard"]
    assert call(grafana, "POST", "/api/dashboards/db", {"dashboard": legacy})[0] == 200
    got = call(grafana, "GET", dashboards("v2", "via-legacy"))[1]
    assert got["status"]["conversion"]["storedVersion"] == "v0alpha1"
    assert call(grafana, "GET", dashboards("v0alpha1", "via-legacy"))[1]["spec"]["panels"][0]["targets"] == []
