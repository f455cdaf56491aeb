"""The panels of a dashboard's JSON, those inside collapsed rows included: the one walk every reader
(lint, doctor, diff, the benchmarks) uses.

Grafana keeps a collapsed row's panels in the row's own `panels` list, out of the top-level one,
and queries them when the row opens: a reader that walks only the top level misses them. Their
`gridPos` is where they sit once the row opens, so they share the grid with one another, not with
the panels below the collapsed row (which move down when it opens).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def every_panel(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel in the dashboard's order: a row, then the panels it holds collapsed, then the next."""
    for panel in _top(document):
        yield panel
        yield from _held(panel)


def panel_layers(document: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """The panels that share one grid: the top level (rows and expanded panels), then each collapsed
    row's panels. In order: the top level first, the rows' panels in the rows' order."""
    top = _top(document)
    yield top
    for panel in top:
        held = _held(panel)
        if held:
            yield held


def _top(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in document.get("panels", []) or [] if isinstance(panel, dict)]


def _held(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The panels a collapsed row holds (none for any other panel)."""
    return [panel for panel in row.get("panels", []) or [] if isinstance(panel, dict)]
