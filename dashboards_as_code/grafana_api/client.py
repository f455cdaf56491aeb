"""grafana-client with bounded retries, actionable error messages and request counts.

grafana-client raises its own exceptions for HTTP errors but lets niquests' ConnectionError
through, and has no retry of its own; both are handled here, once, for every call.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import niquests
from grafana_client.api import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)

from dashboards_as_code.grafana_api.transport import (
    AnswerError,
    BodyCutShortError,
    DeadlineExceededError,
    DeadlineSession,
    NotJsonError,
    RateLimitedError,
    RedirectedError,
)
from dashboards_as_code.kinds.answers import BadAnswerError, Health, describe, parse
from dashboards_as_code.kinds.base import HttpError, SyncError
from dashboards_as_code.settings import DEFAULT_GRAFANA_URL, Settings
from dashboards_as_code.text import printable

T = TypeVar("T")

START_STACK = (
    "start the stack with `cd monitoring && docker compose -f docker-compose.observability.yml up -d`"
)


@dataclass
class RequestCounts:
    reads: int = 0
    writes: int = 0
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, write: bool, retry: bool = False) -> None:
        with self._lock:
            if retry:
                self.retries += 1
            elif write:
                self.writes += 1
            else:
                self.reads += 1


def _message(error: GrafanaException) -> str:
    """The server's own error text, escaped (it is printed)."""
    response = error.response
    if isinstance(response, dict) and response.get("message"):
        return printable(str(response["message"]))
    return printable(str(response or error.message))


def _http_error(error: GrafanaClientError) -> HttpError:
    """grafana-client's 4xx as the kinds see it: the status, its text as we quote it, Grafana's answer."""
    return HttpError(error.status_code, server_text(error), error.response)


def server_text(error: GrafanaException) -> str:
    """`error.message` ("Client Error 404: <server text>") escaped, for handlers that quote it."""
    return printable(str(error.message))


