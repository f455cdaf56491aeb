"""The test server's correlations API answers as current Grafana does (HTTP API docs, and the source read
for the README's Grafana section: pkg/services/correlations api.go, models.go, database.go; the
provisioning reader in pkg/services/provisioning/datasources)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError

from tests.grafana_server.server import FakeGrafana

SOURCES = "/datasources/uid/loki/correlations"
CORRELATION = {
    "targetUID": "jaeger",
    "label": "Trace",
    "description": "log line to trace",
    "type": "query",
    "config": {"field": "TraceID", "target": {"query": "${TraceID}"}},
}


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with FakeGrafana() as server:
        for uid in ("loki", "jaeger"):
            server._store_datasource({"uid": uid, "name": uid.title(), "type": uid}, None)
        yield server


def client(server: FakeGrafana, token: str = "glsa_admin") -> Any:
    return GrafanaApi.from_url(server.url + "/", credential=token, timeout=5).client


def refused(call: Any, *args: Any, **kwargs: Any) -> tuple[int, Any]:
    with pytest.raises(GrafanaClientError) as error:
        call(*args, **kwargs)
    return error.value.status_code, error.value.response


def test_create_answers_with_grafanas_uid_and_the_type_at_the_top(grafana: FakeGrafana) -> None:
    answer = client(grafana).POST(SOURCES, json=CORRELATION)
    assert answer["message"] == "Correlation created"
    result = answer["result"]
    assert result["uid"] and result["uid"] != "Trace"  # Grafana picks it
    assert {k: result[k] for k in ("sourceUID", "targetUID", "label", "type", "provisioned")} == {
        "sourceUID": "loki",
        "targetUID": "jaeger",
        "label": "Trace",
        "type": "query",
        "provisioned": False,
    }
    assert result["config"] == {"field": "TraceID", "target": {"query": "${TraceID}"}}  # no config.type


def test_reads_list_by_source_one_by_uid_and_all_paged(grafana: FakeGrafana) -> None:
    api = client(grafana)
    made = [api.POST(SOURCES, json={**CORRELATION, "label": f"L{i}"})["result"]["uid"] for i in range(3)]
    assert [c["label"] for c in api.GET(SOURCES)] == ["L0", "L1", "L2"]
    assert api.GET(f"{SOURCES}/{made[1]}")["label"] == "L1"
    first = api.GET("/datasources/correlations", params={"limit": 2, "page": 1})
    second = api.GET("/datasources/correlations", params={"limit": 2, "page": 2})
    assert (first["page"], first["limit"], first["totalCount"]) == (1, 2, 3)
    assert [c["uid"] for c in first["correlations"] + second["correlations"]] == sorted(made)
    assert api.GET("/datasources/correlations", params={"limit": 5000})["limit"] == 1000


def test_an_empty_list_is_200_on_the_legacy_store_and_404_on_the_app_platform() -> None:
    for app_platform, expected in ((False, []), (True, None)):
        with FakeGrafana(correlations_on_app_platform=app_platform) as server:
            server._store_datasource({"uid": "loki", "name": "Loki", "type": "loki"}, None)
            if expected is None:
                assert refused(client(server).GET, SOURCES) == (404, {"message": "No correlation found"})
            else:
                assert client(server).GET(SOURCES) == expected


@pytest.mark.parametrize(
    ("change", "answer"),
    [
        ({"type": None}, (400, {"message": "bad request data"})),
        ({"type": "link"}, (400, {"message": "bad request data"})),
        ({"targetUID": None}, (400, {"message": "bad request data"})),
        ({"config": {"field": "f", "target": {}, "type": "external"}}, (400, None)),
        ({"config": {"field": "f", "target": {}, "transformations": [{"type": "regex"}]}}, (400, None)),
        ({"targetUID": "nowhere"}, (404, {"message": "Data source not found"})),
    ],
)
def test_create_refuses_what_grafana_refuses(
    grafana: FakeGrafana, change: dict[str, Any], answer: tuple[int, Any]
) -> None:
    status, body = refused(client(grafana).POST, SOURCES, json={**CORRELATION, **change})
    assert status == answer[0] and (answer[1] is None or body == answer[1])


def test_an_unknown_source_is_404_and_writes_need_the_admin_role(grafana: FakeGrafana) -> None:
    api = client(grafana)
    assert refused(api.GET, "/datasources/uid/nope/correlations") == (
        404,
        {"message": "Source data source not found"},
    )
    assert refused(api.POST, "/datasources/uid/nope/correlations", json=CORRELATION)[0] == 404
    assert refused(client(grafana, "glsa_editor").POST, SOURCES, json=CORRELATION) == (
        403,
        {"message": "Permissions needed: datasources:write"},
    )


def test_patch_changes_what_it_names_and_cannot_be_empty(grafana: FakeGrafana) -> None:
    api = client(grafana)
    uid = api.POST(SOURCES, json=CORRELATION)["result"]["uid"]
    answer = api.PATCH(f"{SOURCES}/{uid}", json={"description": "new", "config": {"field": "Line"}})
    assert answer["message"] == "Correlation updated"
    assert (answer["result"]["description"], answer["result"]["label"]) == ("new", "Trace")
    assert answer["result"]["config"] == {"field": "Line", "target": {"query": "${TraceID}"}}
    assert refused(api.PATCH, f"{SOURCES}/{uid}", json={"config": {"transformations": []}}) == (
        400,
        {"message": "At least one of label, description or config is required"},
    )
    assert refused(api.PATCH, f"{SOURCES}/nope", json={"label": "x"}) == (
        404,
        {"message": "Correlation not found"},
    )


def test_delete_then_the_correlation_is_gone(grafana: FakeGrafana) -> None:
    api = client(grafana)
    uid = api.POST(SOURCES, json=CORRELATION)["result"]["uid"]
    assert api.DELETE(f"{SOURCES}/{uid}") == {"message": "Correlation deleted"}
    assert api.GET(SOURCES) == []
    assert refused(api.DELETE, f"{SOURCES}/{uid}") == (404, {"message": "Correlation not found"})


def test_provisioning_recreates_the_sources_correlations_read_only(grafana: FakeGrafana) -> None:
    """Grafana's startup: datasources first, then per source its provisioned correlations deleted and
    created again (new uids, provisioned); ones made through the API stay; provisioned ones are 403."""
    api = client(grafana)
    by_api = api.POST(SOURCES, json={**CORRELATION, "label": "By hand"})["result"]["uid"]
    entry = {"uid": "loki", "name": "Loki", "type": "loki", "correlations": [{**CORRELATION, "type": "x"}]}
    grafana.provision_datasources([entry])
    first = {c["label"]: c for c in api.GET(SOURCES)}
    grafana.provision_datasources([entry])
    second = {c["label"]: c for c in api.GET(SOURCES)}
    assert set(second) == {"By hand", "Trace"} and second["By hand"]["uid"] == by_api
    assert second["Trace"]["provisioned"] and second["Trace"]["type"] == "query"  # only "external" is
    assert second["Trace"]["uid"] != first["Trace"]["uid"]
    provisioned = f"{SOURCES}/{second['Trace']['uid']}"
    only_by_provisioning = (403, {"message": "Correlation can only be edited via provisioning"})
    assert refused(api.PATCH, provisioned, json={"label": "x"}) == only_by_provisioning
    assert refused(api.DELETE, provisioned) == only_by_provisioning


def test_a_correlation_whose_target_is_gone_is_not_listed(grafana: FakeGrafana) -> None:
    api = client(grafana)
    api.POST(SOURCES, json=CORRELATION)
    del grafana.state.datasources["jaeger"]
    assert api.GET(SOURCES) == []
    assert api.GET("/datasources/correlations")["correlations"] == []
