"""A plan before an action: compare desired and live objects, decide per object, then apply.

Per object the decision is one of create, update, overwrite (forced, after a backup), unchanged,
conflict (edited in Grafana since our last push: left alone), provisioned (Grafana loads it from
files: left alone) or delete (prune). `diff` and `push --dry-run` show the plan; `push` applies it.
Dashboards are planned and applied concurrently; a failure in one never stops the others.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from engine.grafana_api.changes import summarise_dashboard, summarise_fields, unified_diff
from engine.grafana_api.client import Grafana, SyncError
from engine.grafana_api.comparable import comparable_dashboard, desired_datasource
from engine.grafana_api.kinds import HANDLERS, ConflictError, Desired, Kind, Live, ProvisionedError
from engine.render.documents import Documents
from engine.render.files import atomic_write

DEFAULT_WORKERS = 8


class Decision(StrEnum):
    """What the plan does with one object."""

    CREATE = "create"
    UPDATE = "update"
    OVERWRITE = "overwrite"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    PROVISIONED = "provisioned"
    DELETE = "delete"


WRITES = {Decision.CREATE, Decision.UPDATE, Decision.OVERWRITE, Decision.DELETE}


@dataclass
class Action:
    kind: Kind
    uid: str
    title: str
    op: Decision
    desired: Desired | None = None
    live: Live | None = None
    summary: str = ""
    done: bool = False
    error: str | None = None
    backup: Path | None = None

    @property
    def diff(self) -> str:
        return unified_diff(
            self.live.document if self.live else None,
            self.desired.document if self.desired else None,
            f"{self.kind}s/{self.uid}.json",
        )

    @property
    def failed(self) -> bool:
        return self.error is not None


def desired_objects(documents: Documents) -> list[Desired]:
    """Everything push manages, from the same normalised documents `build` writes."""
    folders = {d.folder.uid: d.folder for d in documents.dashboards}
    return [
        *(Desired("folder", f.uid, f.title, {"uid": f.uid, "title": f.title}) for f in folders.values()),
        *(
            Desired("datasource", d["uid"], d["name"], desired_datasource(d))
            for d in documents.datasources["datasources"]
        ),
        *(
            Desired(
                "dashboard",
                d.uid,
                d.definition.title,
                comparable_dashboard(d.document),
                folder_uid=d.folder.uid,
            )
            for d in documents.dashboards
        ),
    ]


def _summary(desired: Desired, live: Live) -> str:
    if desired.kind == "dashboard":
        return summarise_dashboard(live.document, desired.document, live.folder_uid, desired.folder_uid)
    return summarise_fields(live.document, desired.document)


def decide(grafana: Grafana, desired: Desired, *, force: bool) -> Action:
    """Fetch the live object and decide what to do with it. Reads only."""
    action = Action(desired.kind, desired.uid, desired.title, Decision.UNCHANGED, desired=desired)
    try:
        live = HANDLERS[desired.kind].fetch(grafana, desired.uid)
    except SyncError as error:
        action.error = str(error)
        if error.fatal:
            raise
        return action
    action.live = live
    if live is None:
        action.op, action.summary = Decision.CREATE, "new"
    elif live.provisioned:
        action.op = Decision.PROVISIONED
        action.summary = (
            f"Grafana loads this {desired.kind} from provisioning files; it updates from provisioning/ "
            "(python build.py build), not through push"
        )
    elif live.document == desired.document and live.folder_uid == desired.folder_uid:
        action.op = Decision.UNCHANGED
    elif desired.kind != "folder" and live.edited_since_push:
        why = "edited in Grafana since the last push" if live.managed else "not created by dashboards-as-code"
        action.summary = f"{why}: {_summary(desired, live)}"
        action.op = Decision.OVERWRITE if force else Decision.CONFLICT
    else:
        action.op, action.summary = Decision.UPDATE, _summary(desired, live)
    return action


def _backup(action: Action, backup_dir: Path) -> Path:
    assert action.live is not None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = backup_dir / f"{action.kind}-{action.uid}-{stamp}.json"
    atomic_write(path, (json.dumps(action.live.raw, indent=2, sort_keys=True) + "\n").encode())
    return path


def execute(grafana: Grafana, action: Action, *, backup_dir: Path) -> Action:
    """Carry out one decided action. Errors become `action.error`; fatal ones propagate."""
    if action.op not in WRITES or action.failed:
        return action
    handler = HANDLERS[action.kind]
    try:
        if action.op is Decision.DELETE:
            handler.delete(grafana, action.uid)
        else:
            assert action.desired is not None
            if action.op is Decision.OVERWRITE and action.live is not None:
                action.backup = _backup(action, backup_dir)
            handler.write(grafana, action.desired, action.live, force=action.op is Decision.OVERWRITE)
        action.done = True
    except ProvisionedError as error:
        action.op, action.summary = Decision.PROVISIONED, str(error)
    except SyncError as error:
        if error.fatal:
            raise
        # A write whose response was lost is retried, and the retry then meets our own write:
        # 412 for a dashboard, 409 for a folder or datasource. If Grafana now holds exactly what we
        # wanted, the write went through.
        if error.status in (409, 412) and _landed(grafana, action):
            action.done = True
        elif isinstance(error, ConflictError):
            action.op, action.summary = Decision.CONFLICT, str(error)
        else:
            action.error = str(error)
    return action


def _landed(grafana: Grafana, action: Action) -> bool:
    if action.desired is None:
        return False
    live = HANDLERS[action.kind].fetch(grafana, action.uid)
    return live is not None and live.document == action.desired.document


def prune_actions(grafana: Grafana, desired: Sequence[Desired]) -> list[Action]:
    """Managed dashboards in Grafana that no definition produces any more."""
    wanted = {d.uid for d in desired if d.kind == "dashboard"}
    managed = HANDLERS["dashboard"].list_managed(grafana)
    return [
        Action("dashboard", uid, title, Decision.DELETE, summary="no longer defined in dashboards/")
        for uid, title in sorted(managed)
        if uid not in wanted
    ]


@dataclass
class SyncReport:
    actions: list[Action] = field(default_factory=list)
    stopped: SyncError | None = None
    """The fatal error that ended the run early (unreachable Grafana, a login proxy, rate limiting):
    `actions` then holds what was done before it, so nothing done goes unreported."""

    def count(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for action in self.actions:
            if action.failed:
                counts["failed"] += 1
            elif action.done:
                counts["deleted" if action.op is Decision.DELETE else "written"] += 1
            elif action.op in WRITES:
                counts[f"to {action.op.value}"] += 1
            else:
                counts[action.op.value] += 1
        return counts

    @property
    def ok(self) -> bool:
        return self.stopped is None and not any(a.failed or a.op is Decision.CONFLICT for a in self.actions)

    @property
    def in_sync(self) -> bool:
        return all(a.op in (Decision.UNCHANGED, Decision.PROVISIONED) and not a.failed for a in self.actions)


def synchronise(
    grafana: Grafana,
    desired: Sequence[Desired],
    *,
    apply: bool,
    force: bool = False,
    prune: bool = False,
    backup_dir: Path,
    workers: int = DEFAULT_WORKERS,
    on_done: Callable[[Action], None] = lambda _: None,
) -> SyncReport:
    """Plan (and with `apply`, carry out) folders, then datasources, then dashboards.

    A fatal error (see SyncError.fatal) stops the run: nothing further is started, and the report
    keeps every action finished before it, with the error in `stopped`. It is never raised from here.
    """
    report = SyncReport()
    lock = threading.Lock()

    def one(item: Desired) -> Action | None:
        if report.stopped is not None:
            return None  # a fatal error elsewhere: start nothing new
        try:
            action = decide(grafana, item, force=force)
            if apply:
                execute(grafana, action, backup_dir=backup_dir)
        except SyncError as error:  # only fatal ones propagate out of decide and execute
            with lock:
                report.stopped = report.stopped or error
            return None
        on_done(action)
        return action

    def kept(actions: Iterable[Action | None]) -> list[Action]:
        return [action for action in actions if action is not None]

    for kind in ("folder", "datasource"):
        report.actions += kept(one(d) for d in desired if d.kind == kind)
    dashboards = [d for d in desired if d.kind == "dashboard"]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        report.actions += kept(pool.map(one, dashboards))
    if prune and report.stopped is None:
        try:
            for action in prune_actions(grafana, desired):
                if apply:
                    execute(grafana, action, backup_dir=backup_dir)
                on_done(action)
                report.actions.append(action)
        except SyncError as error:
            report.stopped = error
    return report


def fetch_dashboard(grafana: Grafana, uid: str) -> dict[str, Any] | None:
    """A live dashboard in the compared form (for `pull`), or None if Grafana has none with this uid."""
    live = HANDLERS["dashboard"].fetch(grafana, uid)
    return live.document if live else None
