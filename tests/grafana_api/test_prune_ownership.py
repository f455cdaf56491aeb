"""push --prune deletes only this project's own dashboards: two projects sharing one Grafana.

Project A ("tiktickets") and project B ("payments", its own folder and dashboard uid, the same
datasources) push to one Grafana test server. Most scenarios run the planner in-process (the CLI
takes seconds per run on this machine); the cross-project case and the edited case also run
through the real CLI.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from grafana_client.api import GrafanaApi

import dashboards_as_code.kinds.dashboard as dashboard_kind
from dashboards_as_code.defaults import MANAGED_TAG
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.grafana_api.plan import (
    Action,
    Decision,
    SyncReport,
    decide_prune,
    desired_objects,
    execute,
    fetch_dashboard,
    prune_candidates,
    synchronise,
)
from dashboards_as_code.kinds.comparable import OWNER_MARKER_PREFIX, mark_dashboard, mark_datasource
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.settings import Settings
from tests.conftest import DEFINITIONS, REPO
from tests.grafana_api.conftest import Target, cli
from tests.grafana_api.test_push import SECOND_DASHBOARD
from tests.grafana_server.server import FakeGrafana

A, B = "tiktickets", "payments"
COPY = "tiktickets-overview-copy"


def make_project(root: Path, name: str, *, uid: str, folder: str, extra: bool = False) -> Path:
    """A copy of the project's definitions under another project name, folder and dashboard uid."""
    for package in DEFINITIONS:
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    config = (REPO / "config.py").read_text()
    for old, new in (
        ('name="tiktickets"', f'name="{name}"'),
        ('OVERVIEW_UID = "tiktickets-overview"', f'OVERVIEW_UID = "{uid}"'),
        ('Folder(uid="tiktickets", title="TikTickets")', f'Folder(uid="{folder}", title="{folder.title()}")'),
    ):
        assert old in config, f"config.py has no {old!r}: the copy would not be project {name!r}"
        config = config.replace(old, new)
    # Every other dashboard uid the project names gets the copy's prefix too: one project's dashboards
    # must not share a uid with another's (a later definition's dashboard would take the first's).
    prefix = uid.rsplit("-", 1)[0]
    config = re.sub(
        r'^(\w+_UID) = "tiktickets-([\w-]+)"$', rf'\1 = "{prefix}-\2"', config, flags=re.MULTILINE
    )
    (root / "config.py").write_text(config)
    if extra:
        (root / "dashboards" / "second.py").write_text(SECOND_DASHBOARD)
    return root


@pytest.fixture
def server() -> Iterator[FakeGrafana]:
    with FakeGrafana() as running:
        yield running


@pytest.fixture
def project_a(tmp_path: Path) -> Path:
    return make_project(tmp_path / "a", A, uid="tiktickets-overview", folder="tiktickets", extra=True)


@pytest.fixture
def project_b(tmp_path: Path) -> Path:
    return make_project(tmp_path / "b", B, uid="payments-overview", folder="payments")


def grafana(server: FakeGrafana) -> Grafana:
    return Grafana(Settings(grafana_url=server.url, grafana_token="glsa_admin"), backoff=0.0)


def push(
    server: FakeGrafana, root: Path, *, prune: bool = False, force: bool = False, apply: bool = True
) -> SyncReport:
    """What `push [--prune] [--force] [--dry-run]` does, in-process."""
    documents = build_documents(load_project(root))
    return synchronise(
        grafana(server),
        desired_objects(documents),
        apply=apply,
        force=force,
        prune_owner=documents.project.config.name if prune else None,
        backup_dir=root / ".grafana-backups",
        workers=4,
    )


def by_uid(report: SyncReport) -> dict[str, Action]:
    return {action.uid: action for action in report.actions}


def live(server: FakeGrafana, uid: str) -> dict[str, Any] | None:
    record = server.state.dashboards.get(uid)
    return None if record is None else dict(record["dashboard"])


