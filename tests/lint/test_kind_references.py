"""kind-references runs each registered kind's own reference rules and names the kind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from dashboards_as_code import kinds
from dashboards_as_code.definitions.types import DashboardDefinition
from dashboards_as_code.errors import Location
from dashboards_as_code.kinds.base import Kind
from dashboards_as_code.lint.checks.kind_references import CHECK
from dashboards_as_code.render.documents import Documents
from tests.lint.builders import findings


class _Strict(Kind):
    """A kind that finds every dashboard without a description wrong (one finding per dashboard)."""

    name: ClassVar[str] = "strict"
    order: ClassVar[int] = 90

    def references(self, documents: Documents) -> Iterator[tuple[Location, str]]:
        for board in documents.dashboards:
            yield Location(file=board.definition.source, dashboard=board.uid), "wants a description"


def test_the_project_s_own_kinds_find_nothing_wrong(overview: DashboardDefinition) -> None:
    assert findings(CHECK, overview) == []


def test_a_kind_s_reference_rules_are_run_and_the_kind_named(overview: DashboardDefinition) -> None:
    kind = _Strict()
    kinds.register(kind)
    try:
        result = findings(CHECK, overview)
    finally:
        kinds.unregister(kind)
    assert [(f.check, f.message, f.location.dashboard) for f in result] == [
        ("kind-references", "strict: wants a description", overview.uid)
    ]
