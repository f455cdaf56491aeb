"""Every number and name an alert's summary and description state is the rule's own.

The on-call person acts on the text, not on the expression: "nothing sent for 5 minutes", "the SLO
allows 0.50% over 30 days", "at least 3 tenants", "burning fast", "(TikTicketsCollectorQueueFull)",
"monitoring/prometheus/prometheus.yml", "{{ $labels.exporter }}". Each is read here from the text and
held to what it describes (the rule's `for`, the windows its expression and the recorded series it
reads, its comparisons, the SLO period, the dashboards' default range, the rule file's alerts, the
repository's files, the labels the expression's result carries), for every alert the definitions
render: a new alert's text is checked the day it is written.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import promql_parser
import pytest

from dashboards_as_code.defaults import DASHBOARD_TIME_FROM
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.promql import tree
from dashboards_as_code.promql.series_catalog import build_catalog
from prometheus_rules.slo import SLO_PERIOD
from tests import stated
from tests.conftest import REPO
from tests.prometheus.rules import rendered_rules

RULE_FILE: dict[str, Any] = rendered_rules()
RULES = [rule for group in RULE_FILE["groups"] for rule in group["rules"]]
ALERTS = [rule for rule in RULES if "alert" in rule]
RECORDED: dict[str, list[str]] = {}
for _rule in RULES:
    if "record" in _rule:
        RECORDED.setdefault(_rule["record"], []).append(_rule["expr"])
_PROJECT = load_project(REPO)
CATALOG = {name: info.labels for name, info in build_catalog(_PROJECT.contract, _PROJECT.rule_groups).items()}
OTEL_NAMES = {signal.otel_name: set(signal.series_names) for signal in _PROJECT.contract.metrics}
"""A contract metric's OTel name (`traces.span.metrics.calls`) -> its Prometheus series."""

DEFAULT_RANGE = stated.seconds(DASHBOARD_TIME_FROM.removeprefix("now-"))
PERIOD = stated.seconds(SLO_PERIOD)
WITHIN_DAYS = 7 * 86400.0
""""Gone within days": a budget spent in under a week. The SRE workbook's page pairs (14.4x, 6x) spend
a 30-day budget in 2 and 5 days; its ticket (1x) in the whole period."""


def _id(rule: dict[str, Any]) -> str:
    return f"{rule['alert']}-{rule['labels'].get('signal', '')}".rstrip("-")


def texts(rule: dict[str, Any]) -> str:
    return f"{rule['annotations']['summary']}\n{rule['annotations']['description']}"


def held_for(rule: dict[str, Any]) -> float:
    return stated.seconds(rule.get("for", "0s"))


def allowed_durations(rule: dict[str, Any]) -> dict[str, set[float]]:
    """What a duration in the text may be, by how the text introduces it.

    - `the last N` / `in the last N`: a window the condition reads (its own range vectors and those of
      the recorded series it reads).
    - `for N`: how long the condition has held when the alert fires. With no window (`up == 0`) that
      is the rule's `for`; with a window it is the window itself (the condition says "no data for
      10m") or the window then held for `for` (a 2m rate of zero held 3m: "nothing sent for 5 minutes").
    - in parentheses after `range`: the range a dashboard opens on (DASHBOARD_TIME_FROM).
    - any other (`over 30 days`, `the 30 days`): the SLO period where the text speaks of an SLO or
      a budget, else any of the above.
    """
    windows = stated.windows(rule["expr"], RECORDED)
    hold = held_for(rule)
    held = {w + hold for w in windows} | windows if windows else {hold}
    slo = {PERIOD} if re.search(r"\bSLO\b|budget", texts(rule)) else set()
    return {
        "last": windows,
        "for": held,
        "range": {DEFAULT_RANGE},
        "other": windows | held | {hold} | slo,
    }


def _kind(before: str) -> str:
    if re.search(r"\blast\s*$", before):
        return "last"
    if re.search(r"\bfor\s*$", before):
        return "for"
    if re.search(r"\brange\s*\(\s*$", before):
        return "range"
    return "other"


@pytest.mark.parametrize("rule", ALERTS, ids=_id)
def test_every_duration_an_alert_states_is_one_the_rule_has(rule: dict[str, Any]) -> None:
    allowed = allowed_durations(rule)
    wrong = []
    for field in ("summary", "description"):
        text = stated.without_templates(rule["annotations"][field])
        rate_units = {match.end(1) for match in stated.RATE_UNIT.finditer(text)}
        for duration in stated.stated_durations(text):
            if duration.end in rate_units:
                continue
            kind = _kind(duration.before)
            if duration.seconds not in allowed[kind]:
                wrong.append(f"{field}: {duration.words!r} ({kind}) is none of {sorted(allowed[kind])} s")
    assert wrong == [], f"{rule['alert']}: {wrong}"


@pytest.mark.parametrize("rule", ALERTS, ids=_id)
def test_every_threshold_an_alert_states_is_its_expressions(rule: dict[str, Any]) -> None:
    """A number the text compares with ("at least 3", "more than 1%", "100+ requests an hour", "half of
    it", "allows 0.50%") is a comparison the expression makes; a rate stated per hour is the per-second
    rate multiplied by 3600; and every other percentage is a threshold of the expression."""
    text = stated.without_templates(texts(rule))
    comparisons = stated.comparisons(rule["expr"])
    wrong = [
        f"{words!r} is none of the expression's comparisons {sorted(comparisons)}"
        for words, wanted in stated.stated_thresholds(text)
        if not wanted & comparisons
    ]
    literals = stated.literals(rule["expr"])
    for match in stated.RATE_UNIT.finditer(text):
        scale = stated.UNIT_SECONDS[match.group(1)]
        if scale != 1 and scale not in literals:
            wrong.append(f"{match.group(0)!r}: the expression does not scale a per-second rate by {scale:g}")
    thresholds = {value for _, value in comparisons}
    for match in re.finditer(r"(\d+(?:\.\d+)?)\s?%", text):
        if stated.percent(match.group(1)) not in thresholds:
            wrong.append(f"{match.group(0)!r} is no threshold of the expression {sorted(thresholds)}")
    assert wrong == [], f"{rule['alert']}: {wrong}"


