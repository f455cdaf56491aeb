"""A dashboard's rows as tabs in schema v2 (`sections_in_v2="tabs"`, issue 25 item 4).

Tabs exist only in v2. The classic file keeps the rows, which is what Grafana's own v2 -> v1
conversion makes of tabs ("each tab becomes an expanded row panel", panels from `rowY + 1`:
grafana/grafana `apps/dashboard/pkg/migration/conversion/v2_to_v1_layout_conversion.md`).
`test_schema_v2_equals_classic.py` proves the two forms say the same panel by panel; it reads a tab
as a row, so it cannot see whether the option was obeyed at all. These tests hold that: the layout
kind follows each definition, the classic file ignores the option, and what has no tab form (a
collapsed row, a panel outside every row, an unknown value) is refused by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grafanalib.core as g
import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.types import DashboardDefinition, Folder, SectionsInV2
from dashboards_as_code.errors import DefinitionError
from dashboards_as_code.kinds.dashboard.document import dashboard_document
from dashboards_as_code.kinds.dashboard.schema_v2 import v2_spec
from tests.conftest import REPO
from tests.recipe import run_cli

FOLDER = Folder("fixtures", "Fixtures")


def _panel(title: str, y: int) -> g.TimeSeries:
    return g.TimeSeries(
        title=title, targets=[g.Target(expr="up", refId="A")], gridPos=g.GridPos(h=4, w=12, x=0, y=y)
    )


def _row(title: str, y: int, **kwargs: Any) -> g.RowPanel:
    return g.RowPanel(title=title, gridPos=g.GridPos(h=1, w=24, x=0, y=y), **kwargs)


def _definition(panels: list[Any], sections: SectionsInV2) -> DashboardDefinition:
    board = g.Dashboard(title="Sections", uid="sections", panels=panels).auto_panel_ids()
    return DashboardDefinition(FOLDER, board, sections_in_v2=sections)


def _spec(definition: DashboardDefinition) -> dict[str, Any]:
    return v2_spec(dashboard_document(definition), sections=definition.sections_in_v2)


def _classic_row_titles(document: dict[str, Any]) -> list[str]:
    return [panel.get("title", "") for panel in document["panels"] if panel.get("type") == "row"]


@pytest.mark.parametrize("definition", load_project(REPO).dashboards, ids=lambda d: d.uid)
def test_each_project_dashboard_is_laid_out_in_v2_as_its_definition_asks(
    definition: DashboardDefinition,
) -> None:
    document = dashboard_document(definition)
    layout = _spec(definition)["layout"]
    rows = _classic_row_titles(document)
    if not rows:
        assert layout["kind"] == "GridLayout"
    elif definition.sections_in_v2 == "tabs":
        assert layout["kind"] == "TabsLayout"
        assert [tab["spec"]["title"] for tab in layout["spec"]["tabs"]] == rows
    else:
        assert layout["kind"] == "RowsLayout"
        assert [
            row["spec"]["title"] for row in layout["spec"]["rows"] if not row["spec"].get("hideHeader")
        ] == rows


def test_the_project_has_a_dashboard_shown_as_tabs() -> None:
    """The item asks for the feature where it helps: a dashboard of many sections uses it (how many
    sections it has is the definition's business, so it is not pinned here)."""
    tabbed = [d for d in load_project(REPO).dashboards if d.sections_in_v2 == "tabs"]
    assert tabbed, "no dashboard of the project asks for tabs"
    assert all(_classic_row_titles(dashboard_document(d)) for d in tabbed), "a tabbed dashboard without rows"


def test_each_row_is_one_tab_with_its_panels_counted_from_under_its_header() -> None:
    panels = [_row("A", 0), _panel("a1", 1), _panel("a2", 5), _row("B", 9, repeat=g.Repeat(variable="job"))]
    panels.append(_panel("b1", 10))
    tabs = _spec(_definition(panels, "tabs"))["layout"]["spec"]["tabs"]
    assert [tab["kind"] for tab in tabs] == ["TabsLayoutTab", "TabsLayoutTab"]
    assert [tab["spec"]["title"] for tab in tabs] == ["A", "B"]
    first, second = ([item["spec"]["y"] for item in tab["spec"]["layout"]["spec"]["items"]] for tab in tabs)
    assert (first, second) == ([0, 4], [0])  # absolute y minus (row y + 1)
    assert "repeat" not in tabs[0]["spec"]
    assert tabs[1]["spec"]["repeat"] == {"mode": "variable", "value": "job"}


def test_the_classic_file_and_everything_but_the_layout_ignore_the_option() -> None:
    panels = [_row("A", 0), _panel("a1", 1), _row("B", 5), _panel("b1", 6)]
    as_rows, as_tabs = _definition(panels, "rows"), _definition(panels, "tabs")
    assert dashboard_document(as_rows) == dashboard_document(as_tabs)
    rows_spec, tabs_spec = _spec(as_rows), _spec(as_tabs)
    assert rows_spec.pop("layout")["kind"] == "RowsLayout"
    assert tabs_spec.pop("layout")["kind"] == "TabsLayout"
    assert rows_spec == tabs_spec


def test_a_dashboard_without_rows_keeps_its_grid() -> None:
    layout = _spec(_definition([_panel("alone", 0), _panel("below", 4)], "tabs"))["layout"]
    assert layout["kind"] == "GridLayout"
    assert len(layout["spec"]["items"]) == 2


def test_a_collapsed_row_has_no_tab_form_and_is_named() -> None:
    collapsed = _row("Hidden", 4, collapsed=True, panels=[_panel("inside", 5)])
    definition = _definition([_row("Shown", 0), _panel("a", 1), collapsed], "tabs")
    with pytest.raises(DefinitionError) as raised:
        _spec(definition)
    assert raised.value.location.dashboard == "sections"
    assert "'Hidden' is collapsed" in raised.value.message


def test_a_panel_above_the_first_row_has_no_tab_and_is_named() -> None:
    definition = _definition([_panel("stray", 0), _row("First", 4), _panel("a", 5)], "tabs")
    with pytest.raises(DefinitionError) as raised:
        _spec(definition)
    assert raised.value.location.dashboard == "sections"
    assert "panel 'stray' is above the first row" in raised.value.message


def _items_by_title(definition: DashboardDefinition) -> dict[str, dict[str, tuple[int, int]]]:
    """Each section's panels as the v2 form holds them: section title -> panel title -> (x, y)."""
    spec = _spec(definition)
    titles = {name: element["spec"]["title"] for name, element in spec["elements"].items()}
    layout = spec["layout"]["spec"]
    sections = layout.get("tabs") or layout.get("rows") or []
    return {
        section["spec"]["title"]: {
            titles[item["spec"]["element"]["name"]]: (item["spec"]["x"], item["spec"]["y"])
            for item in section["spec"]["layout"]["spec"]["items"]
        }
        for section in sections
    }


@pytest.mark.parametrize("sections", ["rows", "tabs"])
def test_a_panel_is_in_the_section_its_position_puts_it_in_whatever_its_place_in_the_list(
    sections: SectionsInV2,
) -> None:
    """Grafana sorts a classic dashboard's panels by position (y, then x) when it loads it, so a panel
    shows under the row header above it, wherever the JSON lists it. The v2 form must hold it there:
    listed before every row but placed lower, it is in the last row above it (not dropped from every
    section); listed after row B but placed under row A's header, it is in A (not in B at a negative y)."""
    late = _panel("listed first, placed under B", 20)
    high = _panel("listed under B, placed under A", 1)
    high.gridPos = g.GridPos(h=4, w=12, x=12, y=1)
    panels = [late, _row("A", 0), _panel("a1", 1), _row("B", 5), _panel("b1", 6), high]
    found = _items_by_title(_definition(panels, sections))
    assert found == {
        "A": {"a1": (0, 0), "listed under B, placed under A": (12, 0)},
        "B": {"b1": (0, 0), "listed first, placed under B": (0, 14)},
    }


def test_a_value_set_after_the_definition_was_made_is_still_checked() -> None:
    definition = _definition([_row("A", 0), _panel("a1", 1)], "rows")
    definition.sections_in_v2 = "tab"  # type: ignore[assignment]  # what a careless definition may do
    with pytest.raises(DefinitionError) as raised:
        _spec(definition)
    assert raised.value.location.dashboard == "sections"
    assert "sections_in_v2='tab': one of rows, tabs" in raised.value.message


USER_DASHBOARD = '''"""A user's dashboard with a mistyped layout option."""

from config import TIKTICKETS_FOLDER
from dashboards_as_code.define import Row
from dashboards_as_code.define import dashboard as make_dashboard


def dashboard():
    return make_dashboard(
        uid="typo-tabs",
        title="Typo",
        folder=TIKTICKETS_FOLDER,
        description="rows as tab (sic)",
        rows=[Row("Only", [])],
        sections_in_v2="tab",
    )
'''


def test_an_unknown_sections_value_is_named_with_its_dashboard_and_line(project_copy: Path) -> None:
    (project_copy / "dashboards" / "typo_tabs.py").write_text(USER_DASHBOARD)
    built = run_cli("build", "--project", str(project_copy))
    output = built.stdout + built.stderr
    assert built.returncode != 0, output
    assert "Traceback" not in output
    assert "dashboards/typo_tabs.py:" in output and "'typo-tabs'" in output
    assert "sections_in_v2='tab': one of rows, tabs" in output