def save(server: FakeGrafana, dashboard: dict[str, Any]) -> None:
    """A save through the HTTP API, as another tool or a person would make it."""
    api = GrafanaApi.from_url(server.url + "/", credential="glsa_admin", timeout=5)
    api.dashboard.update_dashboard({"dashboard": dashboard, "overwrite": True})


def retitle(dashboard: dict[str, Any]) -> None:
    dashboard["title"] = "Edited in Grafana"


def backups(root: Path) -> list[Path]:
    return sorted((root / ".grafana-backups").glob("dashboard-*.json"))


def without_copy(root: Path) -> None:
    (root / "dashboards" / "second.py").unlink()


# -- through the real CLI ---------------------------------------------------------------------------


def test_cli_prune_of_one_project_leaves_the_other_projects_dashboards(
    server: FakeGrafana, project_a: Path, project_b: Path
) -> None:
    assert push(server, project_a).ok and push(server, project_b).ok
    without_copy(project_a)
    target = Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)

    preview = cli(target, "push", "--prune", "--dry-run", project=project_a)
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "left alone dashboard payments-overview: owned by project 'payments'" in preview.stdout
    assert (
        f"delete     dashboard {COPY}: no longer defined in dashboards/; owned by this project ('tiktickets')"
        in preview.stdout
    )
    assert "the live version is saved to .grafana-backups/ first" in preview.stdout
    assert live(server, COPY) is not None and not backups(project_a)  # a dry run deletes nothing

    before = live(server, COPY)
    pruned = cli(target, "push", "--prune", project=project_a)
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert f"deleted    dashboard {COPY}" in pruned.stdout
    assert "left alone dashboard payments-overview: owned by project 'payments'" in pruned.stdout
    theirs = len(load_project(project_b).dashboards)
    assert "1 deleted" in pruned.stdout and f"{theirs} left alone" in pruned.stdout
    (backup,) = backups(project_a)
    assert f"live version saved to {backup}" in pruned.stdout
    assert json.loads(backup.read_text()) == before  # the backup is the live dashboard, markers and all
    assert live(server, COPY) is None
    # The progress count grows by the prune candidates once they are known: it ends at its total,
    # one line per object, and never counts past it.
    counted = [tuple(map(int, m)) for m in re.findall(r"^\[(\d+)/(\d+)\] ", pruned.stdout, re.M)]
    assert counted and all(done <= total for done, total in counted), pruned.stdout
    assert counted[-1][0] == counted[-1][1] == len(counted), pruned.stdout
    assert live(server, "payments-overview") is not None
    assert live(server, "tiktickets-overview") is not None


def test_cli_prune_of_an_edited_dashboard_is_a_conflict_until_forced(
    server: FakeGrafana, project_a: Path
) -> None:
    assert push(server, project_a).ok
    server.edit_in_ui(COPY, retitle)
    without_copy(project_a)
    target = Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)

    refused = cli(target, "push", "--prune", project=project_a)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"conflict   dashboard {COPY}: no longer defined in dashboards/" in refused.stdout
    assert "edited in Grafana since the last push: not deleted" in refused.stdout
    assert "`push --prune --force` saves the live version to a backup, then deletes it" in refused.stdout
    assert '-  "title": "Edited in Grafana",' in refused.stdout  # the diff: what deleting would lose
    assert (live(server, COPY) or {}).get("title") == "Edited in Grafana" and not backups(project_a)

    forced = cli(target, "push", "--prune", "--force", project=project_a)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert f"deleted    dashboard {COPY}" in forced.stdout
    (backup,) = backups(project_a)
    assert str(backup) in forced.stdout
    assert json.loads(backup.read_text())["title"] == "Edited in Grafana"  # the edit is not lost
    assert live(server, COPY) is None


