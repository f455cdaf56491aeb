"""What a diff can see of a dashboard: exactly the fields the ignored-fields table does not list.

Written from Grafana's side: a live dashboard differs from ours by the ids and counters Grafana
assigns and by our markers; nothing else may be dropped, or a real edit would go unseen.
"""

from __future__ import annotations

from typing import Any

from dashboards_as_code.kinds.comparable import (
    DASHBOARD_IGNORED_FIELDS,
    OWNER_MARKER_PREFIX,
    PUSH_MARKER_PREFIX,
    comparable_dashboard,
    content_sha,
)

LIVE: dict[str, Any] = {
    "id": 42,
    "version": 7,
    "iteration": 1700000000000,
    "uid": "board",
    "title": "Board",
    "panels": [{"id": 1, "title": "A panel"}],
    "refresh": "30s",
    "tags": [
        "team-a",
        f"{PUSH_MARKER_PREFIX}0123abcd",
        "dashboards-as-code",
        f"{OWNER_MARKER_PREFIX}tiktickets",
    ],
}


def test_grafanas_ids_and_counters_are_not_compared() -> None:
    compared = comparable_dashboard(LIVE)
    assert not {"id", "version", "iteration"} & set(compared)


def test_every_other_field_is_compared_unchanged() -> None:
    compared = comparable_dashboard(LIVE)
    for key in ("uid", "title", "panels", "refresh"):
        assert compared[key] == LIVE[key], key
    assert compared["panels"][0]["id"] == 1  # a panel's id is ours, not Grafana's: it stays


def test_only_our_markers_leave_the_tags_and_the_order_is_kept() -> None:
    assert comparable_dashboard(LIVE)["tags"] == ["team-a", "dashboards-as-code"]


def test_a_dashboard_without_tags_compares_with_an_empty_list() -> None:
    assert comparable_dashboard({"uid": "x", "tags": None})["tags"] == []
    assert comparable_dashboard({"uid": "x"})["tags"] == []


def test_the_table_documents_exactly_what_is_dropped() -> None:
    """A key added to the table is dropped, and a key dropped is in the table (issue 24's complaint)."""
    documented = {name for name in DASHBOARD_IGNORED_FIELDS if "[" not in name}
    probe: dict[str, Any] = {**dict.fromkeys(documented, 1), "kept": 1, "tags": []}
    assert set(comparable_dashboard(probe)) == {"kept", "tags"}
    assert documented == {"id", "version", "iteration"}


def test_the_pushed_hash_does_not_depend_on_the_order_of_keys() -> None:
    """Grafana answers a dashboard with its keys in an order of its own; the hash our push recorded
    must still match, or every pushed dashboard would look edited in Grafana."""
    ours = {"uid": "board", "title": "Board", "panels": [{"id": 1, "gridPos": {"h": 8, "w": 12}}]}
    grafanas = {"panels": [{"gridPos": {"w": 12, "h": 8}, "id": 1}], "title": "Board", "uid": "board"}
    assert content_sha(grafanas) == content_sha(ours)
    assert content_sha({**ours, "title": "Other"}) != content_sha(ours)  # while the content still counts
