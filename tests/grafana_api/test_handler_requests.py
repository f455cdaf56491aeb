"""What each kind sends Grafana and how it reads Grafana's refusals, with a fake in place of the HTTP
client (dashboards_as_code/kinds/*.py and comparable.py's docstrings): the dashboard's optimistic lock and
overwrite flag, its folder and push message, a 409 named for the object's kind, a 412 that is a
version mismatch and one that is not, a delete of what is already gone, the search's pages, the owner
and content markers read back, and the call budget's capped backoffs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from grafana_client.client import GrafanaClientError

from dashboards_as_code.defaults import MANAGED_TAG
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.kinds.base import (
    ConflictError,
    Desired,
    HttpError,
    Live,
    ProvisionedError,
    SyncError,
)
from dashboards_as_code.kinds.comparable import (
    DATASOURCE_MARKER,
    DATASOURCE_OWNER_MARKER,
    content_sha,
    mark_dashboard,
    split_dashboard,
    split_datasource,
)
from dashboards_as_code.kinds.dashboard import SEARCH_PAGE, DashboardKind
from dashboards_as_code.kinds.datasource import DatasourceKind
from dashboards_as_code.kinds.folder import FolderKind
from dashboards_as_code.settings import Settings

URL = "http://grafana.test:3000"


class FakeApi:
    """Records every request the kinds make through grafana-client; answers with `answers` in turn."""

    def __init__(self, answers: list[Any]) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.answers = answers
        methods = ("GET", "POST", "PUT", "DELETE")
        self.client = SimpleNamespace(**{name: self._recorder(name) for name in methods})

    def _recorder(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            answer = self.answers.pop(0) if self.answers else {}
            if isinstance(answer, Exception):
                raise answer
            return answer

        return record


class FakeGrafana(Grafana):
    def __init__(self, *answers: Any) -> None:
        super().__init__(Settings(grafana_url=URL, grafana_token="glsa_x"))
        self.api = FakeApi(list(answers))
        self.actions: list[tuple[str, bool]] = []

    def call(self, action: str, request: Any, *, write: bool = False) -> Any:
        self.actions.append((action, write))
        return request(self.api)

    def resource_api(self) -> Any:  # a GrafanaHttp, not the Grafana the real one gives
        """A Grafana without the resource API (`/apis/...` is a 404): these are the legacy API's
        requests; the resource API's are held in test_resource_api_dashboards.py."""
        return WITHOUT_RESOURCE_API


class _WithoutResourceApi:
    url = URL

    def read(self, action: str, path: str, params: dict[str, Any] | None = None) -> object:
        raise HttpError(404, "Not found")

    def send(self, action: str, method: str, path: str, body: object = None) -> object:
        raise AssertionError(f"nothing is written below /apis here ({method} {path})")


WITHOUT_RESOURCE_API = _WithoutResourceApi()


def refused(status: int, message: str, status_word: str | None = None) -> GrafanaClientError:
    body: dict[str, Any] = {"message": message}
    if status_word:
        body["status"] = status_word
    return GrafanaClientError(status, body, f"Client Error {status}: {message}")


def dashboard(owner: str = "tiktickets") -> Desired:
    document = {"uid": "board", "title": "Board", "tags": [MANAGED_TAG], "panels": []}
    return Desired("dashboard", "board", "Board", document, owner, folder_uid="tiktickets")


def live_dashboard(version: int = 12) -> Live:
    return Live(document={}, raw={}, version=version)


def test_an_update_carries_the_live_version_and_does_not_overwrite() -> None:
    """The optimistic lock: Grafana answers 412 if someone saved the dashboard since it was read."""
    grafana = FakeGrafana()
    DashboardKind().write(grafana, dashboard(), live_dashboard(12), force=False)
    ((name, (path,), sent),) = grafana.api.calls
    assert (name, path) == ("POST", "/dashboards/db")
    payload = sent["json"]
    assert payload["dashboard"]["version"] == 12
    assert payload["overwrite"] is False
    assert payload["dashboard"]["id"] is None
    assert payload["folderUid"] == "tiktickets"
    assert payload["message"] == f"dashboards-as-code push {content_sha(dashboard().document)}"
    assert grafana.actions == [("save dashboard 'board'", True)]


def test_a_forced_write_overwrites_without_a_version() -> None:
    grafana = FakeGrafana()
    DashboardKind().write(grafana, dashboard(), live_dashboard(12), force=True)
    ((_, _, sent),) = grafana.api.calls
    payload = sent["json"]
    assert "version" not in payload["dashboard"]
    assert payload["overwrite"] is True


def test_a_dashboard_in_the_general_folder_is_sent_with_an_empty_folder_uid() -> None:
    grafana = FakeGrafana()
    general = Desired("dashboard", "board", "Board", {"uid": "board", "panels": []}, "tiktickets")
    DashboardKind().write(grafana, general, None, force=False)
    ((_, _, sent),) = grafana.api.calls
    payload = sent["json"]
    assert payload["folderUid"] == ""
    assert "version" not in payload["dashboard"]


