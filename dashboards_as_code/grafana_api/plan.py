"""A plan before an action: compare desired and live objects, decide per object, then apply.

Per object the decision is one of create, update, overwrite (forced, after a backup), unchanged,
conflict (edited in Grafana since our last push, or owned by another project: left alone),
provisioned (Grafana loads it from files: left alone), delete (prune, after a backup) or left alone
(prune: another project's, or of unknown owner). `diff` and `push --dry-run` show the plan; `push`
applies it. The objects of a kind marked `concurrent` (dashboards), and prune candidates, are planned
and applied concurrently; a failure in one never stops the others.
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

from dashboards_as_code import invocation, kinds
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.kinds.base import ConflictError, Desired, Live, ProvisionedError, Prunable, SyncError
from dashboards_as_code.kinds.changes import unified_diff
from dashboards_as_code.kinds.dashboard.resource_api import V2, pulled
from dashboards_as_code.render.documents import Documents
from dashboards_as_code.render.files import atomic_write

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
    LEAVE = "left alone"
    """Prune found it but it is not ours to delete (another project's, or owner unknown). Not a failure:
    in a Grafana shared by several projects every prune meets other projects' dashboards, and an exit
    code that is always 1 there would hide real conflicts."""


WRITES = {Decision.CREATE, Decision.UPDATE, Decision.OVERWRITE, Decision.DELETE}


@dataclass
class Action:
    kind: str
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
    """Everything push manages, every kind in push order, from the same normalised documents `build`
    writes, owned by the project."""
    return [desired for kind in kinds.registry() for desired in kind.desired(documents)]


def decide(grafana: Grafana, desired: Desired, *, force: bool) -> Action:
    """Fetch the live object and decide what to do with it. Reads only."""
    action = Action(desired.kind, desired.uid, desired.title, Decision.UNCHANGED, desired=desired)
    kind = kinds.kind_named(desired.kind)
    try:
        live = kind.fetch(grafana, desired.uid)
    except SyncError as error:
        action.error = str(error)
        if error.fatal:
            raise
        return action
    action.live = live
    try:  # compared in the schema Grafana stores it in (a dashboard saved as v2), or will create it in
        action.desired = desired = kind.in_grafana_form(grafana, desired, live)
    except SyncError as error:
        action.error = str(error)
        if error.fatal:
            raise
        return action
    if live is None:
        action.op, action.summary = Decision.CREATE, "new"
    elif live.provisioned:
        action.op = Decision.PROVISIONED
        action.summary = (
            f"Grafana loads this {desired.kind} from provisioning files; it updates from provisioning/ "
            f"({invocation.command('build')}), not through push"
        )
    elif live.document == desired.document and live.folder_uid == desired.folder_uid:
        action.op = Decision.UNCHANGED
    elif kind.marks_owner and live.owner not in (None, desired.owner):
        action.summary = (
            f"owned by project {live.owner!r}, not {desired.owner!r}: {kind.summarise(live, desired)}"
        )
        action.op = Decision.OVERWRITE if force else Decision.CONFLICT
    elif kind.marks_owner and live.edited_since_push:
        why = "edited in Grafana since the last push" if live.managed else "not created by dashboards-as-code"
        action.summary = f"{why}: {kind.summarise(live, desired)}"
        action.op = Decision.OVERWRITE if force else Decision.CONFLICT
    else:
        action.op, action.summary = Decision.UPDATE, kind.summarise(live, desired)
    return action


class BackupError(SyncError):
    """The live version could not be saved, so it is not overwritten or deleted."""


def _backup(action: Action, backup_dir: Path) -> Path:
    """Save the live JSON before it is overwritten or deleted; the microseconds keep two backups of one
    object made within a second (a forced push, then a forced prune) from replacing each other."""
    assert action.live is not None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = backup_dir / f"{action.kind}-{action.uid}-{stamp}.json"
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(path, (json.dumps(action.live.raw, indent=2, sort_keys=True) + "\n").encode())
    except OSError as error:
        what = "deleted" if action.op is Decision.DELETE else "overwritten"
        raise BackupError(
            f"cannot save the live version to {path}: {error.strerror or error}; not {what}"
        ) from None
    return path


def _delete(grafana: Grafana, action: Action, backup_dir: Path) -> None:
    """Back up, then delete. Grafana's delete takes no version, so the object is read again just before
    and the prune decision made again on what Grafana holds now: a save made since the plan (an edit, a
    new owner) is not deleted, and the backup holds exactly what is deleted."""
    planned = action.live
    assert planned is not None and planned.owner is not None  # only our own objects are deleted
    kind = kinds.kind_named(action.kind)
    if not isinstance(kind, Prunable):
        raise SyncError(f"{action.kind}s are never deleted by push")
    current = kind.fetch(grafana, action.uid)
    if current is None:
        return  # already gone: the goal is reached
    # --force was needed only if the plan already saw the edit; an edit made after it is not forced.
    op, summary = prune_decision(current, action.kind, planned.owner, force=planned.edited_since_push)
    if op is not Decision.DELETE:
        raise ConflictError(f"changed in Grafana after the plan, so not deleted: {summary}", status=412)
    action.live = current
    action.backup = _backup(action, backup_dir)
    kind.delete(grafana, action.uid)


def execute(grafana: Grafana, action: Action, *, backup_dir: Path) -> Action:
    """Carry out one decided action. Errors become `action.error`; fatal ones propagate."""
    if action.op not in WRITES or action.failed:
        return action
    kind = kinds.kind_named(action.kind)
    try:
        if action.op is Decision.DELETE:
            _delete(grafana, action, backup_dir)
        else:
            assert action.desired is not None
            if action.op is Decision.OVERWRITE and action.live is not None:
                action.backup = _backup(action, backup_dir)
            kind.write(grafana, action.desired, action.live, force=action.op is Decision.OVERWRITE)
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
    kind = kinds.kind_named(action.kind)
    live = kind.fetch(grafana, action.uid)
    return live is not None and live.document == kind.in_grafana_form(grafana, action.desired, live).document


def prune_candidates(grafana: Grafana, desired: Sequence[Desired]) -> list[Action]:
    """Objects Grafana holds under the managed marker that no definition produces any more, undecided.

    Every `Prunable` kind is asked; the others (folders and datasources, which may hold or serve what
    people made by hand) never have candidates.
    """
    wanted = {(d.kind, d.uid) for d in desired}
    return [
        Action(kind.name, uid, title, Decision.UNCHANGED)
        for kind in kinds.registry()
        if isinstance(kind, Prunable)
        for uid, title in sorted(kind.list_managed(grafana))
        if (kind.name, uid) not in wanted
    ]


def prune_decision(live: Live | None, kind: str, owner: str, *, force: bool) -> tuple[Decision, str]:
    """Delete only what this project pushed and nobody has edited since; say why anything else stays."""
    gone = f"no longer defined in {kinds.kind_named(kind).defined_in}"
    if live is None:
        return Decision.UNCHANGED, "already deleted"
    if live.provisioned:
        return Decision.PROVISIONED, f"Grafana loads this {kind} from provisioning files: not deleted"
    if not live.managed:
        return Decision.LEAVE, "not managed by dashboards-as-code (any more): never pruned"
    if live.owner is None:
        return Decision.LEAVE, (
            "owner unknown (no owner marker: pushed by an older version, or tagged by hand): never pruned; "
            "delete it in Grafana if no project defines it"
        )
    if live.owner != owner:
        return Decision.LEAVE, f"owned by project {live.owner!r}: only that project's push --prune deletes it"
    if live.edited_since_push:
        why = f"{gone}; owned by this project ({owner!r}) but edited in Grafana since the last push"
        return (Decision.DELETE, why) if force else (Decision.CONFLICT, f"{why}: not deleted")
    return Decision.DELETE, f"{gone}; owned by this project ({owner!r})"


def decide_prune(grafana: Grafana, action: Action, owner: str, *, force: bool) -> Action:
    """Fetch one candidate (its markers are on the object, not in the search hit) and decide. Reads only."""
    try:
        action.live = kinds.kind_named(action.kind).fetch(grafana, action.uid)
    except SyncError as error:
        if error.fatal:
            raise
        action.error = str(error)
        return action
    action.op, action.summary = prune_decision(action.live, action.kind, owner, force=force)
    return action


def orphans(
    grafana: Grafana, desired: Sequence[Desired], owner: str, *, workers: int = DEFAULT_WORKERS
) -> list[Action]:
    """What `push --prune` would delete or stop at: objects this project pushed that no definition
    produces any more (a dashboard removed, a correlation relabelled), decided as prune decides them
    and never carried out. Another project's objects, and those of unknown owner, are not listed:
    `diff` answers "does Grafana hold what this project defines, and nothing more of its own?".
    Each candidate is read (its owner is on the object), `workers` at a time as prune does, since a
    shared Grafana holds many. A fatal error propagates (SyncError); a failed read is an action
    with its error."""
    candidates = prune_candidates(grafana, desired)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        decided = list(pool.map(lambda c: decide_prune(grafana, c, owner, force=False), candidates))
    return [a for a in decided if a.failed or a.op in (Decision.DELETE, Decision.CONFLICT)]


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
    prune_owner: str | None = None,
    backup_dir: Path,
    workers: int = DEFAULT_WORKERS,
    on_done: Callable[[Action], None] = lambda _: None,
    on_more: Callable[[int], None] = lambda _: None,
) -> SyncReport:
    """Plan (and with `apply`, carry out) every kind in push order (folders, datasources, dashboards...,
    each kind after the ones it may refer to); with `prune_owner`
    (the project's name), then the objects that project pushed and no longer defines.

    A fatal error (see SyncError.fatal) stops the run: nothing further is started, and the report
    keeps every action finished before it, with the error in `stopped`. It is never raised from here.
    `on_done` hears of each action as it ends; `on_more` of the prune candidates once they are known
    (a progress count that started at the number of definitions grows by them, never runs past it).
    """
    report = SyncReport()
    lock = threading.Lock()

    def guarded(step: Callable[[], Action]) -> Action | None:
        if report.stopped is not None:
            return None  # a fatal error elsewhere: start nothing new
        try:
            action = step()
        except SyncError as error:  # only fatal ones propagate out of decide and execute
            with lock:
                report.stopped = report.stopped or error
            return None
        on_done(action)
        return action

    def carried_out(action: Action) -> Action:
        if apply:
            execute(grafana, action, backup_dir=backup_dir)
        return action

    def one(item: Desired) -> Action | None:
        return guarded(lambda: carried_out(decide(grafana, item, force=force)))

    def kept(actions: Iterable[Action | None]) -> list[Action]:
        return [action for action in actions if action is not None]

    for kind in kinds.registry():
        mine = [d for d in desired if d.kind == kind.name]
        if kind.concurrent:
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                report.actions += kept(pool.map(one, mine))
        else:
            report.actions += kept(one(d) for d in mine)
    if prune_owner is None or report.stopped is not None:
        return report
    owner = prune_owner

    def prune_one(candidate: Action) -> Action | None:
        return guarded(lambda: carried_out(decide_prune(grafana, candidate, owner, force=force)))

    try:
        candidates = prune_candidates(grafana, desired)
    except SyncError as error:
        report.stopped = error
        return report
    on_more(len(candidates))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        report.actions += kept(pool.map(prune_one, candidates))
    return report


def fetch_dashboard(grafana: Grafana, uid: str) -> dict[str, Any] | None:
    """A live dashboard for `pull`, or None if Grafana has none with this uid: classic JSON in the
    compared form, or a dashboard stored as v2 as Grafana stores it (never a down-converted copy)."""
    live = kinds.kind_named("dashboard").fetch(grafana, uid)
    if live is None:
        return None
    return pulled(live) if live.form == V2 else live.document
