"""grid-layout: every panel sits inside Grafana's 24-column grid and no two panels overlap.

Grafana silently moves overlapping panels, so the layout you defined is not the one you see. A
collapsed row's panels are one grid of their own (where they sit once it opens), checked as such.
"""

from collections.abc import Iterator
from typing import Any

from dashboards_as_code.dashboard_panels import panel_layers
from dashboards_as_code.kinds.dashboard import DashboardDocument
from dashboards_as_code.lint import LintContext, dashboard_check

ID = "grid-layout"
COLUMNS = 24


def _box(panel: dict[str, Any]) -> tuple[int, int, int, int] | None:
    grid = panel.get("gridPos") or {}
    try:
        return int(grid["x"]), int(grid["y"]), int(grid["w"]), int(grid["h"])
    except (KeyError, TypeError, ValueError):
        return None


def problems(context: LintContext, board: DashboardDocument) -> Iterator[tuple[dict[str, Any], str]]:
    for layer in panel_layers(board.document):
        yield from _layer_problems(layer)


def _layer_problems(layer: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str]]:
    """One grid: the top level, or a collapsed row's panels (where they sit once it opens)."""
    placed: list[tuple[dict[str, Any], tuple[int, int, int, int]]] = []
    for panel in layer:
        box = _box(panel)
        if box is None:
            yield panel, "has no complete gridPos {x, y, w, h}"
            continue
        x, y, w, h = box
        if w < 1 or h < 1 or x < 0 or y < 0 or x + w > COLUMNS:
            yield panel, f"gridPos x={x} w={w} y={y} h={h} leaves the 24-column grid"
        for other, (ox, oy, ow, oh) in placed:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                yield panel, f"overlaps panel {other.get('title')!r} (gridPos {x},{y} {w}x{h})"
        placed.append((panel, box))


CHECK = dashboard_check(ID, __doc__, problems)
