"""Grafana's interval and variable math at its edges: what each docstring of `dashboards_as_code.grafana_math`
promises at 0, at 1, below the first step, at the scrape-interval floor, for a saved value that is not
there, and for a value that carries backslashes into the query Grafana sends."""

from __future__ import annotations

import pytest

from dashboards_as_code.defaults import GRAFANA_INTERVAL_VARIABLES
from dashboards_as_code.grafana_math import (
    builtin_intervals,
    duration,
    literal_intervals,
    opening_value,
    regex_escape,
    round_interval,
    substitute,
)


def test_one_second_is_written_in_whole_seconds() -> None:
    """'whole seconds, or milliseconds below one second': one second itself is `1s`."""
    assert duration(1) == "1s"
    assert duration(0.999) == "999ms"


def test_an_interval_below_ten_milliseconds_rounds_to_one_millisecond() -> None:
    """Grafana's first rounding step: anything under 10 ms is 1 ms."""
    assert round_interval(0.005) == 0.001
    assert round_interval(0.012) == 0.01


def test_the_interval_never_drops_below_the_scrape_interval() -> None:
    """A 5-minute view over 1,600 points would be 0.2 s; Grafana's floor is the scrape interval."""
    intervals = builtin_intervals(300, 60, 24)
    assert intervals["$__interval"] == "60s"
    assert intervals["$__auto"] == "60s"
    assert intervals["$__rate_interval"] == "240s"


def test_a_panel_of_no_width_still_asks_for_one_data_point() -> None:
    """maxDataPoints is at least one: a zero-width panel gets the whole range as its interval."""
    intervals = builtin_intervals(3600, 15, 0)
    assert intervals["$__interval"] == "3600s"
    assert intervals["$__range"] == "3600s"


def test_the_longer_built_in_name_is_replaced_before_its_prefix() -> None:
    """Built-ins go longest first, so `$__interval` never eats the start of `$__interval_ms`."""
    builtins = {"$__interval": "1m", "$__interval_ms": "60000"}
    assert substitute("x[$__interval] / $__interval_ms", builtins, {}) == "x[1m] / 60000"


def test_a_regex_escaped_value_keeps_every_backslash_in_the_query() -> None:
    """The value Grafana sends for `a.b` in a `=~` matcher is `a\\\\.b`: substitution adds nothing, drops
    nothing."""
    value = regex_escape("a.b")
    assert value == "a\\\\.b"
    sent = substitute('x{tenant_id=~"$tenant"}', {}, {"tenant": value})
    assert sent == 'x{tenant_id=~"a\\\\.b"}'


def test_a_literal_backslash_in_a_value_reaches_the_query_as_is() -> None:
    assert substitute("x{path=~'$p'}", {}, {"p": "C:\\\\temp"}) == "x{path=~'C:\\\\temp'}"


def test_every_built_in_gets_the_literal_duration() -> None:
    """`literal_intervals` fills in every built-in interval variable, `$__auto` included."""
    builtins = literal_intervals("5m")
    assert set(builtins) == set(GRAFANA_INTERVAL_VARIABLES)
    for name in GRAFANA_INTERVAL_VARIABLES:
        assert substitute(f"rate(x[{name}])", builtins, {}) == "rate(x[5m])", name


def test_a_variable_saved_without_a_current_value_opens_on_its_first_value() -> None:
    """A dashboard JSON may carry `"current": null`: the variable opens on the first value."""
    variable = {"name": "tenant", "current": None, "multi": False, "includeAll": False}
    assert opening_value(variable, ["acme", "globex"]) == "acme"


def test_a_multi_value_variable_with_nothing_selected_opens_on_the_first_value() -> None:
    variable = {"name": "tenant", "current": {"value": []}, "multi": True, "includeAll": False}
    assert opening_value(variable, ["a.b", "globex"]) == "a\\\\.b"


