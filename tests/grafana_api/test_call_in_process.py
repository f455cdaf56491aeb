"""`Grafana.call` in-process, with requests that raise what the transport or grafana-client would:
which failures are tried again and how often, what is counted, how long it waits, and the exact
message each failure ends in (the endpoint, the action, the number of tries, the setting to change)."""

from __future__ import annotations

import time
from collections.abc import Callable

import niquests
import pytest
from grafana_client.api import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)

from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.grafana_api.transport import (
    BodyCutShortError,
    DeadlineExceededError,
    NotJsonError,
    RateLimitedError,
    RedirectedError,
)
from dashboards_as_code.kinds.base import SyncError
from dashboards_as_code.settings import Settings

URL = "http://grafana.test:3000"
ACTION = "read dashboard 'x'"


def grafana(
    retries: int = 2, timeout: float = 5, sleeps: list[float] | None = None, **kwargs: float
) -> Grafana:
    """A Grafana whose waits are recorded in `sleeps` instead of slept."""
    record = sleeps if sleeps is not None else []
    return Grafana(
        Settings(grafana_url=URL, grafana_token="glsa_x", grafana_timeout=timeout),
        retries=retries,
        sleep=record.append,
        **kwargs,
    )


def failing(*errors: Exception, answer: object = "done") -> tuple[Callable[[GrafanaApi], object], list[int]]:
    """A request that raises `errors` in turn, then answers `answer`; and the list of its attempts."""
    attempts: list[int] = []

    def request(_: GrafanaApi) -> object:
        attempts.append(len(attempts))
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]
        return answer

    return request, attempts


def refusal(client: Grafana, request: Callable[[GrafanaApi], object], *, write: bool = False) -> SyncError:
    with pytest.raises(SyncError) as raised:
        client.call(ACTION, request, write=write)
    return raised.value


def server_error(status: int = 500, message: str = "database is locked") -> GrafanaServerError:
    return GrafanaServerError(status, {"message": message}, f"Server Error {status}: {message}")


def test_a_write_is_counted_as_a_write_and_its_second_try_as_a_retry() -> None:
    """`push` reports "N reads, M writes, K retries": a retried write is one write and one retry."""
    client = grafana()
    request, attempts = failing(server_error())
    assert client.call("update dashboard 'x'", request, write=True) == "done"
    assert len(attempts) == 2
    assert (client.counts.reads, client.counts.writes, client.counts.retries) == (0, 1, 1)


def test_a_body_cut_short_is_tried_again() -> None:
    """A dropped connection mid-body is a network hiccup: the next try usually gets the whole answer."""
    request, attempts = failing(BodyCutShortError("/api/x", "the answer was cut short (ProtocolError)"))
    assert grafana().call(ACTION, request) == "done"
    assert len(attempts) == 2


def test_a_body_that_is_not_json_is_not_tried_again_and_names_endpoint_and_action() -> None:
    request, attempts = failing(NotJsonError("/api/x", "a body that is not JSON (200, 5 bytes)"))
    error = refusal(grafana(), request)
    assert (
        str(error)
        == f"Grafana at {URL} answered /api/x with a body that is not JSON (200, 5 bytes) to {ACTION}"
    )
    assert error.answer == "a body that is not JSON (200, 5 bytes)"
    assert len(attempts) == 1 and not error.fatal


def test_a_redirect_without_a_location_says_nowhere_and_stops_the_run() -> None:
    request, attempts = failing(RedirectedError("/api/x", 302, ""))
    error = refusal(grafana(), request)
    assert (
        f"is in front of Grafana at {URL} (it redirected /api/x to nowhere) while trying to {ACTION}"
        in str(error)
    )
    assert error.fatal and len(attempts) == 1


