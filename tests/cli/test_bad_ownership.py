"""Hostile ownership: what `push --prune` meets in a shared Grafana, through the real entry point.

Each case seeds a fresh Grafana test server (other projects' dashboards, forged or missing owner
markers, edits made in Grafana, provisioned copies), then runs `push --prune` of the TikTickets
project copy (project name 'tiktickets') through tests/cli/bad_input.py's `run_case`, and checks
what Grafana holds afterwards: nothing that is not this project's, unedited, is ever deleted, and
nothing is deleted without a backup.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from grafana_client.api import GrafanaApi

from dashboards_as_code.defaults import MANAGED_TAG
from dashboards_as_code.kinds.comparable import (
    OWNER_MARKER_PREFIX,
    PUSH_MARKER_PREFIX,
    mark_dashboard,
    mark_datasource,
)
from tests.cli.bad_input import Case, run_case, write
from tests.grafana_server.server import FakeGrafana

OURS = "tiktickets"
ENV = {"GRAFANA_URL": "{grafana}", "GRAFANA_TOKEN": "glsa_admin"}
PRUNE, DRY, FORCE = ("push", "--prune"), ("push", "--prune", "--dry-run"), ("push", "--prune", "--force")
Seed = Callable[[FakeGrafana], None]
Check = Callable[[FakeGrafana, Path, str], None]


def board(uid: str) -> dict[str, Any]:
    return {"uid": uid, "title": f"Board {uid}", "tags": [MANAGED_TAG], "panels": []}


def save(server: FakeGrafana, dashboard: dict[str, Any]) -> None:
    api = GrafanaApi.from_url(server.url + "/", credential="glsa_admin", timeout=5)
    api.dashboard.update_dashboard({"dashboard": dashboard, "overwrite": True})


def pushed(uid: str, owner: str) -> Seed:
    """A dashboard as `push` of project `owner` leaves it."""
    return lambda server: save(server, mark_dashboard(board(uid), owner))


def tagged(uid: str, *tags: str) -> Seed:
    """A dashboard with exactly these tags, as a hand edit or an older version leaves it."""
    return lambda server: save(server, {**board(uid), "tags": list(tags)})


def sha_tag(uid: str) -> str:
    return str(next(t for t in mark_dashboard(board(uid), OURS)["tags"] if t.startswith(PUSH_MARKER_PREFIX)))


def edited(seed: Seed, uid: str) -> Seed:
    def apply(server: FakeGrafana) -> None:
        seed(server)
        server.edit_in_ui(uid, lambda d: d.update(title="Edited in Grafana"))

    return apply


def provisioned(uid: str, owner: str) -> Seed:
    return lambda server: server.provision_dashboard(mark_dashboard(board(uid), owner))


def datasource(uid: str, owner: str) -> Seed:
    def apply(server: FakeGrafana) -> None:
        api = GrafanaApi.from_url(server.url + "/", credential="glsa_admin", timeout=5)
        api.datasource.create_datasource(
            mark_datasource({"uid": uid, "name": uid, "type": "prometheus", "url": "http://x"}, owner)
        )

    return apply


def kept(uid: str) -> Check:
    def check(server: FakeGrafana, project: Path, output: str) -> None:
        assert uid in server.state.dashboards, f"{uid} was deleted:\n{output}"
        assert not list((project / ".grafana-backups").glob(f"dashboard-{uid}-*")), "backup without a delete"

    return check


def deleted_after_backup(uid: str, title: str) -> Check:
    def check(server: FakeGrafana, project: Path, output: str) -> None:
        assert uid not in server.state.dashboards, output
        (backup,) = (project / ".grafana-backups").glob(f"dashboard-{uid}-*.json")
        assert f"live version saved to {backup}" in output
        assert json.loads(backup.read_text())["title"] == title  # the live dashboard, as it was

    return check


def not_mentioned(uid: str) -> Check:
    def check(server: FakeGrafana, project: Path, output: str) -> None:
        kept(uid)(server, project, output)
        assert uid not in output, output

    return check


def datasource_kept(uid: str) -> Check:
    def check(server: FakeGrafana, project: Path, output: str) -> None:
        assert uid in server.state.datasources and uid not in output, output

    return check


@dataclass(frozen=True)
class Hostile:
    case: Case
    seed: Seed
    check: Check


def hostile(  # noqa: PLR0917  (table rows read best positionally)
    id: str, args: tuple[str, ...], code: int, says: tuple[str, ...], seed: Seed, check: Check, **more: Any
) -> Hostile:
    return Hostile(Case(id, args, code, says, env=ENV, **more), seed, check)


LEFT = "left alone dashboard"
CASES = [
    # Another project's dashboards.
    hostile("other-project", PRUNE, 0, (f"{LEFT} pay-1: owned by project 'payments'", "1 left alone"), pushed("pay-1", "payments"), kept("pay-1")),
    hostile("other-project-dry-run", DRY, 0, (f"{LEFT} pay-1: owned by project 'payments'", "nothing written"), pushed("pay-1", "payments"), kept("pay-1")),
    hostile("other-project-edited", FORCE, 0, (f"{LEFT} pay-1: owned by project 'payments'",), edited(pushed("pay-1", "payments"), "pay-1"), kept("pay-1")),
    hostile("owner-prefix-of-ours", PRUNE, 0, (f"{LEFT} tik-1: owned by project 'tiktickets-old'",), pushed("tik-1", "tiktickets-old"), kept("tik-1")),
    hostile("owner-case-differs", PRUNE, 0, (f"{LEFT} tik-1: owned by project 'TikTickets'",), pushed("tik-1", "TikTickets"), kept("tik-1")),
    hostile("owner-terminal-escape", PRUNE, 0, (f"{LEFT} esc-1: owned by project 'pay\\x1b[2Jments'",), pushed("esc-1", "pay\x1b[2Jments"), kept("esc-1")),
    # Owner markers that name no single project: unknown owner, never deleted.
    hostile("no-owner-marker", FORCE, 0, (f"{LEFT} old-1: owner unknown",), tagged("old-1", MANAGED_TAG, sha_tag("old-1")), kept("old-1")),
    hostile("empty-owner-marker", FORCE, 0, (f"{LEFT} old-1: owner unknown",), tagged("old-1", MANAGED_TAG, sha_tag("old-1"), OWNER_MARKER_PREFIX), kept("old-1")),
    hostile("two-owner-markers", FORCE, 0, (f"{LEFT} two-1: owner unknown",), tagged("two-1", MANAGED_TAG, sha_tag("two-1"), f"{OWNER_MARKER_PREFIX}{OURS}", f"{OWNER_MARKER_PREFIX}payments"), kept("two-1")),
    # Not managed, or not a dashboard: never a candidate, not even listed.
    hostile("our-owner-tag-without-managed-tag", FORCE, 0, (), tagged("hand-1", f"{OWNER_MARKER_PREFIX}{OURS}", sha_tag("hand-1")), not_mentioned("hand-1")),
    hostile("our-datasource", FORCE, 0, (), datasource("old-ds", OURS), datasource_kept("old-ds")),
    # Ours, but edited in Grafana (or never pushed by us: no hash): a conflict until --force.
    hostile("ours-edited", PRUNE, 1, ("conflict   dashboard tik-1: no longer defined in dashboards/", "edited in Grafana since the last push: not deleted", "push --prune --force", '-  "title": "Edited in Grafana"'), edited(pushed("tik-1", OURS), "tik-1"), kept("tik-1")),
    hostile("ours-no-hash", PRUNE, 1, ("conflict   dashboard tik-1:", "not deleted"), tagged("tik-1", MANAGED_TAG, f"{OWNER_MARKER_PREFIX}{OURS}"), kept("tik-1")),
    hostile("ours-edited-forced", FORCE, 0, ("deleted    dashboard tik-1:", "edited in Grafana"), edited(pushed("tik-1", OURS), "tik-1"), deleted_after_backup("tik-1", "Edited in Grafana"), changes_project=True),
    # Ours and unedited: deleted, after a backup, and only if the backup can be written.
    hostile("ours", PRUNE, 0, ("deleted    dashboard tik-1: no longer defined in dashboards/; owned by this project ('tiktickets')", "1 deleted"), pushed("tik-1", OURS), deleted_after_backup("tik-1", "Board tik-1"), changes_project=True),
    hostile("ours-backup-dir-is-a-file", PRUNE, 1, ("failed     dashboard tik-1: cannot save the live version to", ".grafana-backups/dashboard-tik-1-", "not deleted"), pushed("tik-1", OURS), kept("tik-1"), mutate=write(".grafana-backups", "not a folder\n")),
    hostile("ours-provisioned", FORCE, 0, ("provisioned dashboard tik-1: Grafana loads this dashboard from provisioning files",), provisioned("tik-1", OURS), kept("tik-1")),
]  # fmt: skip


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with FakeGrafana() as server:
        yield server


@pytest.mark.parametrize("hostile", CASES, ids=[h.case.id for h in CASES])
def test_prune_in_a_shared_grafana(
    hostile: Hostile, template: Path, tmp_path: Path, grafana: FakeGrafana
) -> None:
    hostile.seed(grafana)
    result: subprocess.CompletedProcess[str] = run_case(
        hostile.case, template, tmp_path, {"grafana": grafana.url}
    )
    hostile.check(grafana, tmp_path / "project", result.stdout + result.stderr)