def test_the_pushed_dashboard_carries_its_content_hash_and_owner_after_its_own_tags() -> None:
    grafana = FakeGrafana()
    desired = dashboard("shop")
    DashboardKind().write(grafana, desired, None, force=False)
    ((_, _, sent),) = grafana.api.calls
    payload = sent["json"]
    assert payload["dashboard"]["tags"] == [
        MANAGED_TAG,
        f"dac-sha256:{content_sha(desired.document)}",
        "dac-project:shop",
    ]


def test_a_412_version_mismatch_is_a_conflict_and_another_412_is_not() -> None:
    with pytest.raises(ConflictError) as conflict:
        DashboardKind().write(
            FakeGrafana(refused(412, "version changed", "version-mismatch")),
            dashboard(),
            live_dashboard(),
            force=False,
        )
    assert conflict.value.status == 412
    assert "dashboard 'board' was saved in Grafana while we pushed" in str(conflict.value)
    with pytest.raises(SyncError) as other:
        DashboardKind().write(
            FakeGrafana(refused(412, "a dashboard with the same name exists", "name-exists")),
            dashboard(),
            live_dashboard(),
            force=False,
        )
    assert not isinstance(other.value, ConflictError)
    assert str(other.value) == "dashboard 'board': 412 a dashboard with the same name exists"


def test_a_400_about_provisioning_is_a_provisioned_dashboard_and_another_400_is_an_error() -> None:
    message = "Cannot save provisioned dashboard"
    with pytest.raises(ProvisionedError):
        DashboardKind().write(FakeGrafana(refused(400, message)), dashboard(), None, force=False)
    with pytest.raises(SyncError) as other:
        DashboardKind().write(FakeGrafana(refused(400, "bad panel")), dashboard(), None, force=False)
    assert not isinstance(other.value, ProvisionedError)
    assert str(other.value) == "dashboard 'board': 400 bad panel"


def test_a_folder_conflict_names_the_folder_and_what_to_change() -> None:
    desired = Desired("folder", "tiktickets", "TikTickets", {}, "tiktickets")
    grafana = FakeGrafana(refused(409, "a folder with that name already exists"))
    with pytest.raises(SyncError) as conflict:
        FolderKind().write(grafana, desired, None, force=False)
    assert conflict.value.status == 409
    assert str(conflict.value).startswith(
        "folder 'TikTickets': Grafana already has a folder with this title or uid"
    )
    # created with the folder's own uid, the one dashboards are filed under, not one Grafana picks
    assert grafana.api.calls == [
        ("POST", ("/folders",), {"json": {"title": "TikTickets", "uid": "tiktickets"}})
    ]


def test_an_existing_folder_is_renamed_not_created() -> None:
    desired = Desired("folder", "tiktickets", "TikTickets", {}, "tiktickets")
    grafana = FakeGrafana()
    FolderKind().write(grafana, desired, Live(document={}, raw={}), force=False)
    ((name, args, kwargs),) = grafana.api.calls
    assert (name, args, kwargs) == (
        "PUT",
        ("/folders/tiktickets",),
        {"json": {"title": "TikTickets", "overwrite": True}},
    )


def test_a_datasource_conflict_names_the_datasource_by_name() -> None:
    desired = Desired("datasource", "prom", "Prometheus", {"uid": "prom", "name": "Prometheus"}, "tiktickets")
    with pytest.raises(SyncError) as conflict:
        DatasourceKind().write(
            FakeGrafana(refused(409, "data source with the same name already exists")),
            desired,
            None,
            force=False,
        )
    assert conflict.value.status == 409
    assert "datasource 'prom': Grafana already has a datasource named 'Prometheus' with another uid" in str(
        conflict.value
    )


def test_a_datasource_is_pushed_with_its_hash_and_owner_in_json_data() -> None:
    document = {"uid": "prom", "name": "Prometheus", "jsonData": {"timeInterval": "15s"}}
    desired = Desired("datasource", "prom", "Prometheus", document, "shop")
    grafana = FakeGrafana()
    DatasourceKind().write(grafana, desired, None, force=False)
    ((name, (path,), sent),) = grafana.api.calls
    assert (name, path) == ("POST", "/datasources")
    body = sent["json"]
    assert body["jsonData"] == {
        "timeInterval": "15s",
        DATASOURCE_MARKER: content_sha(document),
        DATASOURCE_OWNER_MARKER: "shop",
    }


def test_deleting_a_dashboard_already_gone_is_done_and_a_400_is_provisioning() -> None:
    DashboardKind().delete(FakeGrafana(refused(404, "Dashboard not found")), "board")
    with pytest.raises(ProvisionedError):
        DashboardKind().delete(FakeGrafana(refused(400, "provisioned dashboard cannot be deleted")), "board")
    with pytest.raises(SyncError) as other:
        DashboardKind().delete(FakeGrafana(refused(403, "no")), "board")
    assert "delete dashboard 'board': 403" in str(other.value)


