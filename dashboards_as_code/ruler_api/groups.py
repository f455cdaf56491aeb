"""Rule groups as the ruler and the definitions both give them, made comparable; the marker group.

Cortex keeps a group as protobuf and answers it back as Prometheus' YAML, not as it was sent: a
duration comes back in Prometheus' own spelling (`90s` as `1m30s`), a zero `for:` and empty labels
are left out. `comparable` puts both sides in one form, so a group nobody changed compares equal.

The ruler's API has no version, owner or annotation on a group, so what `push-rules` last wrote is
recorded in the namespace itself: a group `MARKER_GROUP` with one recording rule per pushed group,
whose labels hold the group's name and the hash (`content_sha`) of its comparable form. Its
expression never returns a sample (`NEVER`), so it records no series, and it is evaluated once a
day. A group whose live hash is not the recorded one was edited in the ruler (or written by someone
else): a conflict, as an edit made in Grafana is for a dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MARKER_GROUP = "dashboards-as-code"
"""The group that records what the last push wrote; no definition may use the name."""
MARKER_RECORD = "dashboards_as_code_pushed"
NEVER = "vector(1) < 0"
"""A marker rule's expression: always empty, so the marker costs no series."""
MARKER_INTERVAL = "24h"
GROUP_LABEL, SHA_LABEL = "rule_group", "sha"

_DURATION_FIELDS = frozenset({"interval", "query_offset", "for", "keep_firing_for"})
_UNIT_MS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}
_UNIT_MS |= {"s": 1000, "ms": 1}
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


def duration_ms(value: object) -> object:
    """A Prometheus duration (`1m30s`, `90s`, `0s`) in milliseconds; anything else as it is, so a
    value the ruler would refuse still shows in the diff instead of disappearing."""
    if value == "0":
        return 0
    match = _DURATION.match(value) if isinstance(value, str) and value else None
    if match is None:
        return value
    return sum(int(n) * ms for n, ms in zip(match.groups(), _UNIT_MS.values(), strict=True) if n)


def _comparable_map(document: Mapping[str, Any]) -> dict[str, Any]:
    """Durations in milliseconds, and what the ruler leaves out when empty or zero left out here too."""
    kept: dict[str, Any] = {}
    for key, raw in document.items():
        value = duration_ms(raw) if key in _DURATION_FIELDS else raw
        if value in (None, 0, "", {}, []):
            continue
        kept[key] = value
    return kept


def comparable(group: Mapping[str, Any]) -> dict[str, Any]:
    """`group` (a rule file's entry, or the ruler's answer) in the form both sides are compared in."""
    kept = _comparable_map(group)
    kept["rules"] = [_comparable_map(rule) for rule in group.get("rules") or [] if isinstance(rule, Mapping)]
    return kept


def marker_group(pushed: Mapping[str, str]) -> dict[str, Any]:
    """The marker group recording `pushed` (group name -> hash), in name order."""
    return {
        "name": MARKER_GROUP,
        "interval": MARKER_INTERVAL,
        "rules": [
            {"record": MARKER_RECORD, "expr": NEVER, "labels": {GROUP_LABEL: name, SHA_LABEL: sha}}
            for name, sha in sorted(pushed.items())
        ],
    }


def read_marker(group: Mapping[str, Any] | None) -> dict[str, str]:
    """Group name -> hash from the live marker group; a rule that is not a marker rule is ignored."""
    pushed: dict[str, str] = {}
    for rule in (group or {}).get("rules") or []:
        labels = rule.get("labels") if isinstance(rule, Mapping) else None
        if rule.get("record") != MARKER_RECORD or not isinstance(labels, Mapping):
            continue
        name, sha = labels.get(GROUP_LABEL), labels.get(SHA_LABEL)
        if isinstance(name, str) and isinstance(sha, str):
            pushed[name] = sha
    return pushed
