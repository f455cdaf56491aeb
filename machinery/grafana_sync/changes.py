"""What a reviewer reads: a one-line summary of a change, and a unified diff of the normalised JSON."""

from __future__ import annotations

import difflib
import json
from typing import Any


def _panels(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for panel in document.get("panels", []) or []:
        found[str(panel.get("title", ""))] = panel
        for nested in panel.get("panels", []) or []:
            found[str(nested.get("title", ""))] = nested
    return found


def _queries(panel: dict[str, Any]) -> list[str]:
    return [str(t.get("expr", "")) for t in panel.get("targets", []) or []]


def summarise_dashboard(
    live: dict[str, Any],
    desired: dict[str, Any],
    live_folder: str | None = None,
    desired_folder: str | None = None,
) -> str:
    """`2 panels added ('A', 'B'); queries changed in 'C'; moved from folder x to y`."""
    old, new = _panels(live), _panels(desired)
    parts = []
    added = [t for t in new if t not in old]
    removed = [t for t in old if t not in new]
    if added:
        parts.append(f"{len(added)} panel(s) added ({', '.join(map(repr, added))})")
    if removed:
        parts.append(f"{len(removed)} panel(s) removed ({', '.join(map(repr, removed))})")
    common = [t for t in new if t in old]
    queries = [t for t in common if _queries(old[t]) != _queries(new[t])]
    if queries:
        parts.append(f"queries changed in {', '.join(map(repr, queries))}")
    other = [t for t in common if t not in queries and old[t] != new[t]]
    if other:
        parts.append(f"settings changed in {', '.join(map(repr, other))}")
    top = sorted(k for k in set(live) | set(desired) if k != "panels" and live.get(k) != desired.get(k))
    if top:
        parts.append(f"dashboard fields changed: {', '.join(top)}")
    if live_folder != desired_folder:
        parts.append(f"moved from folder {live_folder or 'General'!r} to {desired_folder or 'General'!r}")
    return "; ".join(parts) or "no change"


def summarise_fields(live: dict[str, Any], desired: dict[str, Any]) -> str:
    changed = sorted(k for k in set(live) | set(desired) if live.get(k) != desired.get(k))
    return f"fields changed: {', '.join(changed)}" if changed else "no change"


def unified_diff(live: dict[str, Any] | None, desired: dict[str, Any] | None, name: str) -> str:
    def lines(document: dict[str, Any] | None) -> list[str]:
        return [] if document is None else json.dumps(document, indent=2, sort_keys=True).splitlines()

    return "\n".join(
        difflib.unified_diff(lines(live), lines(desired), f"grafana/{name}", f"code/{name}", lineterm="")
    )
