"""The plan's decisions and its report, from dashboards_as_code/grafana_api/plan.py's docstrings, with
fake handlers in place of Grafana: unchanged only when content and folder both match, another
project's object a conflict (overwritten only with --force) while folders have no owner, an object
not created by dashboards-as-code named so, a lost write's retry that meets our own write counted as
done, and the report's counts, `ok` and `in_sync`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code import kinds
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.grafana_api.plan import Action, Decision, SyncReport, decide, execute
from dashboards_as_code.kinds.base import Desired, Live, SyncError
from dashboards_as_code.kinds.comparable import content_sha
from dashboards_as_code.settings import Settings

DOCUMENT = {"uid": "board", "title": "Board", "tags": ["dashboards-as-code"], "panels": []}
GRAFANA = Grafana(Settings(grafana_url="http://grafana.test:3000", grafana_token="glsa_x"))


class FakeHandler:
    """Answers `fetch` with `live` (or raises it), and fails `write` with `write_error` if set; `use`
    puts its `fetch` and `write` on the registered kind, which keeps everything else it says."""

    def __init__(
        self, kind: str, live: Live | SyncError | None, write_error: SyncError | None = None
    ) -> None:
        self.kind = kind
        self.live = live
        self.write_error = write_error
        self.written: list[tuple[Desired, bool]] = []

    def fetch(self, grafana: Grafana, uid: str) -> Live | None:
        if isinstance(self.live, SyncError):
            raise self.live
        return self.live

    def write(self, grafana: Grafana, desired: Desired, live: Live | None, *, force: bool) -> None:
        self.written.append((desired, force))
        if self.write_error is not None:
            error, self.write_error = self.write_error, None
            raise error


def use(monkeypatch: pytest.MonkeyPatch, handler: FakeHandler) -> FakeHandler:
    registered = kinds.kind_named(handler.kind)
    monkeypatch.setattr(registered, "fetch", handler.fetch)
    monkeypatch.setattr(registered, "write", handler.write)
    return handler


def desired(kind: str = "dashboard", owner: str = "tiktickets", folder: str | None = "tiktickets") -> Desired:
    return Desired(kind, "board", "Board", dict(DOCUMENT), owner, folder_uid=folder)


def pushed(
    document: dict[str, Any] | None = None,
    owner: str | None = "tiktickets",
    folder: str | None = "tiktickets",
) -> Live:
    """A live object as our last push left it (its hash matches its content) unless `document` differs."""
    content = DOCUMENT if document is None else document
    return Live(
        document=content, raw=content, pushed_sha=content_sha(DOCUMENT), owner=owner, folder_uid=folder
    )


def test_same_content_in_the_same_folder_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeHandler("dashboard", pushed()))
    assert decide(GRAFANA, desired(), force=False).op is Decision.UNCHANGED


def test_same_content_in_another_folder_is_an_update_that_names_the_move(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use(monkeypatch, FakeHandler("dashboard", pushed(folder="elsewhere")))
    action = decide(GRAFANA, desired(), force=False)
    assert action.op is Decision.UPDATE
    assert action.summary == "moved from folder 'elsewhere' to 'tiktickets'"


def test_another_projects_dashboard_is_a_conflict_and_forced_an_overwrite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    changed = {**DOCUMENT, "title": "Theirs"}
    use(monkeypatch, FakeHandler("dashboard", pushed(changed, owner="shop")))
    action = decide(GRAFANA, desired(), force=False)
    assert action.op is Decision.CONFLICT
    assert action.summary.startswith("owned by project 'shop', not 'tiktickets': ")
    assert decide(GRAFANA, desired(), force=True).op is Decision.OVERWRITE


def test_a_folder_has_no_owner_and_is_renamed_whoever_made_it(monkeypatch: pytest.MonkeyPatch) -> None:
    renamed = {**DOCUMENT, "title": "Old"}
    use(monkeypatch, FakeHandler("folder", Live(document=renamed, raw=renamed, managed=False, owner="shop")))
    action = decide(GRAFANA, desired("folder", folder=None), force=False)
    assert action.op is Decision.UPDATE


def test_a_dashboard_not_created_by_dashboards_as_code_is_named_so(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = {**DOCUMENT, "title": "By hand"}
    use(
        monkeypatch,
        FakeHandler("dashboard", Live(document=changed, raw=changed, managed=False, folder_uid="tiktickets")),
    )
    action = decide(GRAFANA, desired(), force=False)
    assert action.op is Decision.CONFLICT
    assert action.summary.startswith("not created by dashboards-as-code: ")


def test_a_dashboard_edited_since_the_push_is_a_conflict(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeHandler("dashboard", pushed({**DOCUMENT, "title": "Edited"})))
    action = decide(GRAFANA, desired(), force=False)
    assert action.op is Decision.CONFLICT
    assert action.summary.startswith("edited in Grafana since the last push: ")


def test_a_read_that_fails_is_the_action_s_error_and_a_fatal_one_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use(monkeypatch, FakeHandler("dashboard", SyncError("read dashboard 'board': 500 boom")))
    assert decide(GRAFANA, desired(), force=False).error == "read dashboard 'board': 500 boom"
    use(monkeypatch, FakeHandler("dashboard", SyncError("cannot reach Grafana", fatal=True)))
    with pytest.raises(SyncError):
        decide(GRAFANA, desired(), force=False)


@pytest.mark.parametrize("status", [409, 412])
def test_a_retried_write_that_meets_our_own_write_is_done(
    monkeypatch: pytest.MonkeyPatch, status: int, tmp_path: Path
) -> None:
    """A write whose answer was lost is retried; the retry meets the write itself (409 or 412): if
    Grafana now holds exactly what we wanted, the write went through."""
    use(monkeypatch, FakeHandler("dashboard", pushed(), write_error=SyncError("conflict", status=status)))
    action = Action("dashboard", "board", "Board", Decision.CREATE, desired=desired())
    execute(GRAFANA, action, backup_dir=tmp_path)
    assert action.done and not action.failed


def test_a_conflict_where_grafana_holds_something_else_is_not_done(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = {**DOCUMENT, "title": "Someone else's"}
    use(monkeypatch, FakeHandler("dashboard", pushed(other), write_error=SyncError("taken", status=409)))
    action = Action("dashboard", "board", "Board", Decision.CREATE, desired=desired())
    execute(GRAFANA, action, backup_dir=tmp_path)
    assert not action.done
    assert action.error == "taken"


def test_a_forced_overwrite_backs_up_the_live_version_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    handler = use(monkeypatch, FakeHandler("dashboard", None))
    live = pushed({**DOCUMENT, "title": "Edited"})
    action = Action("dashboard", "board", "Board", Decision.OVERWRITE, desired=desired(), live=live)
    execute(GRAFANA, action, backup_dir=tmp_path)
    assert action.done and action.backup is not None
    assert action.backup.parent == tmp_path and '"Edited"' in action.backup.read_text()
    assert handler.written == [(action.desired, True)]


def done(op: Decision, *, failed: bool = False, finished: bool = True) -> Action:
    action = Action("dashboard", "x", "X", op, done=finished)
    action.error = "boom" if failed else None
    return action


def test_the_report_counts_what_was_written_deleted_planned_and_failed() -> None:
    report = SyncReport(
        [
            done(Decision.CREATE),
            done(Decision.UPDATE),
            done(Decision.DELETE),
            done(Decision.UPDATE, finished=False),
            done(Decision.UNCHANGED, finished=False),
            done(Decision.CREATE, failed=True, finished=False),
            done(Decision.LEAVE, finished=False),
        ]
    )
    assert dict(report.count()) == {
        "written": 2,
        "deleted": 1,
        "to update": 1,
        "unchanged": 1,
        "failed": 1,
        "left alone": 1,
    }


def test_a_conflict_or_a_failure_or_a_stop_is_not_ok_and_left_alone_is() -> None:
    assert SyncReport([done(Decision.LEAVE, finished=False), done(Decision.CREATE)]).ok
    assert not SyncReport([done(Decision.CONFLICT, finished=False)]).ok
    assert not SyncReport([done(Decision.UPDATE, failed=True, finished=False)]).ok
    assert not SyncReport([], stopped=SyncError("cannot reach Grafana", fatal=True)).ok


def test_in_sync_only_when_everything_is_unchanged_or_provisioned() -> None:
    assert SyncReport([done(Decision.UNCHANGED), done(Decision.PROVISIONED)]).in_sync
    assert not SyncReport([done(Decision.UPDATE, finished=False)]).in_sync
    assert not SyncReport([done(Decision.UNCHANGED, failed=True)]).in_sync


def test_a_dashboard_stored_as_v2_whose_definition_has_no_v2_form_is_a_failed_action_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A dashboard saved as v2 in Grafana is compared in v2; a definition with a panel v2 cannot name
    (no id) has no v2 form. That is this object's failure, named, while the other objects go on."""
    without_id = {**DOCUMENT, "panels": [{"type": "timeseries", "title": "No id"}]}
    stored_as_v2 = Live(document={"title": "Board"}, raw={}, form="v2", stored_version="v2")
    use(monkeypatch, FakeHandler("dashboard", stored_as_v2))
    action = decide(GRAFANA, Desired("dashboard", "board", "Board", without_id, "tiktickets"), force=False)
    assert action.error is not None
    assert "dashboard 'board' is stored as v2" in action.error
    assert "'No id' has no id" in action.error
