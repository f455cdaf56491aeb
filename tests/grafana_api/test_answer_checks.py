"""What the transport refuses before grafana-client reads an answer, and how a wrong answer is
described: pure functions on small fake responses, no server."""

from __future__ import annotations

import niquests
import pytest

from dashboards_as_code.grafana_api.transport import (
    NotJsonError,
    RateLimitedError,
    RedirectedError,
    _check,
    retry_after_seconds,
)
from dashboards_as_code.kinds.answers import BadAnswerError, Health, describe, parse, parse_search

PATH = "/api/dashboards/uid/x"


def response(status: int, body: bytes = b"", **headers: str) -> niquests.Response:
    answer = niquests.Response()
    answer.status_code = status
    for name, value in headers.items():
        answer.headers[name.replace("_", "-")] = value
    answer._content = body
    return answer


def refused(answer: niquests.Response) -> Exception:
    with pytest.raises(Exception) as raised:
        _check(answer, PATH)
    return raised.value


@pytest.mark.parametrize(
    "answer",
    [
        response(200, b'{"dashboard": {}}', Content_Type="application/json"),
        response(200, b"[]"),  # no Content-Type: the body decides
        response(204),  # No Content: nothing to parse
        response(404, b"<html>not found</html>", Content_Type="text/html"),  # grafana-client's to read
        response(500, b""),
    ],
    ids=["json", "no-content-type", "204", "404-html", "500-empty"],
)
def test_what_passes_to_grafana_client(answer: niquests.Response) -> None:
    """Nothing is refused here: an error status is grafana-client's to raise, a 204 has no body."""
    _check(answer, PATH)  # raises nothing
    assert answer.status_code is not None and answer.content == answer._content


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308, 399])
def test_every_3xx_is_a_redirect_naming_status_and_location(status: int) -> None:
    error = refused(response(status, Location="/login?redirect=%2F"))
    assert isinstance(error, RedirectedError)
    assert error.what == f"a {status} redirect to /login?redirect=%2F" and error.path == PATH


def test_a_redirect_without_a_location_goes_nowhere() -> None:
    error = refused(response(302))
    assert isinstance(error, RedirectedError) and error.what == "a 302 redirect to nowhere"


def test_429_carries_the_wait_the_server_asked_for() -> None:
    error = refused(response(429, b'{"message": "slow down"}', Retry_After="12"))
    assert isinstance(error, RateLimitedError) and error.retry_after == 12
    assert error.what == "429 Too Many Requests"
    plain = refused(response(429))
    assert isinstance(plain, RateLimitedError) and plain.retry_after is None


@pytest.mark.parametrize(
    "answer",
    [
        response(200, b'{"a": 1}', Content_Type="text/html; charset=utf-8"),
        response(200, b'{"a": 1}', Content_Type="TEXT/HTML"),
        response(200, b"  \n<!doctype html><html></html>"),
        response(201, b"<html>"),
    ],
    ids=["html-type", "html-type-upper", "leading-blank-page", "201-page"],
)
def test_a_web_page_in_a_2xx_is_refused_as_html(answer: niquests.Response) -> None:
    error = refused(answer)
    assert isinstance(error, NotJsonError) and error.html and error.what == "an HTML page"


@pytest.mark.parametrize(("body", "status"), [(b"", 200), (b" \r\n\t", 200), (b"", 202)])
def test_an_empty_2xx_body_names_its_status(body: bytes, status: int) -> None:
    error = refused(response(status, body, Content_Type="application/json"))
    assert isinstance(error, NotJsonError) and not error.html
    assert error.what == f"an empty body ({status})"


def test_a_body_that_is_not_json_names_status_and_size_not_content() -> None:
    error = refused(response(200, b"ok: secret-4711\n", Content_Type="application/json"))
    assert isinstance(error, NotJsonError) and not error.html
    assert error.what == "a body that is not JSON (200, 16 bytes)"
    assert str(error) == f"{PATH}: a body that is not JSON (200, 16 bytes)"


@pytest.mark.parametrize("value", ["1.5", "-3", "0x10", "soon"])
def test_a_retry_after_that_is_not_whole_seconds_or_a_date_is_no_wait(value: str) -> None:
    assert retry_after_seconds(value) is None


def test_a_retry_after_of_zero_is_a_wait_of_zero_not_none() -> None:
    assert retry_after_seconds("0") == 0.0


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "a JSON number"),
        (2.5, "a JSON number"),
        (False, "a JSON boolean"),
        ("ok", "a string"),
        ("  <!DOCTYPE html>", "an HTML page"),
        ("text with < later", "a string"),
        ([1], "a JSON list"),
        ({}, "a JSON object"),
        (None, "null"),
    ],
)
def test_describe_names_the_json_kind_without_quoting_it(value: object, words: str) -> None:
    assert describe(value) == words


@pytest.mark.parametrize(
    ("hits", "where"),
    [([{"title": "A"}], "0.uid: Field required"), ([{"uid": "a"}, {"uid": 3}], "1.uid: Input should be")],
)
def test_a_bad_search_hit_is_named_by_its_position(hits: list[object], where: str) -> None:
    with pytest.raises(BadAnswerError) as raised:
        parse_search(hits, "http://x", "/api/search")
    assert str(raised.value).startswith(
        f"Grafana at http://x answered /api/search with a list that is not one of search hits ({where}"
    )


def test_a_search_answered_with_null_or_a_page() -> None:
    with pytest.raises(BadAnswerError, match=r"/api/search with null, not a list of search hits$"):
        parse_search(None, "http://x", "/api/search")
    with pytest.raises(BadAnswerError, match=r"/api/search with an HTML page, not a list of search hits$"):
        parse_search("<html>", "http://x", "/api/search")


def test_a_health_answer_without_version_is_grafana_with_hide_version() -> None:
    health = parse(Health, {"database": "ok"}, "http://x", "/api/health")
    assert (health.version, health.commit) == (None, None)
    assert (
        parse(Health, {"database": "ok", "version": "12.1.0"}, "http://x", "/api/health").version == "12.1.0"
    )


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"database": "failing"}, "database: Input should be 'ok'"),
        ({"status": "UP"}, "database: Field required"),
        ({"database": "ok", "version": 12}, "version: Input should be a valid string"),
        ({"database": "ok", "commit": ["abc"]}, "commit: Input should be a valid string"),
    ],
)
def test_another_services_health_is_not_grafanas(value: object, where: str) -> None:
    with pytest.raises(BadAnswerError) as raised:
        parse(Health, value, "http://x", "/api/health")
    message = str(raised.value)
    assert message.startswith(
        "Grafana at http://x answered /api/health with an object that is not Grafana's health JSON "
        f'(an object with database "ok" and a string version) ({where}'
    )
    assert message.endswith(")") and "\n" not in message
