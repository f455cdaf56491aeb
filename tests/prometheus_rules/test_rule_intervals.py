"""A rule group runs at least twice per Prometheus lookback, or the project does not load.

An alert or panel reading a recorded series (or ALERTS) sees its newest sample only while that
sample is younger than the lookback; a group at the lookback or near it leaves its readers with
nothing whenever an evaluation is late or missed, and an alert's `for` starts over (the ticket alerts
at 5 m never fired). The bound is derived from LOOKBACK_DELTA, not written down here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dashboards_as_code.definitions.prometheus_rule import LOOKBACK_DELTA, RuleGroup
from dashboards_as_code.grafana_math import parse_duration
from tests.prometheus.rules import rendered_rules
from tests.test_cli import assert_clean_error, run

LOOKBACK = round(parse_duration(LOOKBACK_DELTA))


def _text(seconds: int) -> str:
    return f"{seconds}s"


@pytest.mark.parametrize("seconds", [LOOKBACK // 2 + LOOKBACK % 2, LOOKBACK, 2 * LOOKBACK])
def test_a_group_at_half_the_lookback_or_more_is_refused(seconds: int) -> None:
    with pytest.raises(ValidationError) as refused:
        RuleGroup(name="slow", interval=_text(seconds))
    message = str(refused.value)
    assert f"{LOOKBACK_DELTA} lookback" in message and f"interval of {_text(seconds)}" in message, message
    # The advice names the real bound, half the lookback (5m: below 2m30s), not the lookback itself.
    half = LOOKBACK / 2
    bound = f"{int(half // 60)}m" + (f"{half % 60:g}s" if half % 60 else "")
    assert f"an interval below {bound}" in message, message


def test_a_group_just_under_half_the_lookback_is_accepted() -> None:
    seconds = (LOOKBACK - 1) // 2
    assert RuleGroup(name="fast", interval=_text(seconds)).interval == _text(seconds)


def test_the_rule_file_prometheus_loads_runs_every_group_twice_per_lookback() -> None:
    """What reaches Prometheus, whatever path the interval took to get there."""
    for group in rendered_rules()["groups"]:
        assert 2 * parse_duration(group["interval"]) < LOOKBACK, group["name"]


def test_check_names_the_definition_and_the_bound(project_copy: Path) -> None:
    """The SRE who slows a group down to the lookback learns it from `check`, at the line that did it."""
    slo = project_copy / "prometheus_rules" / "slo.py"
    source = slo.read_text()
    slowed = source.replace('LONG_EVERY = "1m"', f'LONG_EVERY = "{LOOKBACK_DELTA}"')
    assert slowed != source, "prometheus_rules/slo.py no longer sets LONG_EVERY: update this test's edit"
    slo.write_text(slowed)
    assert_clean_error(
        run("check", "--project", str(project_copy)),
        2,
        "prometheus_rules/slo.py:",
        f"interval of {LOOKBACK_DELTA} is too long",
        f"{LOOKBACK_DELTA} lookback",
    )
