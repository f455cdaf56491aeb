import pytest

from engine.lint.checks.panel_unit import CHECK
from tests.lint.builders import board, check, context, document, findings, panel, raw


def test_overview_units_fit(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(CHECK, overview) == []


@pytest.mark.parametrize(
    ("title", "unit", "reason"),
    [
        ("Latency P50 / P95 / P99", "ms", "a quantile of a histogram in s"),
        ("Error rate", "reqps", "a ratio of one series to itself"),
        ("Request rate per route", "s", "a recorded per-second rate"),
        (
            "Active WhatsApp sessions",
            "percentunit",
            "the unit of tenant_id:tiktickets_whatsapp_sessions_active:sum",
        ),
    ],
)
def test_changed_unit_is_caught(overview, title: str, unit: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    lint = context(overview)
    target = next(p for p in document(lint, overview)["panels"] if p["title"] == title)
    target["fieldConfig"]["defaults"]["unit"] = unit
    result = check(CHECK, lint)
    assert result and all(f.location.panel == title for f in result)
    assert f"unit {unit!r} does not fit query A: it returns {reason}" in result[0].message


def test_raw_queries_are_checked_too() -> None:
    assert (
        findings(CHECK, board(panel("Sessions", expr=raw("sum(tiktickets_whatsapp_sessions_active)")))) == []
    )
    quantile = raw(
        "histogram_quantile(0.9, sum by (le) (rate(traces_span_metrics_duration_seconds_bucket[5m])))"
    )
    (finding,) = findings(CHECK, board(panel("Raw latency", expr=quantile)))  # test panels claim `short`
    assert "unit 'short' does not fit query A: it returns a quantile of a histogram in s" in finding.message