def test_cli_diff_names_what_this_project_left_behind_and_not_what_others_pushed(
    server: FakeGrafana, project_a: Path, project_b: Path
) -> None:
    """A dashboard removed from the definitions but still in Grafana is a difference: `diff` names it
    and how it goes, exits 1, and stays silent about another project's dashboards (not ours to judge).
    After `push --prune`, Grafana matches again."""
    assert push(server, project_a).ok and push(server, project_b).ok
    without_copy(project_a)
    target = Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)

    differs = cli(target, "diff", project=project_a)
    assert differs.returncode == 1, differs.stdout + differs.stderr
    assert (
        f"dashboard {COPY}: left behind: no longer defined in dashboards/; owned by this project ('{A}'); "
        "`push --prune` deletes it"
    ) in differs.stdout
    assert "payments" not in differs.stdout and "matches the definitions" not in differs.stdout
    assert live(server, COPY) is not None  # diff reads only

    server.edit_in_ui(COPY, retitle)
    edited = cli(target, "diff", project=project_a)
    assert edited.returncode == 1, edited.stdout + edited.stderr
    assert (
        "edited in Grafana since the last push: not deleted; `push --prune --force` deletes it"
        in edited.stdout
    )

    assert cli(target, "push", "--prune", "--force", project=project_a).returncode == 0
    matches = cli(target, "diff", project=project_a)
    assert matches.returncode == 0, matches.stdout + matches.stderr
    assert "matches the definitions" in matches.stdout
    other = cli(target, "diff", project=project_b)  # project a's leftovers were never b's difference
    assert other.returncode == 0, other.stdout + other.stderr


# -- in-process scenarios ---------------------------------------------------------------------------


def test_each_project_prunes_only_its_own(server: FakeGrafana, project_a: Path, project_b: Path) -> None:
    push(server, project_a)
    push(server, project_b)
    b_report = by_uid(push(server, project_b, prune=True))
    for uid in ("tiktickets-overview", COPY):
        assert b_report[uid].op is Decision.LEAVE
        assert b_report[uid].summary.startswith("owned by project 'tiktickets'")
        assert live(server, uid) is not None
    assert not backups(project_b)


def test_a_push_meeting_another_projects_dashboard_with_its_uid_is_a_conflict(
    server: FakeGrafana, project_a: Path, tmp_path: Path
) -> None:
    """Two projects defining one uid: the second push would silently take the dashboard over."""
    clash = make_project(tmp_path / "clash", B, uid="tiktickets-overview", folder="tiktickets")
    (clash / "dashboards" / "overview.py").write_text(
        (clash / "dashboards" / "overview.py").read_text().replace('"Recent error logs"', '"Payments logs"')
    )
    push(server, project_a)
    report = push(server, clash)
    action = by_uid(report)["tiktickets-overview"]
    assert action.op is Decision.CONFLICT and not report.ok
    assert action.summary.startswith("owned by project 'tiktickets', not 'payments'")
    assert f"{OWNER_MARKER_PREFIX}tiktickets" in (live(server, "tiktickets-overview") or {})["tags"]

    forced = by_uid(push(server, clash, force=True))["tiktickets-overview"]
    assert forced.done and forced.backup is not None
    assert f"{OWNER_MARKER_PREFIX}tiktickets" in json.loads(forced.backup.read_text())["tags"]
    assert f"{OWNER_MARKER_PREFIX}payments" in (live(server, "tiktickets-overview") or {})["tags"]


def test_a_managed_dashboard_without_owner_marker_is_left_alone(server: FakeGrafana, project_a: Path) -> None:
    """Pushed by an older version: managed tag and hash marker, no owner."""
    old = mark_dashboard({"uid": "old-push", "title": "Old", "tags": [MANAGED_TAG], "panels": []}, A)
    old["tags"] = [t for t in old["tags"] if not t.startswith(OWNER_MARKER_PREFIX)]
    save(server, old)
    report = push(server, project_a, prune=True)
    action = by_uid(report)["old-push"]
    assert action.op is Decision.LEAVE and action.summary.startswith("owner unknown")
    assert report.ok  # listed, not a failure
    assert live(server, "old-push") is not None


def test_a_dashboard_without_the_managed_tag_is_never_a_candidate(
    server: FakeGrafana, project_a: Path
) -> None:
    forged = {"uid": "hand-made", "title": "Hand-made", "tags": [f"{OWNER_MARKER_PREFIX}{A}"], "panels": []}
    save(server, forged)
    report = push(server, project_a, prune=True)
    assert "hand-made" not in by_uid(report)
    assert live(server, "hand-made") is not None


