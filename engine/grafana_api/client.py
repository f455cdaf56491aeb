"""grafana-client with bounded retries, actionable error messages and request counts.

grafana-client raises its own exceptions for HTTP errors but lets niquests' ConnectionError
through, and has no retry of its own; both are handled here, once, for every call.
"""

from __future__ import annotations

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

from engine.settings import DEFAULT_GRAFANA_URL, Settings

T = TypeVar("T")

START_STACK = (
    "start the stack with `cd monitoring && docker compose -f docker-compose.observability.yml up -d`"
)


class SyncError(Exception):
    """A failed request, with a message a user can act on. `fatal` stops the whole run."""

    def __init__(
        self, message: str, *, status: int | None = None, fatal: bool = False, bad_setting: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.fatal = fatal or bad_setting
        self.bad_setting = bad_setting
        """GRAFANA_URL does not lead to a Grafana: a settings problem (exit 2), not a failed write."""


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
    response = error.response
    if isinstance(response, dict) and response.get("message"):
        return str(response["message"])
    return str(response or error.message)


class Grafana:
    """One Grafana instance. Thread-safe: each thread gets its own HTTP session."""

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

    def _api(self) -> GrafanaApi:
        api = getattr(self._local, "api", None)
        if api is None:
            # The trailing slash keeps a sub-path (http://host/grafana/) in front of /api.
            api = GrafanaApi.from_url(self.url + "/", credential=self._credential, timeout=self._timeout)
            self._local.api = api
        result: GrafanaApi = api
        return result

    def call(self, action: str, request: Callable[[GrafanaApi], T], *, write: bool = False) -> T:
        """Run one request; retry 5xx, timeouts and dropped connections with exponential backoff.

        `action` ("update dashboard 'x'") goes into every error message.
        """
        for attempt in range(self._retries + 1):
            self.counts.add(write=write, retry=attempt > 0)
            try:
                return request(self._api())
            except GrafanaUnauthorizedError:
                raise SyncError(
                    f"Grafana at {self.url} rejected the credentials (401) while trying to {action}: check "
                    "GRAFANA_TOKEN, or GRAFANA_USER and GRAFANA_PASSWORD",
                    status=401,
                    fatal=True,
                ) from None
            except GrafanaClientError as error:
                if error.status_code == 403:
                    raise SyncError(
                        f"permission denied (403) to {action}: {_message(error)}. Dashboards and folders "
                        "need the Editor role, datasources the Admin role",
                        status=403,
                    ) from None
                raise
            except (GrafanaServerError, GrafanaTimeoutError, niquests.exceptions.ConnectionError) as error:
                if attempt == self._retries:
                    raise self._give_up(action, error) from None
            except GrafanaException as error:
                if error.status_code != 0 or attempt == self._retries:  # 0: a wrapped transport error
                    raise self._give_up(action, error) from None
            delay = min(self._max_backoff, self._backoff * 2**attempt)
            self._sleep(delay * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")

    def _give_up(self, action: str, error: Exception) -> SyncError:
        tries = self._retries + 1
        if isinstance(error, niquests.exceptions.ConnectionError):
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

    def health(self) -> dict[str, Any]:
        """Grafana answers at this URL (`/api/health`, no auth) and the credentials work.

        Checked before anything else is sent, so a wrong GRAFANA_URL (a dashboard link, a sub-path
        Grafana does not serve, another web server) is named as such instead of failing later.
        """
        root = f"is GRAFANA_URL the Grafana root (e.g. {DEFAULT_GRAFANA_URL})?"
        try:
            health: Any = self.call("check Grafana's health", lambda api: api.client.GET("/health"))
        except GrafanaClientError as error:
            raise SyncError(
                f"{self.url} answered {error.status_code} for /api/health: {root}",
                status=error.status_code,
                bad_setting=True,
            ) from None
        if not isinstance(health, dict) or not {"database", "version"} <= set(health):
            what = "an HTML page" if isinstance(health, str) and "<" in health else "something else"
            raise SyncError(
                f"{self.url}/api/health answered {what}, not Grafana's health JSON: {root}", bad_setting=True
            )
        self.call("check the credentials", lambda api: api.client.GET("/frontend/settings"))
        return health
