"""What Grafana sends: variables filled in, `$__interval` and `$__rate_interval` sized as Grafana does.

`doctor` must run the query Grafana runs, or it diagnoses a query nobody sends; the lint checks
parse what Prometheus and Loki receive, with every interval as one literal duration. The interval rules
follow Grafana's documentation for Prometheus ("$__rate_interval": max($__interval + scrape interval,
4 x scrape interval)) and its interval rounding table; the scrape interval is the one Prometheus
reports, which is what the datasource's `timeInterval` should say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from dashboards_as_code.defaults import GRAFANA_INTERVAL_VARIABLES

ROUNDING = (
    (0.01, 0.001), (0.015, 0.01), (0.035, 0.02), (0.075, 0.05), (0.15, 0.1), (0.35, 0.2), (0.75, 0.5),
    (1.5, 1), (3.5, 2), (7.5, 5), (12.5, 10), (17.5, 15), (25, 20), (45, 30),
    (90, 60), (210, 120), (450, 300), (750, 600), (1050, 900), (1500, 1200), (2700, 1800),
    (5400, 3600), (9000, 7200), (16200, 10800), (32400, 21600), (86400, 43200),
    (604800, 86400), (1814400, 604800), (3628800, 2592000),
)  # fmt: skip
"""(below, use): Grafana's `roundInterval` steps, in seconds (`rangeutil.ts`, a strict `<`: a value on a
step boundary takes the larger step). From 6 weeks on, one year."""
BEYOND_ROUNDING_S = 31536000

SCREEN_WIDTH_PX = 1600
"""Grafana sets maxDataPoints to the panel's width in pixels; `doctor` assumes a 1,600 px wide dashboard."""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_RELATIVE = re.compile(r"now-(\d+[smhdwy])")


def parse_duration(text: str) -> float:
    """`1m30s` -> 90.0 (Prometheus' duration syntax); ValueError for anything else."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(float(n) * _SECONDS[u] for n, u in parts)


def round_interval(seconds: float) -> float:
    for below, use in ROUNDING:
        if seconds < below:
            return use
    return BEYOND_ROUNDING_S


def range_seconds(time_from: str) -> float:
    """`now-6h` -> 21600; anything Grafana allows that is not relative to now falls back to one hour."""
    match = _RELATIVE.fullmatch(time_from.strip())
    return parse_duration(match.group(1)) if match else 3600.0


def duration(seconds: float) -> str:
    """A PromQL/LogQL duration: whole seconds, or milliseconds below one second."""
    return f"{round(seconds)}s" if seconds >= 1 else f"{round(seconds * 1000)}ms"


def builtin_intervals(range_s: float, scrape_s: float, panel_width: int) -> dict[str, str]:
    """`$__interval`, `$__rate_interval`, `$__range` and `$__auto` for one panel."""
    max_data_points = max(1, round(SCREEN_WIDTH_PX * panel_width / 24))
    interval = max(scrape_s, round_interval(range_s / max_data_points))
    rate = max(interval + scrape_s, 4 * scrape_s)
    return {
        "$__rate_interval": duration(rate),
        "$__interval": duration(interval),
        "$__range": duration(range_s),
        "$__auto": duration(interval),
    }


_REGEX_SPECIAL = re.compile(r"[$^*{}\[\]'+?.()|]")


def regex_escape(value: str) -> str:
    """Grafana's escaping of a multi-value or All-able variable's value inside a PromQL/LogQL regex string."""
    return _REGEX_SPECIAL.sub(lambda m: "\\\\" + m.group(0), value.replace("\\", "\\\\\\\\"))


ALL_SELECTED = "$__all"
"""The value Grafana saves for a selection of All."""


def opening_value(variable: Mapping[str, Any], values: Sequence[str]) -> str:
    """What a query gets for `variable` when the dashboard opens, given the values its query returns.

    A variable that offers All opens on All (its saved `current`): the custom All value, or `.*` for
    "every value" (Grafana would send them as an alternation; `.*` selects the same series). One
    without All opens on its saved value if that is still a value of its query, else on the first
    value (Grafana's `MultiValueVariable` validation picks `options[0]`), else on '' (no value at
    all: Grafana's own empty selection). Of several saved values Grafana keeps those still among the
    query's values, in the saved order, and doctor diagnoses the first of them. A saved selection that
    starts with All (`$__all`: Grafana reads the whole selection as All) on a variable without All
    opens on the first value, as Grafana validates it. A multi-value variable's value is
    regex-escaped, as Grafana escapes it for the `=~` matcher it lands in.
    """
    if variable.get("includeAll"):
        return str(variable.get("allValue") or ".*")
    saved = (variable.get("current") or {}).get("value")
    selected = saved if isinstance(saved, list) else [saved]
    saved_all = bool(selected) and selected[0] == ALL_SELECTED
    kept = [value for value in selected if isinstance(value, str) and value in values and not saved_all]
    value = kept[0] if kept else (values[0] if values else "")
    return regex_escape(value) if value and variable.get("multi") else value


def literal_intervals(duration: str) -> dict[str, str]:
    """Every built-in interval variable as the same duration: enough to parse a query."""
    return dict.fromkeys(GRAFANA_INTERVAL_VARIABLES, duration)


def substitute(expr: str, builtins: Mapping[str, str], variables: Mapping[str, str]) -> str:
    """`expr` with built-ins first (`$__rate_interval` before `$__interval`), then `$name` / `${name}`."""
    for name in sorted(builtins, key=len, reverse=True):
        expr = expr.replace("${" + name[1:] + "}", builtins[name]).replace(name, builtins[name])
    for name, value in variables.items():
        pattern = r"\$\{" + re.escape(name) + r"(?::\w+)?\}|\$" + re.escape(name) + r"\b"
        expr = re.sub(pattern, value.replace("\\", "\\\\"), expr)
    return expr
