"""Which group records each SLO window: the windows up to an hour every 30 s, the longer ones every
minute.

The fast-burn page reads the 1 h and 5 m error and latency ratios (the SRE workbook's 14.4x pair):
recorded every 30 s, a burn that starts now pages within minutes. Moved to the minute group, the 1 h
ratio lags a further 30 s behind every evaluation of the page, and nothing else would show it (the
promtool cases fire either way). Written here from the workbook's windows, not from the code's list.
"""

from __future__ import annotations

from dashboards_as_code.grafana_math import parse_duration
from prometheus_rules.slo import SLO_LONG_GROUP, SLO_SHORT_GROUP

UP_TO_AN_HOUR = ("5m", "30m", "1h")
LONGER = ("6h", "3d")
"""The windows of the SRE workbook's three pairs (1h/5m, 6h/30m, 3d/6h), split at one hour."""


def _windows(group_records: tuple[str, ...]) -> set[str]:
    return {record.rpartition("ratio_rate")[2] for record in group_records}


def test_the_windows_up_to_an_hour_are_recorded_every_30s_and_the_longer_ones_every_minute() -> None:
    assert parse_duration(SLO_SHORT_GROUP.interval) == 30
    assert parse_duration(SLO_LONG_GROUP.interval) == 60
    assert _windows(tuple(r.record for r in SLO_SHORT_GROUP.recording)) == set(UP_TO_AN_HOUR)
    assert _windows(tuple(r.record for r in SLO_LONG_GROUP.recording)) == set(LONGER)
    # Both the error and the latency ratio of each window.
    assert len(SLO_SHORT_GROUP.recording) == 2 * len(UP_TO_AN_HOUR)
    assert len(SLO_LONG_GROUP.recording) == 2 * len(LONGER)
