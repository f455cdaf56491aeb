"""The Grafana edge in-process: a request's total time, Retry-After, typed answers, escaped server text."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.grafana_api.transport import retry_after_seconds
from dashboards_as_code.kinds.answers import (
    BadAnswerError,
    DashboardAnswer,
    FolderAnswer,
    parse,
    parse_search,
)
from dashboards_as_code.kinds.base import SyncError
from dashboards_as_code.settings import Settings
from dashboards_as_code.text import printable
from tests.grafana_api import hostile_servers as hs

TIMEOUT = 1.0


def grafana_at(url: str, timeout: float = TIMEOUT) -> Grafana:
    return Grafana(Settings(grafana_url=url, grafana_token="glsa_x", grafana_timeout=timeout))


def test_a_trickling_answer_is_abandoned_at_the_timeout_not_per_byte() -> None:
    with hs.hostile(hs.trickle) as (url, seen):
        grafana = grafana_at(url)
        started = time.monotonic()
        with pytest.raises(SyncError) as raised:
            grafana.call("read dashboard 'x'", lambda api: api.client.GET("/dashboards/uid/x"))
        elapsed = time.monotonic() - started
    assert elapsed < 3 * TIMEOUT, elapsed
    assert elapsed >= TIMEOUT * 0.9  # it did wait for the timeout, not fail at once
    assert "did not finish answering /api/dashboards/uid/x" in str(raised.value)
    assert url in str(raised.value)
    assert seen == ["GET /api/dashboards/uid/x"]  # a trickle is not retried


def test_a_call_never_outlasts_its_budget() -> None:
    """Every attempt times out; retries and backoff together stay within the documented budget."""
    with hs.hostile(hs.trickle) as (url, _):
        grafana = Grafana(
            Settings(grafana_url=url, grafana_token="glsa_x", grafana_timeout=0.5), retries=2, backoff=0.1
        )
        assert grafana.call_budget == pytest.approx(3 * 0.5 + 0.1 + 0.2)
        started = time.monotonic()
        with pytest.raises(SyncError):
            grafana.call("read", lambda api: api.client.GET("/dashboards/uid/x"))
    assert time.monotonic() - started < grafana.call_budget + 0.5


def test_retry_after_in_seconds_and_as_a_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_retry_after_as_a_date_without_a_zone_or_with_blanks() -> None:
    """`-0000` (RFC 5322: time in UTC, zone not known) is how some proxies write the date; a value
    with blanks around it comes from a hand-written header. Both are a wait, not a crash or None."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:30 -0000", now) == 30
    assert retry_after_seconds(" 7 ") == 7
    assert retry_after_seconds("") is None


def test_a_retry_after_longer_than_the_budget_gives_up_at_once() -> None:
    with hs.hostile(hs.rate_limited("600")) as (url, seen):
        started = time.monotonic()
        with pytest.raises(SyncError) as raised:
            grafana_at(url).call("read", lambda api: api.client.GET("/dashboards/uid/x"))
    assert time.monotonic() - started < 2
    assert "is rate limiting" in str(raised.value) and raised.value.fatal
    assert len(seen) == 1


@pytest.mark.parametrize("retries", [0, 1, 3])
@pytest.mark.parametrize(
    ("status", "retry_after", "says"),
    [
        (429, "0", "is rate limiting requests (asked to wait 0 s"),
        (503, None, "failed {tries} times to read dashboard 'x': 503"),
    ],
    ids=["429", "503"],
)
def test_a_failure_that_never_ends_is_tried_exactly_once_plus_the_retries(
    retries: int, status: int, retry_after: str | None, says: str
) -> None:
    """`retries=N` is N more requests after the first, for a 429 as for a 503: one fewer gives up on a
    Grafana that was about to answer, one more outlasts the budget the caller was promised."""
    with hs.hostile(hs.always_failing(status, retry_after)) as (url, seen):
        grafana = Grafana(
            Settings(grafana_url=url, grafana_token="glsa_x", grafana_timeout=5),
            retries=retries,
            sleep=lambda _: None,  # the backoffs between 503s are the budget's business, not this test's
        )
        with pytest.raises(SyncError) as raised:
            grafana.call("read dashboard 'x'", lambda api: api.client.GET("/dashboards/uid/x"))
    assert seen == ["GET /api/dashboards/uid/x"] * (retries + 1)
    assert says.format(tries=retries + 1) in str(raised.value)
    # What `push` reports as "N reads, M retries": the first request is a read, the rest retries.
    assert (grafana.counts.reads, grafana.counts.retries) == (1, retries)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([], "with a JSON list, not an object with dashboard and meta"),
        (None, "with null, not"),
        ("<html>", "with an HTML page, not"),
        (True, "with a JSON boolean, not"),
        ({"dashboard": {}}, "(meta: Field required)"),
        (
            {"dashboard": {}, "meta": {"provisioned": []}},
            "(meta.provisioned: Input should be a valid boolean)",
        ),
    ],
)
def test_a_bad_dashboard_answer_is_one_line_naming_the_endpoint(value: object, expected: str) -> None:
    with pytest.raises(BadAnswerError) as raised:
        parse(DashboardAnswer, value, "http://x", "/api/dashboards/uid/abc")
    message = str(raised.value)
    assert message.startswith("Grafana at http://x answered /api/dashboards/uid/abc with ")
    assert expected in message and "\n" not in message


def test_good_answers_parse_and_keep_their_other_fields() -> None:
    folder = parse(FolderAnswer, {"uid": "f", "title": "F", "id": 3}, "http://x", "/api/folders/f")
    assert folder.model_dump(exclude_unset=True) == {"uid": "f", "title": "F", "id": 3}
    hits = parse_search([{"uid": "a", "title": "A"}, {"uid": "b"}], "http://x", "/api/search")
    assert [(h.uid, h.title) for h in hits] == [("a", "A"), ("b", "")]
    with pytest.raises(BadAnswerError, match="answered /api/search with a JSON object, not a list"):
        parse_search({"uid": "a"}, "http://x", "/api/search")


def test_printable_escapes_every_control_and_invisible_character() -> None:
    assert printable("a\x1b[31mred\r\nb\u202ec\u200bd") == "a\\x1b[31mred\\x0d\\x0ab\\u202ec\\u200bd"
    assert printable(printable("\x1b")) == "\\x1b"  # idempotent
    assert printable("é ünïcode ok") == "é ünïcode ok"
    assert printable("x" * 600).endswith("...")


def test_a_sync_error_never_carries_a_raw_escape() -> None:
    assert "\x1b" not in str(SyncError("server said \x1b[2J"))
