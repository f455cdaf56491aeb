"""The test server answers as Grafana's documentation says (shared/reference/grafana.md §3)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaBadInputError, GrafanaClientError, GrafanaUnauthorizedError

from tests.grafana_server.server import FakeGrafana
from tests.loki_server.server import loki_server


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with FakeGrafana() as server:
        yield server


def api(server: FakeGrafana, credential: Any = "glsa_admin") -> GrafanaApi:
    client: GrafanaApi = GrafanaApi.from_url(server.url + "/", credential=credential, timeout=5)
    return client


def status(error: pytest.ExceptionInfo[GrafanaClientError]) -> tuple[int, Any]:
    return error.value.status_code, error.value.response


def test_health_needs_no_auth_but_everything_else_does(grafana: FakeGrafana) -> None:
    assert api(grafana, "nope").client.GET("/health")["database"] == "ok"
    with pytest.raises(GrafanaUnauthorizedError):
        api(grafana, "nope").folder.get_all_folders()
    assert api(grafana, ("admin", "admin-password")).client.GET("/frontend/settings")["buildInfo"]


def test_dashboard_versions_and_the_optimistic_lock(grafana: FakeGrafana) -> None:
    client = api(grafana)
    first = client.dashboard.update_dashboard({"dashboard": {"uid": "a", "title": "A"}, "overwrite": False})
    assert (first["status"], first["version"], first["url"]) == ("success", 1, "/d/a/a")
    second = client.dashboard.update_dashboard({"dashboard": {"uid": "a", "title": "A", "version": 1}})
    assert second["version"] == 2 and second["id"] == first["id"]
    with pytest.raises(GrafanaClientError) as stale:
        client.dashboard.update_dashboard({"dashboard": {"uid": "a", "title": "A", "version": 1}})
    assert status(stale) == (
        412,
        {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"},
    )
    forced = client.dashboard.update_dashboard(
        {"dashboard": {"uid": "a", "title": "A", "version": 1}, "overwrite": True}
    )
    assert forced["version"] == 3


@pytest.mark.parametrize(
    ("dashboard", "message"),
    [
        ({"uid": "x" * 41, "title": "T"}, "uid too long, max 40 characters"),
        ({"uid": "bad uid", "title": "T"}, "uid contains illegal characters"),
        ({"uid": "ok", "title": " "}, "Dashboard title cannot be empty"),
        ({"uid": "ok", "title": "T", "tags": ["t" * 51]}, "dashboard tag too long, max 50 characters"),
    ],
)
def test_dashboard_validation(grafana: FakeGrafana, dashboard: dict[str, Any], message: str) -> None:
    with pytest.raises(GrafanaBadInputError) as error:
        api(grafana).dashboard.update_dashboard({"dashboard": dashboard})
    assert error.value.response["message"] == message


def test_provisioned_dashboards_cannot_be_saved_or_deleted(grafana: FakeGrafana) -> None:
    grafana.provision_dashboard({"uid": "p", "title": "P"})
    client = api(grafana)
    assert client.dashboard.get_dashboard("p")["meta"]["provisioned"] is True
    with pytest.raises(GrafanaBadInputError) as save:
        client.dashboard.update_dashboard({"dashboard": {"uid": "p", "title": "P"}, "overwrite": True})
    assert save.value.response == {"message": "Cannot save provisioned dashboard"}
    with pytest.raises(GrafanaBadInputError):
        client.dashboard.delete_dashboard("p")


def test_not_found_and_folder_conflicts(grafana: FakeGrafana) -> None:
    client = api(grafana)
    with pytest.raises(GrafanaClientError) as missing:
        client.dashboard.get_dashboard("nope")
    assert status(missing) == (404, {"message": "Dashboard not found", "status": "not-found"})
    client.folder.create_folder("Ops", uid="ops")
    with pytest.raises(GrafanaClientError) as duplicate:
        client.folder.create_folder("Ops", uid="ops-2")
    assert duplicate.value.status_code == 409
    with pytest.raises(GrafanaBadInputError):
        client.dashboard.update_dashboard(
            {"dashboard": {"uid": "d", "title": "D"}, "folderUid": "no-such-folder"}
        )


def test_search_by_tag_and_pagination(grafana: FakeGrafana) -> None:
    client = api(grafana)
    for index in range(3):
        client.dashboard.update_dashboard(
            {"dashboard": {"uid": f"d{index}", "title": f"D{index}", "tags": ["x"]}}
        )
    client.dashboard.update_dashboard({"dashboard": {"uid": "other", "title": "Other"}})
    hits = client.search.search_dashboards(tag="x", type_="dash-db")
    assert [h["uid"] for h in hits] == ["d0", "d1", "d2"]
    assert [h["uid"] for h in client.search.search_dashboards(tag="x", limit=2, page=2)] == ["d2"]


@pytest.mark.parametrize("count", [4, 5])
def test_search_pages_are_limit_sized_slices_numbered_from_one(grafana: FakeGrafana, count: int) -> None:
    """Grafana's /api/search: `limit` is the page size, `page` counts from 1 and reaches the hits
    beyond the first page; a page past the end is empty. What a client that pages until a short page
    relies on, an exact multiple of the page size included (then the short page is an empty one)."""
    client = api(grafana)
    uids = [f"d{index}" for index in range(count)]
    for uid in uids:
        client.dashboard.update_dashboard({"dashboard": {"uid": uid, "title": uid.upper(), "tags": ["x"]}})
    client.dashboard.update_dashboard({"dashboard": {"uid": "other", "title": "A untagged"}})
    last = -(-count // 2)  # the last page holding a hit
    pages = [
        [hit["uid"] for hit in client.search.search_dashboards(tag="x", type_="dash-db", limit=2, page=page)]
        for page in range(1, last + 2)
    ]
    assert pages == [uids[(page - 1) * 2 : page * 2] for page in range(1, last + 1)] + [[]]
    assert [hit["uid"] for hit in client.search.search_dashboards(tag="x", limit=2)] == uids[:2]  # page 1


def test_search_by_tag_matches_whole_tags_among_others_and_repeated_tags_all(grafana: FakeGrafana) -> None:
    """What prune relies on: `tag=` is an exact match on one of the dashboard's tags, and several
    `tag=` parameters must all be present (Grafana's search ANDs them)."""
    client = api(grafana)
    for uid, tags in {
        "a": ["m", "dac-project:tik"],
        "b": ["m", "dac-project:tiktickets"],
        "c": ["x"],
    }.items():
        client.dashboard.update_dashboard({"dashboard": {"uid": uid, "title": uid.upper(), "tags": tags}})
    assert [h["uid"] for h in client.search.search_dashboards(tag="m")] == ["a", "b"]
    assert [h["tags"] for h in client.search.search_dashboards(tag="m")][1] == ["m", "dac-project:tiktickets"]
    assert [h["uid"] for h in client.search.search_dashboards(tag="dac-project:tik")] == ["a"]
    assert [h["uid"] for h in client.search.search_dashboards(tag=["m", "dac-project:tiktickets"])] == ["b"]
    assert client.search.search_dashboards(tag=["m", "x"]) == []


def test_datasources_roles_names_and_read_only(grafana: FakeGrafana) -> None:
    admin = api(grafana)
    body = {"name": "Loki", "uid": "loki", "type": "loki", "url": "http://loki:3100", "access": "proxy"}
    assert admin.datasource.create_datasource(body)["message"] == "Datasource added"
    with pytest.raises(GrafanaClientError) as same_name:
        admin.datasource.create_datasource({**body, "uid": "loki-2"})
    assert same_name.value.status_code == 409
    with pytest.raises(GrafanaClientError) as editor:
        api(grafana, "glsa_editor").datasource.update_datasource_by_uid("loki", body)
    assert editor.value.status_code == 403
    grafana.provision_datasource({**body, "name": "Prom", "uid": "prom", "type": "prometheus"})
    with pytest.raises(GrafanaClientError) as read_only:
        admin.datasource.update_datasource_by_uid("prom", {**body, "name": "Prom", "uid": "prom"})
    assert status(read_only) == (403, {"message": "Cannot update read-only data source"})


def test_viewer_cannot_write(grafana: FakeGrafana) -> None:
    with pytest.raises(GrafanaClientError) as denied:
        api(grafana, "glsa_viewer").dashboard.update_dashboard({"dashboard": {"uid": "v", "title": "V"}})
    assert denied.value.status_code == 403


def test_the_datasource_proxy_passes_reads_through_without_the_callers_credentials(
    grafana: FakeGrafana,
) -> None:
    def get(path: str, authorization: str | None = "Bearer glsa_viewer") -> tuple[int, bytes]:
        headers = {"Authorization": authorization} if authorization else {}
        request = urllib.request.Request(f"{grafana.url}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    with loki_server() as (loki_url, store):
        store.push({"service_name": "a"}, "line")
        grafana.provision_datasource({"uid": "loki", "name": "Loki", "type": "loki", "url": loki_url})
        status, body = get("/api/datasources/proxy/uid/loki/loki/api/v1/labels")
        assert (status, json.loads(body)["data"]) == (200, ["service_name"])
        status, body = get("/api/datasources/proxy/uid/loki/loki/api/v1/query_range?query=nonsense")
        assert status == 400 and b"parse error" in body  # Loki's own answer, as it is
        assert get("/api/datasources/proxy/uid/loki/loki/api/v1/labels", None)[0] == 401
        assert get("/api/datasources/proxy/uid/nope/loki/api/v1/labels") == (
            404,
            b'{"message": "Unable to find datasource"}',
        )
    assert get("/api/datasources/proxy/uid/loki/loki/api/v1/labels")[0] == 502  # Loki has stopped


def test_health_answers_the_documented_fields() -> None:
    """200 `{"commit": ..., "database": "ok", "version": ...}`, no authentication (reference §3.2)."""
    with FakeGrafana(version="11.6.0") as server:
        answer = api(server, "nope").client.GET("/health")
    assert answer == {"commit": answer["commit"], "database": "ok", "version": "11.6.0"}
    assert isinstance(answer["commit"], str)


def test_older_grafana_refuses_a_second_title_in_a_folder_with_412_name_exists() -> None:
    """Reference §3.3: 412 `name-exists` when, without overwrite, another dashboard of the folder has
    the title; the same title in another folder, or the same dashboard saved again, is fine."""
    with FakeGrafana(titles_unique_in_folder=True) as server:
        client = api(server)
        client.folder.create_folder("Team", uid="team")
        client.dashboard.update_dashboard({"dashboard": {"uid": "a", "title": "A"}, "folderUid": "team"})
        with pytest.raises(GrafanaClientError) as same_folder:
            client.dashboard.update_dashboard({"dashboard": {"uid": "b", "title": "A"}, "folderUid": "team"})
        assert status(same_folder) == (
            412,
            {
                "message": "A dashboard with the same name in the folder already exists",
                "status": "name-exists",
            },
        )
        assert "b" not in server.state.dashboards
        client.dashboard.update_dashboard({"dashboard": {"uid": "b", "title": "A"}, "folderUid": ""})
        client.dashboard.update_dashboard(
            {"dashboard": {"uid": "a", "title": "A", "version": 1}, "folderUid": "team"}
        )
    with FakeGrafana() as newest:  # the newest Grafana has no such rule
        client = api(newest)
        client.dashboard.update_dashboard({"dashboard": {"uid": "a", "title": "A"}})
        assert (
            client.dashboard.update_dashboard({"dashboard": {"uid": "b", "title": "A"}})["status"]
            == "success"
        )


def test_a_datasources_secure_values_are_kept_and_never_answered(grafana: FakeGrafana) -> None:
    """Grafana's Data source HTTP API: `secureJsonData` is stored encrypted; a read answers only which
    keys are set (`secureJsonFields`), and a write that leaves a key out keeps its value."""
    admin = api(grafana)
    body = {
        "name": "Cortex", "uid": "cortex", "type": "prometheus", "url": "http://cortex:9009/prometheus",
        "access": "proxy", "jsonData": {"httpHeaderName1": "X-Scope-OrgID"},
        "secureJsonData": {"httpHeaderValue1": "env-a"},
    }  # fmt: skip
    admin.datasource.create_datasource(body)
    read = admin.datasource.get_datasource_by_uid("cortex")
    assert read["secureJsonFields"] == {"httpHeaderValue1": True}
    assert "secureJsonData" not in read and "env-a" not in json.dumps(read)
    admin.datasource.update_datasource_by_uid(
        "cortex", {k: v for k, v in body.items() if k != "secureJsonData"}
    )
    assert grafana.state.secure_values["cortex"] == {"httpHeaderValue1": "env-a"}