def test_an_answer_that_did_not_finish_in_time_names_the_timeout_setting_and_is_not_retried() -> None:
    request, attempts = failing(DeadlineExceededError("/api/x", "the answer was not complete after 1.5 s"))
    error = refusal(grafana(timeout=1.5), request)
    assert str(error) == (
        f"Grafana at {URL} did not finish answering /api/x in time to {ACTION}: the answer was not "
        "complete after 1.5 s (GRAFANA_TIMEOUT=1.5)"
    )
    assert len(attempts) == 1


def test_403_quotes_grafanas_own_message_and_names_the_roles_without_retrying() -> None:
    denied = GrafanaClientError(
        403, {"message": "Access denied to save dashboard"}, "Client Error 403: {...}"
    )
    request, attempts = failing(denied)
    error = refusal(grafana(), request, write=True)
    assert str(error) == (
        f"permission denied (403) to {ACTION}: Access denied to save dashboard. Dashboards and folders "
        "need the Editor role, datasources and their correlations the Admin role"
    )
    assert error.status == 403 and not error.fatal and len(attempts) == 1


def test_401_stops_the_run_naming_the_credential_variables() -> None:
    request, attempts = failing(GrafanaUnauthorizedError({"message": "invalid API key"}))
    error = refusal(grafana(), request)
    assert str(error).startswith(f"Grafana at {URL} rejected the credentials (401) while trying to {ACTION}")
    assert "GRAFANA_TOKEN, or GRAFANA_USER and GRAFANA_PASSWORD" in str(error)
    assert error.fatal and error.status == 401 and len(attempts) == 1


@pytest.mark.parametrize("status", [404, 409, 412])
def test_any_other_4xx_reaches_the_handler_untouched_after_one_try(status: int) -> None:
    """404 (not there), 409 (a conflict), 412 (a version mismatch) mean something to the handler."""
    request, attempts = failing(GrafanaClientError(status, {"message": "x"}, f"Client Error {status}"))
    with pytest.raises(GrafanaClientError) as raised:
        grafana().call(ACTION, request)
    assert raised.value.status_code == status and len(attempts) == 1


def test_a_refused_connection_is_tried_every_time_and_the_message_counts_the_tries() -> None:
    refused = niquests.exceptions.ConnectionError("[Errno 111] Connection refused")
    request, attempts = failing(*[refused] * 5)
    error = refusal(grafana(retries=2), request)
    assert len(attempts) == 3
    assert str(error).startswith(f"cannot reach Grafana at {URL} (connection refused, 3 tries) to {ACTION}: ")
    assert "docker compose" in str(error) and str(error).endswith("or set GRAFANA_URL") and error.fatal


def test_another_connection_failure_names_its_kind() -> None:
    request, _ = failing(*[niquests.exceptions.ConnectionError("Name or service not known")] * 5)
    error = refusal(grafana(retries=1), request)
    assert f"cannot reach Grafana at {URL} (connection failed (ConnectionError), 2 tries)" in str(error)


@pytest.mark.parametrize(
    "text", ["BadStatusLine('SSH-2.0-OpenSSH')", "[SSL: WRONG_VERSION_NUMBER] wrong version number"]
)
def test_a_port_that_does_not_speak_http_is_not_tried_again(text: str) -> None:
    request, attempts = failing(*[niquests.exceptions.ConnectionError(text)] * 5)
    error = refusal(grafana(), request)
    assert len(attempts) == 1 and error.fatal
    assert str(error).startswith(
        f"the server at {URL} does not speak HTTP (it answered something else) when asked"
    )
    assert "http:// vs https://" in str(error)


def test_a_timeout_every_time_counts_the_tries() -> None:
    request, attempts = failing(*[GrafanaTimeoutError(0, None, "timed out")] * 5)
    error = refusal(grafana(retries=2), request)
    assert len(attempts) == 3 and str(error) == f"Grafana at {URL} timed out 3 times to {ACTION}"


