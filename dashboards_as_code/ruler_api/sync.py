"""`push-rules`: the project's rule groups into the ruler's namespace named after the project.

The decisions are push's (`grafana_api.plan.Decision`), made from the marker group (`groups`):
- a group the ruler does not hold: create;
- one it holds as defined: unchanged (and recorded in the marker, if it was not: it is ours now);
- one it holds differently, whose live hash is the one recorded: update;
- one whose live hash is not the one recorded (edited in the ruler, or never pushed by us): a conflict,
  left as it is; with `force`, overwritten after a backup;
- with `prune`, a group in the namespace that no definition makes any more: deleted (after a backup)
  if it is as we pushed it, a conflict if it was edited since (`force` deletes it), left alone if we
  never pushed it.
Only the project's namespace is read or written: another project's groups live in theirs.
The marker group is written last, from what was actually written, so a group whose write failed
keeps its old record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from dashboards_as_code.grafana_api.plan import WRITES, Action, Decision, SyncReport
from dashboards_as_code.kinds.base import Desired, Live
from dashboards_as_code.kinds.changes import summarise_fields
from dashboards_as_code.kinds.comparable import content_sha
from dashboards_as_code.render.files import atomic_write
from dashboards_as_code.ruler_api.client import Ruler, RulerError
from dashboards_as_code.ruler_api.groups import MARKER_GROUP, comparable, marker_group, read_marker

KIND = "rule group"
DEFINED_IN = "prometheus_rules/"


def _desired(group: Mapping[str, Any], owner: str) -> Desired:
    name = str(group["name"])
    return Desired(KIND, name, name, comparable(group), owner, write_only={"group": dict(group)})


def _live(group: dict[str, Any], pushed: Mapping[str, str], owner: str) -> Live:
    name = str(group["name"])
    ours = name in pushed
    # `pushed_sha` is the recorded hash: Live.edited_since_push compares it with the live content's.
    return Live(
        comparable(group), group, managed=ours, pushed_sha=pushed.get(name), owner=owner if ours else None
    )


def _decide(desired: Desired, live: Live | None, *, force: bool) -> Action:
    action = Action(KIND, desired.uid, desired.title, Decision.UNCHANGED, desired=desired, live=live)
    if live is None:
        action.op, action.summary = Decision.CREATE, "new"
    elif live.document == desired.document:
        action.op = Decision.UNCHANGED
    elif live.edited_since_push:
        why = (
            "edited in the ruler since the last push" if live.managed else "not pushed by dashboards-as-code"
        )
        action.op = Decision.OVERWRITE if force else Decision.CONFLICT
        action.summary = f"{why}: {summarise_fields(live.document, desired.document)}"
    else:
        action.op, action.summary = Decision.UPDATE, summarise_fields(live.document, desired.document)
    return action


def _decide_prune(live: Live, *, force: bool) -> Action:
    action = Action(KIND, str(live.raw["name"]), str(live.raw["name"]), Decision.DELETE, live=live)
    gone = f"no longer defined in {DEFINED_IN}"
    if not live.managed:
        action.op, action.summary = Decision.LEAVE, "not pushed by dashboards-as-code: never pruned"
    elif live.edited_since_push:
        action.op = Decision.DELETE if force else Decision.CONFLICT
        action.summary = f"{gone}; edited in the ruler since the last push" + (
            "" if force else ": not deleted"
        )
    else:
        action.summary = gone
    return action


def plan(
    ruler: Ruler, namespace: str, groups: Sequence[Mapping[str, Any]], owner: str, *, force: bool, prune: bool
) -> tuple[list[Action], dict[str, str]]:
    """Every group's action (prune candidates after the definitions), and the marker as the ruler
    holds it. Reads only; a RulerError (fatal) if the namespace cannot be read."""
    live_groups = {str(g["name"]): g for g in ruler.namespace(namespace)}
    pushed = read_marker(live_groups.pop(MARKER_GROUP, None))
    actions = []
    for group in groups:
        desired = _desired(group, owner)
        live = live_groups.pop(desired.uid, None)
        actions.append(_decide(desired, _live(live, pushed, owner) if live else None, force=force))
    if prune:
        actions += [
            _decide_prune(_live(g, pushed, owner), force=force) for _, g in sorted(live_groups.items())
        ]
    return actions, pushed


def _backup(action: Action, backup_dir: Path) -> Path:
    """The live group as the ruler answered it, as a rule file one can POST back."""
    assert action.live is not None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", action.uid)[:100]
    path = backup_dir / f"rule-group-{slug}-{stamp}.yml"
    try:
        backup_dir.mkdir(parents=True, exist_ok=True)
        document = {"groups": [action.live.raw]}
        atomic_write(path, yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode())
    except OSError as error:
        raise RulerError(
            f"cannot save the live version to {path}: {error.strerror or error}; not written"
        ) from None
    return path


def _execute(ruler: Ruler, namespace: str, action: Action, backup_dir: Path) -> None:
    if action.op in (Decision.OVERWRITE, Decision.DELETE):
        action.backup = _backup(action, backup_dir)
    if action.op is Decision.DELETE:
        ruler.delete_group(namespace, action.uid)
    else:
        assert action.desired is not None
        ruler.set_group(namespace, dict(action.desired.write_only["group"]))
    action.done = True


def synchronise_rules(
    ruler: Ruler,
    namespace: str,
    groups: Sequence[Mapping[str, Any]],
    owner: str,
    *,
    apply: bool,
    force: bool = False,
    prune: bool = False,
    backup_dir: Path,
    on_done: Callable[[Action], None] = lambda _: None,
) -> SyncReport:
    """Plan, and with `apply` carry out, then record what was written in the marker group. A fatal
    error stops the run and is reported in `stopped`, never raised."""
    report = SyncReport()
    try:
        actions, pushed = plan(ruler, namespace, groups, owner, force=force, prune=prune)
    except RulerError as error:
        report.stopped = error
        return report
    recorded = dict(pushed)
    for action in actions:
        if report.stopped is None and apply and action.op in WRITES:
            try:
                _execute(ruler, namespace, action, backup_dir)
            except RulerError as error:
                action.error = str(error)
                if error.fatal:
                    report.stopped = error
        if action.op is Decision.DELETE and action.done:
            recorded.pop(action.uid, None)
        elif action.desired is not None and (action.done or action.op is Decision.UNCHANGED):
            recorded[action.uid] = content_sha(action.desired.document)
        report.actions.append(action)
        on_done(action)
    if apply and recorded != pushed:
        try:  # the marker last: it records what the ruler now holds as ours (none: no marker)
            if recorded:
                ruler.set_group(namespace, marker_group(recorded))
            else:  # the ruler refuses a group without rules
                ruler.delete_group(namespace, MARKER_GROUP)
        except RulerError as error:
            report.stopped = report.stopped or error
    return report