@pytest.mark.parametrize("last_page", [0, 1, SEARCH_PAGE - 1])
def test_the_managed_search_reads_full_pages_until_a_short_one(last_page: int) -> None:
    """A page of exactly SEARCH_PAGE hits may not be the last: the next one is asked for."""
    full = [{"uid": f"a{i}", "title": f"A {i}"} for i in range(SEARCH_PAGE)]
    rest = [{"uid": f"b{i}", "title": f"B {i}"} for i in range(last_page)]
    grafana = FakeGrafana(full, rest)
    found = DashboardKind().list_managed(grafana)
    assert len(found) == SEARCH_PAGE + last_page
    assert found[0] == ("a0", "A 0")
    assert [kwargs["params"]["page"] for _, _, kwargs in grafana.api.calls] == [1, 2]
    assert [kwargs["params"]["tag"] for _, _, kwargs in grafana.api.calls] == [[MANAGED_TAG]] * 2
    assert {(name, path) for name, (path,), _ in grafana.api.calls} == {("GET", "/search")}


def test_markers_read_back_what_the_push_wrote() -> None:
    document = {"uid": "board", "tags": [MANAGED_TAG], "panels": []}
    compared, markers = split_dashboard(mark_dashboard(document, "shop"))
    assert (markers.sha, markers.owner) == (content_sha(document), "shop")
    assert compared["tags"] == [MANAGED_TAG]


@pytest.mark.parametrize(
    "tags",
    [
        ["dac-project:shop", "dac-project:other"],  # two owners: neither is trusted
        ["dac-project:"],  # an empty one says nothing
        [],
    ],
)
def test_an_owner_marker_that_is_not_one_name_is_no_owner(tags: list[str]) -> None:
    assert split_dashboard({"tags": tags})[1].owner is None


def test_two_copies_of_one_owner_marker_are_that_owner() -> None:
    assert split_dashboard({"tags": ["dac-project:shop", "dac-project:shop"]})[1].owner == "shop"


def test_a_datasource_s_markers_are_read_and_left_out_of_the_compared_json_data() -> None:
    live: dict[str, Any] = {
        "uid": "p",
        "jsonData": {"x": 1, DATASOURCE_MARKER: "abc", DATASOURCE_OWNER_MARKER: "shop"},
        "id": 4,
    }
    document, markers = split_datasource(live)
    assert (markers.sha, markers.owner) == ("abc", "shop")
    assert document == {"uid": "p", "jsonData": {"x": 1}}
    assert live["jsonData"][DATASOURCE_MARKER] == "abc", "the live answer itself is left as it came"


def test_the_call_budget_caps_each_backoff_at_max_backoff() -> None:
    """(retries + 1) x timeout + the sum of the capped backoffs: 0.25, 0.5, 1, 2, then 4, 4 (capped)."""
    grafana = Grafana(
        Settings(grafana_url=URL, grafana_token="glsa_x", grafana_timeout=5),
        retries=6,
        backoff=0.25,
        max_backoff=4,
    )
    assert grafana.call_budget == pytest.approx(7 * 5 + 0.25 + 0.5 + 1 + 2 + 4 + 4)


def test_a_dashboard_read_back_gives_its_version_folder_and_provisioning() -> None:
    answer = {
        "dashboard": {"uid": "board", "version": 7, "tags": [MANAGED_TAG, "dac-project:shop"]},
        "meta": {"provisioned": True, "folderUid": "tiktickets"},
    }
    grafana = FakeGrafana(answer)
    live = DashboardKind().fetch(grafana, "board")
    assert live is not None
    assert (live.version, live.folder_uid, live.provisioned, live.owner, live.managed) == (
        7,
        "tiktickets",
        True,
        "shop",
        True,
    )
    assert grafana.api.calls == [("GET", ("/dashboards/uid/board",), {"params": None})]


def test_a_dashboard_in_the_general_folder_reads_back_with_no_folder() -> None:
    """Grafana answers folderUid "" for the General folder: the same as a desired folder of None."""
    live = DashboardKind().fetch(
        FakeGrafana({"dashboard": {"uid": "board"}, "meta": {"folderUid": ""}}), "board"
    )
    assert live is not None and live.folder_uid is None


def test_a_read_of_what_grafana_lacks_is_none_and_another_refusal_names_the_read() -> None:
    assert DashboardKind().fetch(FakeGrafana(refused(404, "Dashboard not found")), "board") is None
    assert FolderKind().fetch(FakeGrafana(refused(404, "Folder not found")), "tiktickets") is None
    with pytest.raises(SyncError) as other:
        DashboardKind().fetch(FakeGrafana(refused(400, "bad uid")), "board")
    assert str(other.value) == "read dashboard 'board': 400 Client Error 400: bad uid"
    assert other.value.status == 400


def test_an_answer_of_the_wrong_shape_names_the_endpoint_and_the_read() -> None:
    with pytest.raises(SyncError) as bad:
        DashboardKind().fetch(FakeGrafana([{"uid": "board"}]), "board")
    assert str(bad.value) == (
        f"Grafana at {URL} answered /api/dashboards/uid/board with a JSON list, not an object with dashboard "
        "and meta (while trying to read dashboard 'board')"
    )