def test_datasources_and_folders_are_never_pruned(server: FakeGrafana, project_a: Path) -> None:
    push(server, project_a)
    api = GrafanaApi.from_url(server.url + "/", credential="glsa_admin", timeout=5)
    old = mark_datasource({"uid": "old-ds", "name": "Old", "type": "prometheus", "url": "http://x"}, A)
    api.datasource.create_datasource(old)
    api.folder.create_folder("Old folder", uid="old-folder")
    report = push(server, project_a, prune=True)
    assert {"old-ds", "old-folder"}.isdisjoint(by_uid(report))
    assert "old-ds" in server.state.datasources and "old-folder" in server.state.folders


def test_prune_reads_each_candidate_once_and_counts_every_request(
    server: FakeGrafana, project_a: Path, project_b: Path
) -> None:
    push(server, project_a)
    push(server, project_b)
    without_copy(project_a)
    sync = grafana(server)
    documents = build_documents(load_project(project_a))
    desired = [d for d in desired_objects(documents) if d.kind != "dashboard"]  # both dashboards removed
    server.state.requests.clear()
    report = synchronise(sync, desired, apply=False, prune_owner=A, backup_dir=project_a / "b", workers=4)
    gets = [path for method, path, _ in server.state.requests if method == "GET"]
    ours = [d.uid for d in load_project(project_a).dashboards] + [COPY]  # every one pushed, now removed
    theirs = [d.uid for d in load_project(project_b).dashboards]
    candidates = [*ours, *theirs]
    assert sorted(p for p in gets if p.startswith("/api/dashboards/uid/")) == sorted(
        f"/api/dashboards/uid/{uid}" for uid in candidates
    )
    assert sync.counts.reads == len(server.state.requests) and sync.counts.writes == 0
    assert {a.uid: a.op for a in report.actions if a.kind == "dashboard"} == {
        **dict.fromkeys(theirs, Decision.LEAVE),
        **dict.fromkeys(ours, Decision.DELETE),
    }


def test_a_save_between_the_plan_and_the_delete_is_not_deleted(server: FakeGrafana, project_a: Path) -> None:
    """Grafana's delete takes no version: the object is read again just before it is deleted."""
    push(server, project_a)
    sync = grafana(server)
    desired = [d for d in desired_objects(build_documents(load_project(project_a))) if d.uid != COPY]
    (candidate,) = prune_candidates(sync, desired)
    planned = decide_prune(sync, candidate, A, force=False)
    assert planned.op is Decision.DELETE
    server.edit_in_ui(COPY, retitle)
    done = execute(sync, planned, backup_dir=project_a / ".grafana-backups")
    assert done.op is Decision.CONFLICT and not done.done
    assert "changed in Grafana after the plan" in done.summary
    assert (live(server, COPY) or {}).get("title") == "Edited in Grafana" and not backups(project_a)


def test_a_dashboard_deleted_between_the_plan_and_the_delete_is_not_a_conflict(
    server: FakeGrafana, project_a: Path
) -> None:
    """Someone (another prune, a person) deletes the dashboard after the plan: the goal of the delete
    is reached, so prune reports it done, with no conflict, no failure and no backup of nothing."""
    push(server, project_a)
    sync = grafana(server)
    desired = [d for d in desired_objects(build_documents(load_project(project_a))) if d.uid != COPY]
    (candidate,) = prune_candidates(sync, desired)
    planned = decide_prune(sync, candidate, A, force=False)
    assert planned.op is Decision.DELETE
    with server.state.lock:
        del server.state.dashboards[COPY]
    done = execute(sync, planned, backup_dir=project_a / ".grafana-backups")
    assert done.op is Decision.DELETE and done.done and not done.failed, done
    assert SyncReport([done]).ok and not backups(project_a)


def test_a_backup_that_cannot_be_written_stops_the_delete(server: FakeGrafana, project_a: Path) -> None:
    push(server, project_a)
    without_copy(project_a)
    (project_a / ".grafana-backups").write_text("a file where the backup folder should be\n")
    action = by_uid(push(server, project_a, prune=True))[COPY]
    assert action.failed and "cannot save the live version to" in str(action.error)
    assert "not deleted" in str(action.error)
    assert live(server, COPY) is not None