def burn_pairs(expr: str) -> list[tuple[float, float]]:
    """Each multi-window burn condition, `long > (F * budget) and short > (F * budget)`, as (F, its long
    window: the longest any of its ratios reads)."""
    pairs: dict[float, float] = {}
    for node, _ in tree.walk(tree.parse(expr)):
        if not (isinstance(node, promql_parser.BinaryExpr) and str(node.op) == ">"):
            continue
        numbers = sorted(stated.threshold_numbers(node.rhs))
        if len(numbers) != 2:  # a burn threshold is a factor times a budget
            continue
        budget = min(numbers)
        factor = max(numbers)
        lhs = str(node.lhs)
        found = stated.windows(lhs, RECORDED)
        if found and 0 < budget < 1:
            pairs[factor] = max(pairs.get(factor, 0.0), *found)
    return sorted(pairs.items())


@pytest.mark.parametrize("rule", ALERTS, ids=_id)
def test_a_pace_word_agrees_with_the_burn_rates(rule: dict[str, Any]) -> None:
    """ "fast" (and "the whole budget is gone within days") only where every burn condition spends the
    SLO's whole budget within days (period / factor under a week) and reads hours, not days (its long
    window shorter than a day: the page pairs 1h/5m and 6h/30m); "steadily" only where the burn
    spends it in a week or more but within the period (factor >= 1) and the long window is days (the
    ticket's 3d/6h). Derived from the expression's factors and windows, never from the alert's name."""
    text = stated.without_templates(texts(rule))
    pairs = burn_pairs(rule["expr"])
    if re.search(r"\bfast\b|\bfast-burn\b|within days", text):
        assert pairs, f"{rule['alert']} says fast but has no burn-rate condition"
        assert all(PERIOD / factor < WITHIN_DAYS and window < 86400 for factor, window in pairs), (
            rule["alert"],
            pairs,
        )
    if re.search(r"\bsteadily\b|\bslowly\b|will not last", text):
        assert pairs, f"{rule['alert']} says steadily but has no burn-rate condition"
        assert all(
            WITHIN_DAYS <= PERIOD / factor <= PERIOD and window >= 86400 for factor, window in pairs
        ), (
            rule["alert"],
            pairs,
        )


ALERT_NAMES = {rule["alert"] for rule in ALERTS}
_FIRST, _LAST = min(ALERT_NAMES), max(ALERT_NAMES)
_SHARED = next((i for i, (a, b) in enumerate(zip(_FIRST, _LAST, strict=False)) if a != b), len(_FIRST))
PREFIX = re.escape(_FIRST[:_SHARED])
"""What every alert's name starts with (`TikTickets`): a word starting so and going on in capitals
names an alert."""
FILE_PATH = re.compile(r"(?<![\w/.:])((?:[\w.-]+/)+[\w.-]+\.[a-z]{1,4})\b")
"""`monitoring/prometheus/prometheus.yml`, `telemetry/contract.py`: a path with a folder and an extension."""


@pytest.mark.parametrize("rule", ALERTS, ids=_id)
def test_every_alert_file_and_heading_an_alert_names_exists(rule: dict[str, Any]) -> None:
    """The text sends the reader somewhere: to another alert (`(TikTicketsCollectorQueueFull)`, a
    pattern `TikTicketsTenant*BudgetBurn` too), to a file of this repository, to a heading of a
    Markdown file named before it in quotes. Each must be there."""
    text = stated.without_templates(texts(rule))
    wrong = [
        name for name in re.findall(rf"\b{PREFIX}[A-Z][\w*]*", text) if not fnmatch.filter(ALERT_NAMES, name)
    ]
    for path in FILE_PATH.findall(text):
        if not (REPO / path).exists():
            wrong.append(path)
        elif path.endswith(".md"):
            for heading in re.findall(rf"{re.escape(path)}, \"([^\"]+)\"", text):
                headings = {
                    line.lstrip("#").strip()
                    for line in (REPO / path).read_text().splitlines()
                    if line.startswith("#")
                }
                if heading not in headings:
                    wrong.append(f"{path}: {heading}")
    assert wrong == [], f"{rule['alert']} names what does not exist: {wrong}"


@pytest.mark.parametrize("rule", ALERTS, ids=_id)
def test_every_label_and_metric_an_alert_names_is_its_expressions(rule: dict[str, Any]) -> None:
    """`{{ $labels.x }}` prints nothing when the result has no `x` (kept by `by (...)`, or on the
    selected series); a metric the text names (`traces_span_metrics_calls_total`, or its OTel name
    `traces.span.metrics.calls`) must be one the expression reads, directly or through the recorded
    series it reads."""
    labels = stated.result_labels(tree.parse(rule["expr"]), CATALOG)
    named = set(re.findall(r"\$labels\.(\w+)", texts(rule)))
    wrong = [f"$labels.{label}" for label in sorted(named) if labels != stated.ANY and label not in labels]
    selected = stated.selected_series(rule["expr"], RECORDED)
    text = stated.without_templates(texts(rule))
    for word in re.findall(r"[\w.]+", text):
        if word in CATALOG and word not in selected:
            wrong.append(word)
        if word in OTEL_NAMES and not OTEL_NAMES[word] & selected:
            wrong.append(word)
    assert wrong == [], f"{rule['alert']} names what its result has not ({sorted(labels)}): {wrong}"