def test_a_5xx_every_time_quotes_grafanas_message_and_its_status() -> None:
    request, attempts = failing(*[server_error(502, "bad gateway")] * 5)
    error = refusal(grafana(retries=1), request)
    assert len(attempts) == 2
    assert str(error) == f"Grafana at {URL} failed 2 times to {ACTION}: 502 bad gateway"
    assert error.status == 502 and not error.fatal


def test_a_transport_error_grafana_client_wrapped_is_tried_again() -> None:
    """Status 0: grafana-client's own wrapping of a connection error, not an answer from Grafana."""
    request, attempts = failing(GrafanaException(0, None, "Connection aborted"))
    assert grafana().call(ACTION, request) == "done"
    assert len(attempts) == 2


def test_429_waits_exactly_what_the_server_asked() -> None:
    sleeps: list[float] = []
    request, attempts = failing(RateLimitedError("/api/x", 2.0))
    assert grafana(sleeps=sleeps).call(ACTION, request) == "done"
    assert sleeps == [2.0] and len(attempts) == 2


def test_429_without_a_wait_that_never_ends_says_429_and_the_budget() -> None:
    request, attempts = failing(*[RateLimitedError("/api/x", None)] * 5)
    error = refusal(grafana(retries=2, timeout=5), request)
    assert len(attempts) == 3
    budget = 3 * 5 + 0.25 + 0.5
    assert "is rate limiting requests (429, " in str(error)
    assert (
        f" s left of this request's {budget:g} s) to {ACTION}: try again later, or raise GRAFANA_TIMEOUT"
        in str(error)
    )
    assert error.status == 429 and error.fatal


def test_the_backoff_doubles_from_its_base_with_jitter_below_it() -> None:
    """Between 5xx the wait is base x 2^attempt, jittered down to half of it, never above it."""
    sleeps: list[float] = []
    request, _ = failing(*[server_error()] * 3)
    assert grafana(retries=3, sleeps=sleeps, backoff=0.25).call(ACTION, request) == "done"
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps):
        full = 0.25 * 2**attempt
        assert full / 2 <= slept <= full, (attempt, sleeps)


def test_the_backoff_is_capped_in_the_waits_and_in_the_budget() -> None:
    sleeps: list[float] = []
    client = grafana(retries=6, timeout=2, sleeps=sleeps, backoff=1, max_backoff=4)
    assert client.call_budget == 7 * 2 + 1 + 2 + 4 + 4 + 4 + 4
    request, _ = failing(*[server_error()] * 6)
    assert client.call(ACTION, request) == "done"
    assert max(sleeps) <= 4 and min(sleeps[3:]) >= 2


def test_by_default_a_call_is_tried_five_times_within_five_timeouts_and_the_backoffs() -> None:
    client = Grafana(
        Settings(grafana_url=URL, grafana_token="glsa_x", grafana_timeout=3), sleep=lambda _: None
    )
    assert client.call_budget == 5 * 3 + 0.25 + 0.5 + 1 + 2
    request, attempts = failing(*[server_error()] * 9)
    with pytest.raises(SyncError, match="failed 5 times"):
        client.call(ACTION, request)
    assert len(attempts) == 5


def test_a_retry_whose_wait_would_not_fit_in_the_budget_is_not_attempted() -> None:
    """The call's budget is 2 x 0.1 s + a 1 s backoff. After a first try of 0.75 s, any wait (0.5 to
    1 s) would end past it: the call ends now, naming the tries, the budget and the setting."""

    def slow_failure(_: GrafanaApi) -> object:
        time.sleep(0.75)
        raise server_error()

    client = Grafana(
        Settings(grafana_url=URL, grafana_token="glsa_x", grafana_timeout=0.1),
        retries=1,
        backoff=1.0,
        sleep=lambda _: None,
    )
    error = refusal(client, slow_failure)
    assert str(error) == (
        f"Grafana at {URL} did not answer in time to {ACTION}: gave up after 1 tries and 1.2 s "
        "(GRAFANA_TIMEOUT=0.1)"
    )
