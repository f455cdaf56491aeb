"""What a reviewer reads: a one-line summary of a change, and a unified diff of the normalised JSON."""

from __future__ import annotations

import difflib
import json
from typing import Any

from dashboards_as_code.dashboard_panels import every_panel


def _panels(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Panels by id (stable across edits of the title), or by title where a panel has no id."""
    return {str(panel.get("id") or panel.get("title", "")): panel for panel in every_panel(document)}


def _title(panel: dict[str, Any]) -> str:
    return repr(str(panel.get("title", "")))


def _queries(panel: dict[str, Any]) -> list[str]:
    return [str(t.get("expr", "")) for t in panel.get("targets", []) or []]


def _settings(panel: dict[str, Any]) -> dict[str, Any]:
    """The panel without what the summary's other parts name: its title ("renamed") and its queries'
    expressions ("queries changed"). A panel whose query and a setting changed is named under both;
    one whose query alone changed is not also said to have changed settings."""
    targets = [{**target, "expr": None} for target in panel.get("targets", []) or []]
    return {**panel, "title": None, "targets": targets}


def summarise_dashboard(
    live: dict[str, Any],
    desired: dict[str, Any],
    live_folder: str | None = None,
    desired_folder: str | None = None,
) -> str:
    """`2 panels added ('A', 'B'); queries changed in 'C'; moved from folder x to y`."""
    old, new = _panels(live), _panels(desired)
    parts = []
    added = [_title(new[k]) for k in new if k not in old]
    removed = [_title(old[k]) for k in old if k not in new]
    if added:
        parts.append(f"{len(added)} panel(s) added ({', '.join(added)})")
    if removed:
        parts.append(f"{len(removed)} panel(s) removed ({', '.join(removed)})")
    common = [k for k in new if k in old]
    renamed = [
        f"{_title(old[k])} to {_title(new[k])}" for k in common if old[k].get("title") != new[k].get("title")
    ]
    if renamed:
        parts.append(f"renamed {', '.join(renamed)}")
    queries = [k for k in common if _queries(old[k]) != _queries(new[k])]
    if queries:
        parts.append(f"queries changed in {', '.join(_title(new[k]) for k in queries)}")
    other = [k for k in common if _settings(old[k]) != _settings(new[k])]
    if other:
        parts.append(f"settings changed in {', '.join(_title(new[k]) for k in other)}")
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
