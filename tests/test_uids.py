"""Grafana's uid rule guards every request path: a hostile uid never reaches a URL."""

from __future__ import annotations

from typing import Any

import pytest

from dashboards_as_code import kinds
from dashboards_as_code.kinds.base import Prunable, SyncError
from dashboards_as_code.uids import UnsafeUidError, path_uid, uid_problem, url_uid_problem

HOSTILE = ["../../admin/settings", "x?orgId=2", "%2e%2e", "", "x" * 41, "a b", "abc\n", "a/b", "ü"]


@pytest.mark.parametrize("uid", HOSTILE)
def test_a_hostile_uid_breaks_the_rule(uid: str) -> None:
    assert url_uid_problem(uid)
    assert uid_problem(uid)
    with pytest.raises(UnsafeUidError, match="not sent to Grafana"):
        path_uid(uid)


def test_good_uids_pass_and_general_is_only_reserved_for_creation() -> None:
    assert path_uid("tiktickets-overview_2") == "tiktickets-overview_2"
    assert url_uid_problem("x" * 40) is None
    assert url_uid_problem("general") is None
    assert uid_problem("general")


class _NoRequests:
    """A Grafana that fails the test if any request is made."""

    url = "http://grafana.test"

    def call(self, action: str, request: Any, *, write: bool = False) -> Any:
        pytest.fail(f"a request was made: {action}")

    def read(self, action: str, path: str, params: Any = None) -> Any:
        pytest.fail(f"a request was made: {action}")

    def send(self, action: str, method: str, path: str, body: Any = None) -> Any:
        pytest.fail(f"a request was made: {action}")


@pytest.mark.parametrize("kind", [kind.name for kind in kinds.registry()])
@pytest.mark.parametrize("uid", HOSTILE)
def test_every_kind_refuses_a_hostile_uid_before_any_request(kind: str, uid: str) -> None:
    grafana: Any = _NoRequests()
    registered = kinds.kind_named(kind)
    with pytest.raises(SyncError, match="not sent to Grafana"):
        registered.fetch(grafana, uid)
    if isinstance(registered, Prunable):
        with pytest.raises(SyncError, match="not sent to Grafana"):
            registered.delete(grafana, uid)
