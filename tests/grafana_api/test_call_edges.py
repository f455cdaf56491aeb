"""`Grafana.call` at two edges its docstrings name, in-process: a server's `Retry-After: 0` is a wait
of zero (the server's word, not replaced by the backoff), and a body cut short on the last try ends
the call with a message naming the endpoint and what came back, after exactly retries + 1 tries."""

from __future__ import annotations

from dashboards_as_code.grafana_api.transport import BodyCutShortError, RateLimitedError
from tests.grafana_api.test_call_in_process import ACTION, failing, grafana, refusal


def test_a_retry_after_of_zero_is_retried_at_once() -> None:
    """429 "after the server's Retry-After": 0 is a wait the server asked for, not a missing one."""
    sleeps: list[float] = []
    request, attempts = failing(RateLimitedError("/api/x", 0.0))
    assert grafana(sleeps=sleeps).call(ACTION, request) == "done"
    assert sleeps == [0.0] and len(attempts) == 2


def test_a_body_cut_short_every_time_ends_after_the_last_try_naming_the_endpoint() -> None:
    cut = BodyCutShortError("/api/dashboards/uid/x", "the answer was cut short (ProtocolError)")
    request, attempts = failing(*[cut] * 5)
    error = refusal(grafana(retries=2), request)
    assert len(attempts) == 3
    assert str(error) == (
        "Grafana at http://grafana.test:3000 answered /api/dashboards/uid/x with the answer was cut short "
        f"(ProtocolError) to {ACTION}"
    )
    assert not error.fatal
