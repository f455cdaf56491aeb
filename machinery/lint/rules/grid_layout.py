"""grid-layout: every panel sits inside Grafana's 24-column grid and no two panels overlap.

Grafana silently moves overlapping panels, so the layout you defined is not the one you see.
"""

from collections.abc import Iterator
from typing import Any

from machinery.lint import Finding, LintContext, Rule, where

ID = "grid-layout"
COLUMNS = 24


def _box(panel: dict[str, Any]) -> tuple[int, int, int, int] | None:
    grid = panel.get("gridPos") or {}
    try:
        return int(grid["x"]), int(grid["y"]), int(grid["w"]), int(grid["h"])
    except (KeyError, TypeError, ValueError):
        return None


def check(context: LintContext) -> Iterator[Finding]:
    for definition in context.dashboards:
        placed: list[tuple[dict[str, Any], tuple[int, int, int, int]]] = []
        for panel in context.document(definition).get("panels", []):
            box = _box(panel)
            if box is None:
                yield Finding(where(definition, panel), ID, "has no complete gridPos {x, y, w, h}")
                continue
            x, y, w, h = box
            if w < 1 or h < 1 or x < 0 or y < 0 or x + w > COLUMNS:
                yield Finding(
                    where(definition, panel), ID, f"gridPos x={x} w={w} y={y} h={h} leaves the 24-column grid"
                )
            for other, (ox, oy, ow, oh) in placed:
                if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                    yield Finding(
                        where(definition, panel),
                        ID,
                        f"overlaps panel {other.get('title')!r} (gridPos {x},{y} {w}x{h})",
                    )
            placed.append((panel, box))


RULE = Rule(ID, __doc__ or "", check)
