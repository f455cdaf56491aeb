"""How `doctor` names each way a datasource answers wrongly, without a server: an HTTP status with its
body, an answer that is not the API's JSON, a refused credential (Grafana's or the datasource's), a
message cut to its limit, and the URL and credential a request through Grafana is sent with."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
from email.message import Message

import pytest
from pydantic import TypeAdapter

from dashboards_as_code.doctor.causes import CauseCode
from dashboards_as_code.doctor.http import MAX_SHOWN, Answer, Endpoint, SourceError, _error_message, _shorten
from dashboards_as_code.doctor.prometheus_api import BUILD_INFO

DIRECT = Endpoint("http://p:9090", "prometheus", 5)
LOKI = Endpoint("http://l:3100", "loki", 2.5)
VIA = Endpoint.through_grafana("http://g", "prom-uid", "prometheus", 5, "glsa_x")


def _status(endpoint: Endpoint, code: int, body: bytes = b"") -> SourceError:
    error = urllib_error(code, body)
    return endpoint._http_error("/api/v1/query", error)


def urllib_error(code: int, body: bytes) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("http://x", code, "status", Message(), io.BytesIO(body))


@pytest.mark.parametrize("code", [401, 403])
def test_refused_credentials_name_who_refused_them(code: int) -> None:
    """Straight to the datasource, it refused; through Grafana, Grafana did (its token, not the
    datasource's): the person fixes a different setting in each case."""
    direct = _status(DIRECT, code)
    assert direct.code is CauseCode.UNAUTHORIZED
    assert direct.detail == f"http://p:9090: Prometheus refused the credentials (HTTP {code})"
    loki = _status(LOKI, code)
    assert loki.detail == f"http://l:3100: Loki refused the credentials (HTTP {code})"
    via = _status(VIA, code)
    assert via.detail == (
        f"http://g/api/datasources/proxy/uid/prom-uid (through Grafana): Grafana refused the credentials "
        f"(HTTP {code})"
    )


def test_a_rejected_query_without_an_explanation_is_a_status_not_a_query_error() -> None:
    """400 with an empty body says nothing about the query: it is reported as the status it is."""
    error = _status(DIRECT, 400)
    assert error.code is CauseCode.UNREACHABLE and error.detail == "http://p:9090/api/v1/query: HTTP 400"


def test_a_404_without_a_body_still_says_it_is_not_the_api_root() -> None:
    error = _status(LOKI, 404)
    assert error.code is CauseCode.NOT_LOKI
    assert error.detail == "http://l:3100/api/v1/query: HTTP 404: not a loki API root"


def test_a_422_quotes_the_datasource() -> None:
    error = _status(LOKI, 422, b"parse error at line 1, col 5")
    assert error.code is CauseCode.QUERY_ERROR
    assert error.detail == "http://l:3100/api/v1/query: loki says: parse error at line 1, col 5"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": "bad query", "message": "other"}', "bad query"),  # Prometheus' field first
        (b'{"message": "Data source not found"}', "Data source not found"),  # Grafana's
        (b"  plain text from Loki\n", "plain text from Loki"),
        (b"[1, 2]", None),  # JSON, but no message in it
        (b'{"error": ""}', None),
        (b"   ", None),
    ],
)
def test_a_servers_own_error_message_is_found_where_each_writes_it(body: bytes, message: str | None) -> None:
    assert _error_message(body) == message


def test_a_servers_message_is_cut_at_its_limit_and_marked() -> None:
    exact = "x" * MAX_SHOWN
    assert MAX_SHOWN == 300
    assert _shorten(f"  {exact}  ") == exact
    assert _shorten(exact + "y") == exact + "..."


def _decode(body: object, endpoint: Endpoint = DIRECT) -> SourceError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(SourceError) as raised:
        endpoint._decode("/api/v1/status/buildinfo", raw, BUILD_INFO)
    return raised.value


@pytest.mark.parametrize(
    "body", [b"<html>Grafana</html>", [], {"data": {"version": "3"}}, {"status": "maybe"}, b"null"]
)
def test_an_answer_without_the_apis_status_is_not_that_api(body: object) -> None:
    error = _decode(body)
    assert error.code is CauseCode.NOT_PROMETHEUS
    assert error.detail == "http://p:9090/api/v1/status/buildinfo did not answer as the prometheus API"
    assert _decode(body, LOKI).code is CauseCode.NOT_LOKI


def test_an_error_status_in_the_body_quotes_the_error_or_says_error() -> None:
    said = _decode({"status": "error", "error": "  too many samples  "})
    assert said.code is CauseCode.QUERY_ERROR
    assert said.detail == "http://p:9090/api/v1/status/buildinfo: prometheus says: too many samples"
    silent = _decode({"status": "error"})
    assert silent.detail == "http://p:9090/api/v1/status/buildinfo: prometheus says: error"


def test_a_success_without_data_names_the_shape_expected() -> None:
    error = _decode({"status": "success"})
    assert error.code is CauseCode.BAD_ANSWER
    assert (
        error.detail
        == "http://p:9090/api/v1/status/buildinfo: `data` is missing, expected an object with version"
    )


def test_data_of_the_wrong_kind_is_named_by_its_kind() -> None:
    answer = Answer(TypeAdapter(list[str]), "a list of strings")
    with pytest.raises(SourceError) as raised:
        DIRECT._decode("/api/v1/labels", json.dumps({"status": "success", "data": {"a": 1}}).encode(), answer)
    assert (
        raised.value.detail == "http://p:9090/api/v1/labels: `data` is an object, expected a list of strings"
    )


def test_a_timeout_names_the_limit_as_set() -> None:
    error = LOKI._transport_error("/loki/api/v1/labels", TimeoutError())
    assert error.code is CauseCode.UNREACHABLE
    assert error.detail == (
        "http://l:3100/loki/api/v1/labels: no answer within 2.5 s (the whole request, body included)"
    )


def test_a_request_through_grafana_carries_its_credential_and_a_quoted_uid() -> None:
    basic = Endpoint.through_grafana("http://g/sub", "a/b c", "loki", 5, ("admin", "pw:1"))
    assert basic.base_url == "http://g/sub/api/datasources/proxy/uid/a%2Fb%20c"
    assert basic.headers == {"Authorization": "Basic " + base64.b64encode(b"admin:pw:1").decode()}
    assert VIA.headers == {"Authorization": "Bearer glsa_x"}
    assert "glsa_x" not in repr(VIA)  # never in a message or a log line
    assert basic.kind == "loki" and basic.timeout == 5
