"""What `check` reports: how the generated files on disk differ from what the definitions produce.

A drift names the file and, for dashboards, the panel, so "provisioning is stale" says what to look at.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboards_as_code.render.files import generated_files_on_disk, obstacle, read_regular
from dashboards_as_code.render.formats import Output


@dataclass(frozen=True)
class Drift:
    """How one generated file on disk differs from what the definitions produce."""

    path: str
    kind: str  # "missing" | "changed" | "not generated"
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}" + (f" ({self.detail})" if self.detail else "")


def _panel_titles(document: dict[str, Any]) -> dict[Any, tuple[str, Any]]:
    return {p.get("id"): (str(p.get("title", "")), p) for p in document.get("panels", [])}


def _describe_json_change(expected: bytes, actual: bytes) -> str:
    try:
        want, have = json.loads(expected), json.loads(actual)
    except json.JSONDecodeError:
        return "not valid JSON on disk"
    if not isinstance(have, dict):
        return "not a dashboard object on disk"
    changes = [
        f"{key} differs"
        for key in sorted(set(want) | set(have))
        if key != "panels" and want.get(key) != have.get(key)
    ]
    want_panels, have_panels = _panel_titles(want), _panel_titles(have)
    for panel_id in sorted(set(want_panels) | set(have_panels), key=str):
        if panel_id not in have_panels:
            changes.append(f"panel {want_panels[panel_id][0]!r} missing on disk")
        elif panel_id not in want_panels:
            changes.append(f"panel {have_panels[panel_id][0]!r} not in the definitions")
        elif want_panels[panel_id][1] != have_panels[panel_id][1]:
            changes.append(f"panel {want_panels[panel_id][0]!r} differs")
    return "; ".join(changes) or "formatting differs"


def _describe_text_change(expected: bytes, actual: bytes) -> str:
    diff = list(
        difflib.unified_diff(
            actual.decode(errors="replace").splitlines(), expected.decode().splitlines(), lineterm="", n=0
        )
    )
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    first = next((line for line in diff if line.startswith("@@")), "")
    return f"{removed} line(s) on disk differ from {added} generated line(s), first at {first.strip('@ ')}"


def compare_outputs(root: Path, outputs: Sequence[Output], provisioning_dir: str) -> list[Drift]:
    """The drifts, judged as `build` would: a symlink, directory or device where a generated file
    belongs is missing (build refuses to replace it), and only regular files count as generated."""
    drifts = []
    for output in outputs:
        actual = read_regular(root / output.path)
        if actual is None:
            problem = obstacle(root / output.path)
            drifts.append(Drift(output.path, "missing", f"{problem}; build refuses it" if problem else ""))
            continue
        if actual == output.content:
            continue
        describe = _describe_json_change if output.path.endswith(".json") else _describe_text_change
        drifts.append(Drift(output.path, "changed", describe(output.content, actual)))
    for path in sorted(generated_files_on_disk(root, provisioning_dir) - {o.path for o in outputs}):
        drifts.append(Drift(path, "not generated", "no definition produces it; `build` removes it"))
    return drifts