def test_a_duration_of_a_fraction_above_one_second_is_rounded_to_the_nearest_second() -> None:
    """'whole seconds': Grafana rounds `$__range` to the nearest second (`math.Round` in its Prometheus
    backend), so 59.7 s is sent as `60s`, never cut down to `59s`."""
    assert duration(59.7) == "60s"
    assert duration(90.4) == "90s"
    assert duration(0.0994) == "99ms"


def test_a_single_value_variable_without_all_opens_on_its_value_unescaped() -> None:
    """Grafana regex-escapes a value only for a multi-value or All-able variable (it lands in `=~`);
    a single-value one without All is sent as written (`tenant_id="a.b"` must stay `a.b`, not `a\\\\.b`)."""
    variable = {"name": "tenant", "current": {"value": "a.b"}, "multi": False, "includeAll": False}
    assert opening_value(variable, ["c", "a.b"]) == "a.b"
    assert opening_value({"name": "tenant", "current": None}, ["x+y"]) == "x+y"


@pytest.mark.parametrize(
    ("range_s", "scrape_s", "panel_width", "interval"),
    [
        # Loki (doctor's floor is 1 s): 45 min over 1,600 points is 1.6875 s, < 3.5 s and >= 1.5 s: 2 s.
        pytest.param(45 * 60, 1, 24, "2s", id="loki-45m-full-width"),
        # 15 min over an 8-column panel's 533 points is 1.689 s: 2 s.
        pytest.param(15 * 60, 1, 8, "2s", id="loki-15m-third-width"),
        # Prometheus scraped each 15 s: 470 min over 1,600 points is 17.625 s, < 25 s and >= 17.5 s: 20 s.
        pytest.param(470 * 60, 15, 24, "20s", id="prometheus-470m-full-width"),
    ],
)
def test_a_raw_interval_just_above_a_step_boundary_takes_the_larger_step(
    range_s: float, scrape_s: float, panel_width: int, interval: str
) -> None:
    """Grafana's `calculateInterval` rounds the raw interval (range / maxDataPoints, a fraction of a
    second as often as not) with `roundInterval`, then floors it at the minimum interval. A raw 1.69 s
    lies past the 1.5 s boundary, so Grafana sends `2s`; 17.6 s lies past 17.5 s, so `20s`. Cutting
    the raw value to whole seconds first (1 s, 17 s) would round to the step below, and `doctor` would
    diagnose `count_over_time(...[1s])` or `rate(...[15s])`, queries Grafana never sends."""
    intervals = builtin_intervals(range_s, scrape_s, panel_width)
    assert intervals["$__interval"] == interval
    assert intervals["$__auto"] == interval


GRAFANAS_ROUND_INTERVAL_MS = [
    (10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
    (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000),
    (90000, 60000), (210000, 120000), (450000, 300000), (750000, 600000), (1050000, 900000),
    (1500000, 1200000), (2700000, 1800000), (5400000, 3600000), (9000000, 7200000),
    (16200000, 10800000), (32400000, 21600000), (86400000, 43200000), (604800000, 86400000),
    (1814400000, 604800000), (3628800000, 2592000000),
]  # fmt: skip
"""Grafana's `roundInterval` (packages/grafana-data/src/datetime/rangeutil.ts), case by case in ms:
`case interval < BELOW: return USE`, and one year past the last case. Written from Grafana's source,
not from the module's table."""


@pytest.mark.parametrize(("below_ms", "use_ms"), GRAFANAS_ROUND_INTERVAL_MS, ids=str)
def test_every_step_of_grafanas_rounding_holds_just_below_its_boundary(below_ms: int, use_ms: int) -> None:
    """Just under each boundary the step is Grafana's for that case; on the boundary (a strict `<`) the
    next case's. E.g. a raw interval of 44.9 s is `$__interval=30s`, 45 s is `1m`."""
    steps = [use for _below, use in GRAFANAS_ROUND_INTERVAL_MS]
    index = steps.index(use_ms)
    following = steps[index + 1] if index + 1 < len(steps) else 365 * 86400 * 1000
    assert round_interval((below_ms - 0.5) / 1000) == pytest.approx(use_ms / 1000)
    assert round_interval(below_ms / 1000) == pytest.approx(following / 1000)
