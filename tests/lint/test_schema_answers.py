"""How the schema checker's answer becomes findings: each deviation's JSON path from the dashboard, the
panel it is in, and TypeScript's long object types cut to `'{...}'`. Pure parsing, no Node needed."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from dashboards_as_code.lint.grafana_schema import Deviation, _deviations

LONG_TYPE = "'{ displayMode: LegendDisplayMode; placement: LegendPlacement; showLegend: boolean; }'"


def _answer(*items: Mapping[str, object]) -> str:
    return json.dumps(list(items))


def test_a_deviation_in_a_panels_options_is_placed_in_that_panel() -> None:
    [found] = _deviations(_answer({"id": "board|3|options", "path": "legend.displayMode", "message": "m"}))
    assert found == Deviation("board", 3, "panels[3].options.legend.displayMode", "m")


def test_a_deviation_of_a_panels_whole_field_config_has_no_trailing_dot() -> None:
    [found] = _deviations(_answer({"id": "board|1|fieldConfig.defaults.custom", "path": "", "message": "m"}))
    assert found == Deviation("board", 1, "panels[1].fieldConfig.defaults.custom", "m")


@pytest.mark.parametrize(("path", "panel"), [("panels[12].gridPos.w", 12), ("templating.list[0].type", None)])
def test_a_dashboard_level_deviation_names_its_panel_when_the_path_is_inside_one(
    path: str, panel: int | None
) -> None:
    [found] = _deviations(_answer({"id": "board|", "path": path, "message": "m"}))
    assert (found.panel, found.path) == (panel, path)


def test_long_object_types_are_cut_and_short_ones_kept() -> None:
    """TypeScript prints a whole object type; the property the message is about is enough to read."""
    message = f"Type 'string' is not assignable to type {LONG_TYPE} or 'boolean'."
    [found] = _deviations(_answer({"id": "board|", "path": "", "message": message}))
    assert found.message == "Type 'string' is not assignable to type '{...}' or 'boolean'."
    short = "Type '{ a: 1 }' is not assignable."
    [kept] = _deviations(_answer({"id": "board|", "path": "", "message": short}))
    assert kept.message == short


def test_an_answer_that_is_not_the_checkers_is_refused() -> None:
    """A damaged cache entry must read as a miss (the checker is asked again), never as no deviation."""
    for item in (
        {"id": "board|", "path": None, "message": "m"},
        {"id": "board|1|options", "path": 5, "message": "m"},
    ):
        with pytest.raises(TypeError):
            _deviations(_answer(item))
