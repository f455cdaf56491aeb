"""What `doctor` says about an HTTP answer that is not data: each status and body read as a person
needs it, whether the datasource is asked directly or through Grafana's datasource proxy.

The stand-ins answer as the real services do: Prometheus explains a failed query in JSON (`error`)
with 400 for a query it cannot parse and 422 for one it cannot execute; Grafana explains in JSON
too (`message`), e.g. a 404 for a datasource uid it does not have; a wrong URL path gets Go's
plain-text 404. Credentials refused (401/403) are held by
tests/doctor/test_hostile_sources.py::test_refused_credentials_are_unauthorized_whatever_the_refusal_status.
"""

from __future__ import annotations

import json

import pytest

from dashboards_as_code.doctor.causes import CauseCode
from dashboards_as_code.doctor.http import Endpoint, SourceError
from dashboards_as_code.doctor.prometheus_api import BUILD_INFO, QUERY
from tests.doctor.hostile_sources import BUILD_INFO as SENT_BUILD_INFO
from tests.doctor.hostile_sources import Reply, fake_prometheus, success, truncated

QUERY_PATH = "/api/v1/query"


def _error(answers: dict[str, Reply]) -> SourceError:
    """The SourceError one instant query raises against a Prometheus stand-in answering `answers`."""
    with fake_prometheus(answers) as url, pytest.raises(SourceError) as raised:
        Endpoint(url, "prometheus", 5).get(QUERY_PATH, QUERY, {"query": "up"})
    return raised.value


@pytest.mark.parametrize(
    ("status", "error_type", "message"),
    [
        (400, "bad_data", 'parse error: unexpected "}"'),
        (422, "execution", 'found duplicate series for the match group {job="api"} on the right hand-side'),
    ],
    ids=["400-cannot-parse", "422-cannot-execute"],
)
def test_a_query_prometheus_rejects_is_a_query_error_quoting_prometheus(
    status: int, error_type: str, message: str
) -> None:
    """Both statuses mean "the query is wrong", never "Prometheus is down": the panel's fix is in its
    PromQL, and Prometheus' own words say where."""
    body = json.dumps({"status": "error", "errorType": error_type, "error": message}).encode()
    error = _error({QUERY_PATH: Reply(body, status)})
    assert error.code is CauseCode.QUERY_ERROR, error.detail
    assert error.detail.endswith(f"{QUERY_PATH}: prometheus says: {message}"), error.detail


def test_a_wrong_url_path_is_not_this_api_and_quotes_the_404() -> None:
    """PROMETHEUS_URL pointing at the wrong path (a Grafana root, a missing prefix): Go's plain 404."""
    error = _error({QUERY_PATH: Reply(b"404 page not found\n", 404)})
    assert error.code is CauseCode.NOT_PROMETHEUS
    assert error.detail.endswith(f"{QUERY_PATH}: HTTP 404 (404 page not found): not a prometheus API root")


def test_a_datasource_grafana_does_not_have_quotes_grafanas_message() -> None:
    """A dashboard naming a datasource uid this Grafana lacks: Grafana's proxy answers 404 with a JSON
    `message`; the person needs that message ("Data source not found"), not only the status."""
    answers = {"/api/datasources/proxy/": Reply(b'{"message": "Data source not found"}', 404)}
    with fake_prometheus(answers) as grafana, pytest.raises(SourceError) as raised:
        endpoint = Endpoint.through_grafana(grafana, "no-such-uid", "prometheus", 5, "glsa_viewer")
        endpoint.get(QUERY_PATH, QUERY)
    assert raised.value.code is CauseCode.NOT_PROMETHEUS
    assert "HTTP 404 (Data source not found): not a prometheus API root" in raised.value.detail
    assert "/api/datasources/proxy/uid/no-such-uid/api/v1/query (through Grafana)" in raised.value.detail


def test_a_server_error_is_unreachable_with_its_status() -> None:
    """A 502 from a proxy before Prometheus: the datasource cannot be reached, whatever the body says."""
    error = _error({QUERY_PATH: Reply(b"<html>Bad Gateway</html>", 502)})
    assert error.code is CauseCode.UNREACHABLE and error.detail.endswith(f"{QUERY_PATH}: HTTP 502")


def test_every_problem_of_a_bad_answer_is_counted() -> None:
    """Three samples whose label is a number: the first is shown, the other two are counted, so a person
    knows the answer is wrong throughout and not in one place."""
    broken = {"metric": {"job": 5}, "value": [1700000000, "1"]}
    answer = success({"resultType": "vector", "result": [broken, broken, broken]})
    error = _error({QUERY_PATH: Reply(answer)})
    assert error.code is CauseCode.BAD_ANSWER
    assert "`data.result[0].metric.job`" in error.detail
    assert error.detail.endswith("(and 2 more problem(s))"), error.detail


def test_a_body_that_breaks_off_says_how_much_arrived() -> None:
    """The stand-in announces the whole build-info answer and sends its first half: the message says
    how many bytes did arrive (a cut at 0 bytes and one near the end point at different faults)."""
    arrived = len(success(SENT_BUILD_INFO)) // 2
    with truncated() as url, pytest.raises(SourceError) as raised:
        Endpoint(url, "prometheus", 5).get("/api/v1/status/buildinfo", BUILD_INFO)
    assert raised.value.code is CauseCode.UNREACHABLE
    assert raised.value.detail.endswith(f": the answer broke off after {arrived} bytes"), raised.value.detail