class Grafana:
    """One Grafana instance. Thread-safe: each thread gets its own HTTP session.

    Time is bounded at two levels. One request takes at most GRAFANA_TIMEOUT seconds, body included
    (`DeadlineSession`). One call, retries and waits included, takes at most its budget:
    `(retries + 1) x timeout + the sum of the capped backoffs`; a retry, a backoff or a server's
    Retry-After that does not fit in what is left of it is not attempted, and the call gives up.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        retries: int = 4,
        backoff: float = 0.25,
        max_backoff: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = settings.grafana_url.rstrip("/")
        self._credential = settings.grafana_credential()
        self._timeout = settings.grafana_timeout
        self._retries, self._backoff, self._max_backoff, self._sleep = retries, backoff, max_backoff, sleep
        self._local = threading.local()
        self.counts = RequestCounts()
        self._root = "api"
        """What paths are below: `api` (the legacy HTTP API), or `apis` in the view `resource_api` gives."""
        self._resources: Grafana | None = None

    @property
    def call_budget(self) -> float:
        """Seconds one `call` may take at most, every retry and wait included."""
        backoffs = sum(self._delay(attempt) for attempt in range(self._retries))
        return float((self._retries + 1) * self._timeout + backoffs)

    def _delay(self, attempt: int) -> float:
        return min(self._max_backoff, self._backoff * float(2**attempt))

    def _api(self) -> GrafanaApi:
        api = getattr(self._local, "api", None)
        if api is None:
            # The trailing slash keeps a sub-path (http://host/grafana/) in front of /api.
            api = GrafanaApi.from_url(self.url + "/", credential=self._credential, timeout=self._timeout)
            if self._root != "api":  # grafana-client builds every URL as `<base>/api<path>`
                api.client.url = api.client.url.removesuffix("api") + self._root
            headers = api.client.s.headers
            api.client.s = DeadlineSession(self._timeout)
            api.client.s.headers.update(headers)
            self._local.api = api
        result: GrafanaApi = api
        return result

    def call(self, action: str, request: Callable[[GrafanaApi], T], *, write: bool = False) -> T:
        """Run one request; retry 5xx, 429, timeouts, cut-short answers and dropped connections.

        `action` ("update dashboard 'x'") goes into every error message. See the class docstring for
        how long a call may take.
        """
        deadline = time.monotonic() + self.call_budget
        for attempt in range(self._retries + 1):
            self.counts.add(write=write, retry=attempt > 0)
            api = self._api()
            session = api.client.s
            if isinstance(session, DeadlineSession):
                session.deadline = deadline
            try:
                return request(api)
            except GrafanaClientError as error:
                self._refuse(action, error)
                raise
            except (AnswerError, niquests.exceptions.ConnectionError, GrafanaException) as error:
                delay = self._wait_before_retry(action, error, attempt, deadline)
            self._sleep(delay)
        raise AssertionError("unreachable")

    def resource_api(self) -> Grafana:
        """The same Grafana with paths below `/apis`: Grafana 12+'s resource API (Kubernetes-style
        objects). Same credentials, time limits, retries and request counts; grafana-client knows only
        `/api`, so this view points its base one segment further (`/apis`), which is all that differs."""
        if self._resources is None:
            view = copy.copy(self)
            view._root, view._local, view._resources = "apis", threading.local(), None
            self._resources = view
        return self._resources

    def read(self, action: str, path: str, params: dict[str, Any] | None = None) -> object:
        """GET `path` (below /api, or /apis in the `resource_api()` view): the answer, or an HttpError
        on 4xx (GrafanaHttp)."""
        try:
            answer: object = self.call(action, lambda api: api.client.GET(path, params=params))
        except GrafanaClientError as error:
            raise _http_error(error) from None
        return answer

    def send(self, action: str, method: str, path: str, body: object = None) -> object:
        """A write to `path` (below /api, or /apis in the `resource_api()` view): POST, PUT, PATCH or
        DELETE; an HttpError on 4xx (GrafanaHttp)."""
        if method not in ("POST", "PUT", "PATCH", "DELETE"):
            raise ValueError(f"send is for writes, not {method}")

        def request(api: GrafanaApi) -> object:
            run: Callable[..., object] = getattr(api.client, method)
            return run(path) if body is None else run(path, json=body)

        try:
            return self.call(action, request, write=True)
        except GrafanaClientError as error:
            raise _http_error(error) from None

    def _refuse(self, action: str, error: GrafanaClientError) -> None:
        """401 and 403 become messages; any other 4xx is the handler's to interpret (404, 409, 412)."""
        if isinstance(error, GrafanaUnauthorizedError):
            raise SyncError(
                f"Grafana at {self.url} rejected the credentials (401) while trying to {action}: check "
                "GRAFANA_TOKEN, or GRAFANA_USER and GRAFANA_PASSWORD",
                status=401,
                fatal=True,
            ) from None
        if error.status_code == 403:
            raise SyncError(
                f"permission denied (403) to {action}: {_message(error)}. Dashboards and folders "
                "need the Editor role, datasources and their correlations the Admin role",
                status=403,
            ) from None

    def _wait_before_retry(self, action: str, error: Exception, attempt: int, deadline: float) -> float:
        """Seconds to wait before trying again, or the SyncError that ends the call.

        Retried: 5xx, a timeout before the answer started, a dropped connection, a body cut short, and
        429 (after the server's Retry-After). Not retried: a body that did not finish in time (a server
        trickling its answer would do it again), a redirect, HTML or non-JSON, a port not speaking HTTP.
        """
        last = attempt == self._retries
        delay = self._delay(attempt) * random.uniform(0.5, 1.0)
        if isinstance(error, RateLimitedError):
            delay = error.retry_after if error.retry_after is not None else delay
            if last or time.monotonic() + delay > deadline:
                raise self._rate_limited(action, error, deadline) from None
        elif isinstance(error, AnswerError):
            if last or not isinstance(error, BodyCutShortError):
                raise self._bad_exchange(action, error) from None
        elif isinstance(error, niquests.exceptions.ConnectionError):
            if last or _not_http(error):
                raise self._give_up(action, error) from None
        elif isinstance(error, GrafanaException) and (
            last
            or (not isinstance(error, GrafanaServerError | GrafanaTimeoutError) and error.status_code != 0)
        ):  # status 0: a transport error grafana-client wrapped
            raise self._give_up(action, error) from None
        if time.monotonic() + delay >= deadline:
            raise SyncError(
                f"Grafana at {self.url} did not answer in time to {action}: gave up after "
                f"{attempt + 1} tries and {self.call_budget:g} s (GRAFANA_TIMEOUT={self._timeout:g})"
            )
        return delay

    def _rate_limited(self, action: str, limited: RateLimitedError, deadline: float) -> SyncError:
        left = max(0.0, deadline - time.monotonic())
        asked = f"asked to wait {limited.retry_after:g} s" if limited.retry_after is not None else "429"
        return SyncError(
            f"Grafana at {self.url} is rate limiting requests ({asked}, {left:.0f} s left of this request's "
            f"{self.call_budget:g} s) to {action}: try again later, or raise GRAFANA_TIMEOUT",
            status=429,
            fatal=True,
        )

    def _bad_exchange(self, action: str, problem: AnswerError) -> SyncError:
        """One line for an exchange that gave no API answer, naming the endpoint and what came instead."""
        where = f"Grafana at {self.url}"
        if isinstance(problem, RedirectedError):
            return SyncError(
                f"an authenticating proxy is in front of {where} (it redirected {problem.path} to "
                f"{problem.location or 'nowhere'}) while trying to {action}: give GRAFANA_URL the address "
                "of Grafana itself, or credentials the proxy lets through",
                fatal=True,
                answer=problem.what,
            )
        if isinstance(problem, NotJsonError) and problem.html:
            return SyncError(
                f"an authenticating proxy or another web server is in front of {where} (it answered "
                f"{problem.path} with an HTML page, not JSON) while trying to {action}",
                fatal=True,
                answer=problem.what,
            )
        if isinstance(problem, DeadlineExceededError):
            return SyncError(
                f"{where} did not finish answering {problem.path} in time to {action}: {problem.what} "
                f"(GRAFANA_TIMEOUT={self._timeout:g})"
            )
        return SyncError(
            f"{where} answered {problem.path} with {problem.what} to {action}", answer=problem.what
        )

    def _give_up(self, action: str, error: Exception) -> SyncError:
        tries = self._retries + 1
        if isinstance(error, niquests.exceptions.ConnectionError):
            if _not_http(error):
                return SyncError(
                    f"the server at {self.url} does not speak HTTP (it answered something else) when asked "
                    f"to {action}: is GRAFANA_URL Grafana's address, and http:// vs https:// right?",
                    fatal=True,
                )
            refused = "refused" in str(error).lower() or isinstance(error.__context__, ConnectionRefusedError)
            reason = "connection refused" if refused else f"connection failed ({type(error).__name__})"
            return SyncError(
                f"cannot reach Grafana at {self.url} ({reason}, {tries} tries) to {action}: {START_STACK}, "
                "or set GRAFANA_URL",
                fatal=True,
            )
        if isinstance(error, GrafanaTimeoutError):
            return SyncError(f"Grafana at {self.url} timed out {tries} times to {action}")
        if isinstance(error, GrafanaException):
            detail = f"{error.status_code} {_message(error)}"
            return SyncError(
                f"Grafana at {self.url} failed {tries} times to {action}: {detail}", status=error.status_code
            )
        return SyncError(f"{action}: {error}")

    def health(self) -> Health:
        """Grafana answers at this URL (`/api/health`, no auth) and the credentials work.

        Checked before anything else is sent, so a wrong GRAFANA_URL (a dashboard link, a sub-path
        Grafana does not serve, another web server) is named as such instead of failing later.
        """
        root = f"is GRAFANA_URL the Grafana root (e.g. {DEFAULT_GRAFANA_URL})?"
        try:
            answer: object = self.call("check Grafana's health", lambda api: api.client.GET("/health"))
            health = parse(Health, answer, self.url, "/api/health")
        except GrafanaClientError as error:
            raise SyncError(
                f"{self.url} answered {error.status_code} for /api/health: {root}",
                status=error.status_code,
                bad_setting=True,
            ) from None
        except BadAnswerError:
            raise SyncError(
                f"{self.url}/api/health answered {describe(answer)}, not Grafana's health JSON: {root}",
                bad_setting=True,
            ) from None
        except SyncError as error:
            if error.answer and "redirect" not in error.answer:
                raise SyncError(
                    f"{self.url}/api/health answered {error.answer}, not Grafana's health JSON: {root}",
                    bad_setting=True,
                ) from None
            raise
        self.call("check the credentials", lambda api: api.client.GET("/frontend/settings"))
        return health


def _transient(error: GrafanaException) -> bool:
    """5xx, a timeout, or a transport error grafana-client wrapped (status 0): worth another try."""
    return isinstance(error, GrafanaServerError | GrafanaTimeoutError) or error.status_code == 0


def _not_http(error: niquests.exceptions.ConnectionError) -> bool:
    """The port answered, but not in HTTP (another service, or TLS spoken to with http://)."""
    text = str(error).lower()
    signs = ("illegal", "status line", "request line", "badstatusline", "wrong version number")
    return any(sign in text for sign in signs)
