import pytest

from machinery.lint.rules.panel_unit import RULE
from tests.lint.builders import board, check, context, findings, panel, raw


def test_overview_units_fit(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(RULE, overview) == []


@pytest.mark.parametrize(
    ("title", "unit", "reason"),
    [
        ("Latency P50 / P95 / P99", "ms", "a quantile of a histogram in s"),
        ("Error rate", "reqps", "a ratio of one signal to itself"),
        ("Request rate per route", "s", "a per-second rate"),
        ("Active WhatsApp sessions", "percentunit", "the signal's unit short"),
    ],
)
def test_changed_unit_is_caught(overview, title: str, unit: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    lint = context(overview)
    target = next(p for p in lint.document(overview)["panels"] if p["title"] == title)
    target["fieldConfig"]["defaults"]["unit"] = unit
    result = check(RULE, lint)
    assert result and all(f.location.panel == title for f in result)
    assert f"unit {unit!r} does not fit query A: it returns {reason}" in result[0].message


def test_gauge_panel_in_per_second_unit() -> None:
    definition = board(panel("Sessions", expr=raw("sum(tiktickets_whatsapp_sessions_active)")))
    assert findings(RULE, definition) == []  # the builder panel is in `short`