def test_two_backups_of_one_dashboard_within_a_second_are_both_kept(
    server: FakeGrafana, project_a: Path
) -> None:
    push(server, project_a)
    server.edit_in_ui(COPY, retitle)
    assert by_uid(push(server, project_a, force=True))[COPY].backup is not None
    without_copy(project_a)
    assert by_uid(push(server, project_a, prune=True))[COPY].done
    saved = backups(project_a)
    assert len(saved) == 2
    assert {json.loads(p.read_text())["title"] for p in saved} == {
        "Edited in Grafana",
        "TikTickets - Overview (copy)",
    }


# -- more managed dashboards than one search page ---------------------------------------------------

PAGE = 2
"""The search page size for these scenarios: Grafana's /api/search returns at most `limit` hits a page
(the client asks 1000); set this small, a few dashboards fill several pages, as 1001 would."""

COPY_MODULE = """
from dashboards.overview import dashboard as overview


def dashboard():
    definition = overview()
    definition.dashboard.uid = "{uid}"
    definition.dashboard.title = "TikTickets - Overview (copy {number})"
    return definition
"""


def add_copies(root: Path, count: int) -> list[str]:
    """`count` more dashboards in the project, each its own module; their uids."""
    uids = []
    for number in range(1, count + 1):
        uid = f"{COPY}-{number}"
        (root / "dashboards" / f"copy_{number}.py").write_text(COPY_MODULE.format(uid=uid, number=number))
        uids.append(uid)
    return uids


@pytest.mark.parametrize("extra", [2 * PAGE, 2 * PAGE + 1])
def test_prune_deletes_every_stale_dashboard_past_the_first_search_page(
    server: FakeGrafana, project_a: Path, monkeypatch: pytest.MonkeyPatch, extra: int
) -> None:
    """A project with more managed dashboards than one search page holds: `push --prune` pages through
    every search result and deletes every stale one, not only those on the first page; diff and pull
    see every dashboard too. Both a count that fills its last page exactly and one that does not."""
    monkeypatch.setattr(dashboard_kind, "SEARCH_PAGE", PAGE)
    added = add_copies(project_a, extra)
    desired = desired_objects(build_documents(load_project(project_a)))
    dashboards = sorted(d.uid for d in desired if d.kind == "dashboard")
    assert push(server, project_a).ok
    managed = GrafanaApi.from_url(
        server.url + "/", credential="glsa_admin", timeout=5
    ).search.search_dashboards(tag=MANAGED_TAG, type_="dash-db", limit=len(dashboards) + 1)
    assert sorted(hit["uid"] for hit in managed) == dashboards and len(dashboards) > 2 * PAGE

    # diff: every dashboard compared, each the same as defined; pull: each one fetched as defined
    compared = push(server, project_a, apply=False)
    assert {a.uid: a.op for a in compared.actions if a.kind == "dashboard"} == dict.fromkeys(
        dashboards, Decision.UNCHANGED
    )
    sync = grafana(server)
    for item in (d for d in desired if d.kind == "dashboard"):
        assert fetch_dashboard(sync, item.uid) == item.document, item.uid

    stale = [COPY, *added]
    without_copy(project_a)
    for number in range(1, extra + 1):
        (project_a / "dashboards" / f"copy_{number}.py").unlink()
    server.state.requests.clear()
    report = push(server, project_a, prune=True)
    assert report.ok, [(a.uid, a.op, a.error) for a in report.actions]
    searches = [path for method, path, _ in server.state.requests if (method, path) == ("GET", "/api/search")]
    assert len(searches) == len(dashboards) // PAGE + 1, "not asked page by page, up to a short page"
    deleted = sorted(a.uid for a in report.actions if a.op is Decision.DELETE and a.done)
    assert deleted == sorted(stale)
    assert sorted(server.state.dashboards) == sorted(d.uid for d in load_project(project_a).dashboards)
