"""Every quantile, window, unit word, threshold and tenant scope a panel's text states is its queries'.

A viewer reads "Latency P50 / P95 / P99", "(30 d)", "per second", "Orange from 1 %, red from 5 %",
"(top 20)" or "for the tenants in $tenant" and believes the lines under it. Each claim is read here
from the title, the description and each query's legend, and held to what the panel really has: the
quantiles `histogram_quantile` computes, the windows its queries (and the recorded series they read)
cover, the unit Grafana will show (dashboards_as_code/units.py), the threshold steps and their colours,
`topk`/`bottomk`'s count, a `tenant_id` matcher on `$tenant` or `tenant_id` kept in the result. Every
panel of every dashboard of the loaded project is checked, so a new panel is held the day it is added;
a claim in words this test does not parse is left alone, a parsed claim that disagrees fails.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pytest

from dashboards_as_code.dashboard_panels import every_panel
from dashboards_as_code.defaults import TENANT_LABEL, TENANT_VARIABLE
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.kinds.dashboard import dashboard_document
from dashboards_as_code.promql import tree
from dashboards_as_code.promql.series_catalog import build_catalog
from dashboards_as_code.units import BUDGET_LEFT, BURN_RATE, MILLISECONDS, PER_SECOND, RATIO, SECONDS
from prometheus_rules.slo import SLO_PERIOD
from telemetry.contract import LATENCY_THRESHOLD_SECONDS
from tests import stated
from tests.conftest import REPO
from tests.prometheus.rules import rendered_rules

_PROJECT = load_project(REPO)
RECORDED: dict[str, list[str]] = {}
for _group in rendered_rules()["groups"]:
    for _rule in _group["rules"]:
        if "record" in _rule:
            RECORDED.setdefault(_rule["record"], []).append(_rule["expr"])
CATALOG = {name: info.labels for name, info in build_catalog(_PROJECT.contract, _PROJECT.rule_groups).items()}
PERIOD = stated.seconds(SLO_PERIOD)
Panel = dict[str, Any]


ROW_OF: dict[tuple[str, int], str] = {}
"""(dashboard uid, panel id) -> the title of the row the panel sits under."""
OTHER_PANELS: list[tuple[str, Panel]] = []
"""The panels whose queries are not PromQL (Loki's logs)."""


def _panels() -> list[tuple[str, Panel]]:
    """Every PromQL panel (Loki's LogQL is another language), with its dashboard's uid; the row each
    sits under goes to ROW_OF (every_panel gives a row, then the panels it holds)."""
    found = []
    for definition in _PROJECT.dashboards:
        row = ""
        for panel in every_panel(dashboard_document(definition)):
            if panel.get("type") == "row":
                row = str(panel.get("title") or "")
                continue
            ROW_OF[definition.uid, panel["id"]] = row
            targets = panel.get("targets") or []
            if targets and all(_is_promql(panel, t) for t in targets):
                found.append((definition.uid, panel))
            elif targets:
                OTHER_PANELS.append((definition.uid, panel))
    return found


def _is_promql(panel: Panel, target: dict[str, Any]) -> bool:
    datasource = target.get("datasource") or panel.get("datasource") or {}
    return bool(target.get("expr")) and datasource.get("type") == "prometheus"


PANELS = _panels()
ALERTS = {
    rule["alert"]: rule for group in rendered_rules()["groups"] for rule in group["rules"] if "alert" in rule
}
ALERT_NAME = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)+\*?(?:[A-Z][a-z]+)*\b")
"""A CamelCase word (`TikTicketsTenant*BudgetBurn`): an alert's name when one matches it."""


def sentences(panel: Panel) -> list[tuple[str, list[str]]]:
    """The panel's title and each sentence of its description, with the expressions its claims are
    about: a sentence naming an alert speaks of that alert's rule ("The tenant's ticket
    (TikTicketsTenant*BudgetBurn) reads the 1h line, at 100+ requests an hour"), any other of the panel's
    queries."""
    found = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n", f"{panel['title']}\n{panel.get('description', '')}"):
        named = [
            ALERTS[name]["expr"]
            for word in ALERT_NAME.findall(sentence)
            for name in fnmatch.filter(ALERTS, word)
        ]
        found.append((stated.without_templates(sentence), named or exprs(panel)))
    return found


def _id(item: tuple[str, Panel]) -> str:
    return f"{item[0]}:{item[1]['title']}"


def text(panel: Panel) -> str:
    return f"{panel['title']}\n{panel.get('description', '')}"


def exprs(panel: Panel) -> list[str]:
    return [target["expr"] for target in panel["targets"]]


def unit(panel: Panel) -> str:
    return str(panel.get("fieldConfig", {}).get("defaults", {}).get("unit") or "")


def steps(panel: Panel) -> list[dict[str, Any]]:
    return list(panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps") or [])


QUANTILE = re.compile(r"\bP(\d{2,3}(?:\.\d+)?)\b")


def _quantile(words: str) -> float:
    """`P99` -> 0.99, `P999` -> 0.999, `P99.9` -> 0.999."""
    digits = words.replace(".", "")
    return float(f"0.{digits}") if "." not in words else float(words) / 100


ALL_QUANTILES = {q for _, panel in PANELS for expr in exprs(panel) for q in stated.quantiles(expr)}


@pytest.mark.parametrize("item", PANELS, ids=_id)
def test_the_quantiles_a_panel_names_are_the_ones_it_computes(item: tuple[str, Panel]) -> None:
    """A title naming quantiles (`Latency P50 / P95 / P99`) names exactly those `histogram_quantile`
    computes; each query's legend `P95` is that query's quantile; a description's `P99` is one this
    panel computes, or (when it points elsewhere: "see the Overview") one another panel does; "Exemplars
    are requested on the P99 query only" names exactly the quantiles of the queries asking exemplars."""
    _, panel = item
    computed = {q for expr in exprs(panel) for q in stated.quantiles(expr)}
    titled = {_quantile(q) for q in QUANTILE.findall(panel["title"])}
    if titled:
        assert titled == computed, f"{panel['title']!r} computes {sorted(computed)}"
    for target in panel["targets"]:
        legend = {_quantile(q) for q in QUANTILE.findall(target.get("legendFormat") or "")}
        if legend:
            assert legend == stated.quantiles(target["expr"]), (target["legendFormat"], target["expr"])
    described = {_quantile(q) for q in QUANTILE.findall(panel.get("description", ""))}
    assert described <= computed | ALL_QUANTILES, f"no panel computes {sorted(described - ALL_QUANTILES)}"
    for sentence in re.split(r"(?<=[.!?])\s+", panel.get("description", "")):
        if re.search(r"exemplars", sentence, re.IGNORECASE) and re.search(r"\bonly\b", sentence):
            named = {_quantile(q) for q in QUANTILE.findall(sentence)}
            asked = {q for t in panel["targets"] if t.get("exemplar") for q in stated.quantiles(t["expr"])}
            if named:
                assert asked == named, f"{sentence!r}, but the queries with exemplars compute {sorted(asked)}"
    if not re.search(r"\bsee the\b", panel.get("description", "")):
        assert described <= computed, (
            f"{panel['title']!r} computes {sorted(computed)}, not {sorted(described)}"
        )


def test_a_quantile_an_alert_names_is_one_a_panel_computes() -> None:
    """`P99 trace links are lost` (the exemplars ticket) is about a panel's P99 and its exemplars: the
    quantile an alert names must be one a panel computes, on a query that requests exemplars when the
    text speaks of trace links."""
    with_exemplars = {
        q
        for _, panel in PANELS
        for target in panel["targets"]
        if target.get("exemplar")
        for q in stated.quantiles(target["expr"])
    }
    alerts = [r for g in rendered_rules()["groups"] for r in g["rules"] if "alert" in r]
    wrong = []
    for rule in alerts:
        words = stated.without_templates(
            f"{rule['annotations']['summary']} {rule['annotations']['description']}"
        )
        for q in QUANTILE.findall(words):
            wanted = with_exemplars if re.search(r"trace", words) else ALL_QUANTILES
            if _quantile(q) not in wanted:
                wrong.append(f"{rule['alert']}: P{q}")
    assert wrong == [], f"panels compute {sorted(ALL_QUANTILES)}, with exemplars {sorted(with_exemplars)}"


def _windows(panel: Panel) -> set[float]:
    return {w for expr in exprs(panel) for w in stated.windows(expr, RECORDED)}


LATENCY_WORDS = re.compile(r"\b(?:at most|within|over|under|above|below)\s*$")


@pytest.mark.parametrize("item", PANELS, ids=_id)
def test_every_duration_a_panel_states_is_a_window_it_reads(item: tuple[str, Panel]) -> None:
    """`(30 d)`, `over the last hour`, `(hourly averages)`, a legend `6h`: a window the panel's queries
    read (their range vectors, subqueries, and those of the recorded series they read), a row's title
    (`Burning their error budget fastest (last hour)`) of every panel under it; in a text about
    an SLO or its budget, the SLO period; after `at most`/`within` and in seconds, the latency threshold
    a request is held to (an `le` bucket the query reads, or the contract's)."""
    _, panel = item
    windows = _windows(panel) | {
        w for _, about in sentences(panel) for e in about for w in stated.windows(e, RECORDED)
    }
    allowed = windows | ({PERIOD} if re.search(r"\bSLO\b|budget", text(panel)) else set())
    les = {
        float(value)
        for expr in exprs(panel)
        for selector in tree.vector_selectors(stated.parse(expr))
        for label, _, value in tree.matchers(selector)
        if label == "le"
    }
    latency = les | {float(LATENCY_THRESHOLD_SECONDS)}
    wrong = []
    words = stated.without_templates(text(panel))
    rate_units = {match.end(1) for match in stated.RATE_UNIT.finditer(words)}
    for duration in stated.stated_durations(words):
        if duration.end in rate_units:
            continue
        if LATENCY_WORDS.search(duration.before) and duration.seconds < 60:
            if duration.seconds not in latency:
                wrong.append(f"{duration.words!r}: the latency threshold is {sorted(latency)} s")
        elif duration.seconds not in allowed:
            wrong.append(f"{duration.words!r} is none of the windows {sorted(allowed)} s")
    for duration in stated.stated_durations(ROW_OF.get((item[0], panel["id"]), "")):
        if duration.seconds not in _windows(panel):
            wrong.append(f"row {duration.words!r} is none of the windows {sorted(_windows(panel))} s")
    for target in panel["targets"]:
        for duration in stated.stated_durations(target.get("legendFormat") or ""):
            read = stated.windows(target["expr"], RECORDED)
            if duration.seconds not in read:
                wrong.append(f"legend {duration.words!r} is none of its query's windows {sorted(read)} s")
    assert wrong == [], f"{panel['title']!r}: {wrong}"


UNIT_WORDS: list[tuple[re.Pattern[str], str, tuple[str, ...]]] = [
    (re.compile(r"\bper second\b|/s\b"), "per second", tuple(u for u in PER_SECOND.units if u != "short")),
    (re.compile(r"\bin seconds\b"), "in seconds", SECONDS.units),
    (re.compile(r"\bin milliseconds\b|\bin ms\b"), "in milliseconds", MILLISECONDS.units),
    (re.compile(r"\bburn rate\b", re.IGNORECASE), "burn rate", BURN_RATE.units),
    (re.compile(r"\bbudget left\b", re.IGNORECASE), "budget left", BUDGET_LEFT.units),
]
"""A unit word anywhere in the title or description, and the Grafana units that show that quantity as
the words say it: `per second` a unit Grafana prints with `/s` (`short` prints a bare number)."""
RATIO_TITLE = re.compile(r"\b(?:share|ratio)\b|%", re.IGNORECASE)
"""A title naming a share (`Share of all requests`, `Error ratio`): a ratio from 0 to 1."""


@pytest.mark.parametrize("item", PANELS, ids=_id)
def test_the_unit_a_panel_names_is_the_unit_grafana_shows(item: tuple[str, Panel]) -> None:
    """`per second` is a per-second unit (and the query reads a rate: a window), `in seconds` seconds
    (not `ms`: a thousand times off), a burn rate a bare number, a budget left and a share in the title
    `percentunit`: the words and the unit Grafana prints beside the number must say the same."""
    _, panel = item
    words = stated.without_templates(text(panel))
    wrong = [
        f"{name!r} but unit {unit(panel)!r} (one of {units})"
        for pattern, name, units in UNIT_WORDS
        if pattern.search(words) and unit(panel) not in units
    ]
    if (
        re.search(r"\bper second\b", words)
        and not _windows(panel)
        and not any("rate" in e for e in exprs(panel))
    ):
        wrong.append("'per second' but no query reads a rate")
    burn = re.search(r"\bburn rate\b", panel["title"], re.IGNORECASE)
    if RATIO_TITLE.search(panel["title"]) and not burn and unit(panel) not in RATIO.units + BUDGET_LEFT.units:
        wrong.append(f"a share in the title but unit {unit(panel)!r}")
    assert wrong == [], f"{panel['title']!r}: {wrong}"


COLOUR = r"(green|orange|red|yellow|blue)"
NUMBER = r"(\d+(?:\.\d+)?|zero)\s?(%?)"


def _value(number: str, percent: str, panel: Panel) -> float:
    """A number as the panel's thresholds hold it: a percentage of a `percentunit` panel as a ratio."""
    value = 0.0 if number == "zero" else float(number)
    return value / 100 if percent and unit(panel) == "percentunit" else value


def _colour_at(panel: Panel, value: float) -> str | None:
    """The colour Grafana gives `value`: the last step at or below it (the base step has no value)."""
    colour = None
    for step in steps(panel):
        if step.get("value") is None or float(step["value"]) <= value:
            colour = step["color"]
    return colour


@pytest.mark.parametrize("item", PANELS, ids=_id)
def test_every_threshold_a_panel_states_is_its_own(item: tuple[str, Panel]) -> None:
    """`Orange from 1 %` and `14.4 (red)` are a step starting at that value in that colour; `red at
    zero` the colour Grafana gives that value; `Dashed` needs dashed threshold lines; every other
    percentage is a number of the queries or a threshold step; `14.4 x the budget (0.5%)` a level there."""
    _, panel = item
    words = stated.without_templates(panel.get("description", "") + "\n" + panel["title"])
    wrong = []
    starting = re.findall(rf"\b{COLOUR}\s+from\s+{NUMBER}", words, re.IGNORECASE)
    starting += [(c, n, p) for n, p, c in re.findall(rf"{NUMBER}\s*\({COLOUR}\)", words, re.IGNORECASE)]
    for colour, number, percent in starting:
        starts = {(s["color"], float(s["value"])) for s in steps(panel) if s.get("value") is not None}
        if (colour.lower(), _value(number, percent, panel)) not in starts:
            wrong.append(f"{colour} from {number}{percent}: steps {steps(panel)}")
    for colour, number, percent in re.findall(rf"\b{COLOUR}\s+at\s+{NUMBER}", words, re.IGNORECASE):
        if _colour_at(panel, _value(number, percent, panel)) != colour.lower():
            wrong.append(f"{number}{percent} is {colour}: steps {steps(panel)}")
    if re.search(r"\bdashed\b", words, re.IGNORECASE):
        style = panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {}).get("thresholdsStyle", {})
        if "dashed" not in str(style.get("mode", "")):
            wrong.append(f"'dashed' but thresholdsStyle {style}")
    numbers = {n for expr in exprs(panel) for n in stated.literals(expr)}
    numbers |= {float(s["value"]) for s in steps(panel) if s.get("value") is not None}
    for number in re.findall(r"(\d+(?:\.\d+)?)\s?%", words):
        if stated.percent(number) not in numbers and float(number) not in numbers:
            wrong.append(f"{number}% is no number of the queries or thresholds {sorted(numbers)}")
    budgets = [stated.percent(n) for n in re.findall(r"budget \((\d+(?:\.\d+)?)\s?%\)", words)]
    for factor in re.findall(r"(\d+(?:\.\d+)?)\s?x the budget", words):
        levels = {round(float(factor) * budget, 9) for budget in budgets}
        if not levels & {round(n, 9) for n in numbers}:
            wrong.append(f"{factor} x the budget {budgets}: no such level in {sorted(numbers)}")
    assert wrong == [], f"{panel['title']!r}: {wrong}"


@pytest.mark.parametrize("item", PANELS, ids=_id)
def test_every_count_and_floor_a_panel_states_is_its_queries(item: tuple[str, Panel]) -> None:
    """`(top 20)` / `bottom 20` / `the 20 busiest` is topk's or bottomk's count; `100+ requests an hour`
    is a `>= 100` on a per-second rate times 3600 (of the alert a sentence names, if it names one)."""
    _, panel = item
    words = stated.without_templates(panel.get("description", "") + "\n" + panel["title"])
    wrong = []
    counts = {
        float(str(node.param))
        for expr in exprs(panel)
        for node, _ in tree.walk(stated.parse(expr))
        if str(getattr(node, "op", "")) in ("topk", "bottomk") and getattr(node, "param", None) is not None
    }
    for number in re.findall(r"\b(?:top|bottom|the)\s+(\d+)\b(?:\)|\s+busiest)", words):
        if float(number) not in counts:
            wrong.append(f"{number} is not topk/bottomk's count {sorted(counts)}")
    for sentence, about in sentences(panel):
        comparisons = {c for expr in about for c in stated.comparisons(expr)}
        literals = {n for expr in about for n in stated.literals(expr)}
        for claim, wanted in stated.stated_thresholds(sentence):
            if not wanted & comparisons:
                wrong.append(f"{claim!r} is none of the comparisons {sorted(comparisons)}")
        for match in stated.RATE_UNIT.finditer(sentence):
            scale = stated.UNIT_SECONDS[match.group(1)]
            if scale != 1 and scale not in literals:
                wrong.append(f"{match.group(0)!r}: no query scales a per-second rate by {scale:g}")
    assert wrong == [], f"{panel['title']!r}: {wrong}"


TENANT_FILTER = re.compile(rf"\${{?{TENANT_VARIABLE}\b")


def _filters_on_the_tenant(expr: str) -> bool:
    """Whether some selector of the query keeps only the tenants `$tenant` selects."""
    return any(
        label == TENANT_LABEL and TENANT_FILTER.search(value)
        for selector in tree.vector_selectors(tree.parse(expr, {TENANT_VARIABLE: f"${TENANT_VARIABLE}"}))
        for label, _, value in tree.matchers(selector)
    )


@pytest.mark.parametrize("item", PANELS, ids=_id)
def test_the_tenants_a_panel_says_it_shows_are_the_ones_it_queries(item: tuple[str, Panel]) -> None:
    """`per tenant` / `each tenant` is a result that keeps `tenant_id` (a bar or line per tenant);
    `for the tenants in $tenant` / `this tenant` is every query filtered on `$tenant`; `All tenants` /
    `no tenant_id` / `all routes and tenants` is no query filtered on a tenant and no `tenant_id` kept."""
    _, panel = item
    words = stated.without_templates(text(panel))
    wrong = []
    for expr in exprs(panel):
        labels = stated.result_labels(stated.parse(expr), CATALOG)
        keeps = labels == stated.ANY or TENANT_LABEL in labels
        if re.search(r"\bper tenant\b|\beach tenant\b", words, re.IGNORECASE) and not keeps:
            wrong.append(f"per tenant, but the result keeps {sorted(labels)}: {expr}")
        if re.search(
            r"tenants? (?:selected )?in \$tenant|\bthis tenant\b", words
        ) and not _filters_on_the_tenant(expr):
            wrong.append(f"the tenants in $tenant, but no tenant filter: {expr}")
        if re.search(r"\ball tenants\b|\bno tenant_id\b|\band tenants\b", words, re.IGNORECASE) and (
            _filters_on_the_tenant(expr) or TENANT_LABEL in labels
        ):
            wrong.append(f"all tenants, but it filters or keeps tenant_id: {expr}")
    assert wrong == [], f"{panel['title']!r}: {wrong}"


_NAMES = sorted(ALERTS)
ALERT_PREFIX = _NAMES[0][
    : next((i for i, (a, b) in enumerate(zip(_NAMES[0], _NAMES[-1], strict=False)) if a != b), 0)
]
"""What every alert's name starts with (`TikTickets`)."""
FILE_PATH = re.compile(r"(?<![\w/.:])((?:[\w.-]+/)+[\w.-]+\.[a-z]{1,4})\b")


@pytest.mark.parametrize("item", PANELS, ids=_id)
def test_every_alert_and_file_a_panel_names_exists(item: tuple[str, Panel]) -> None:
    """`The tenant's ticket (TikTicketsTenant*BudgetBurn)` sends the reader to alerts (a pattern matches
    at least one), a path with a folder to a file of this repository: both must be there."""
    _, panel = item
    words = stated.without_templates(text(panel))
    wrong = [
        word
        for word in re.findall(rf"\b{re.escape(ALERT_PREFIX)}[A-Z][\w*]*", words)
        if ALERT_PREFIX and not fnmatch.filter(ALERTS, word)
    ]
    wrong += [path for path in FILE_PATH.findall(words) if not (REPO / path).exists()]
    assert wrong == [], f"{panel['title']!r} names what does not exist: {wrong}"


CODE_COMPARISON = re.compile(r"\b([a-z_]+)\s*(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+)?)\b")
"""`severity_number >= 17`: a comparison written as the query language writes it."""


@pytest.mark.parametrize("item", OTHER_PANELS, ids=_id)
def test_a_comparison_a_logs_panel_quotes_is_in_its_query(item: tuple[str, Panel]) -> None:
    """A logs panel's `(severity_number >= 17)` quotes its LogQL filter: the query must have it."""
    _, panel = item
    queries = [re.sub(r"\s+", "", str(target.get("expr", ""))) for target in panel["targets"]]
    wrong = [
        "".join(comparison)
        for comparison in CODE_COMPARISON.findall(stated.without_templates(text(panel)))
        if not any("".join(comparison) in query for query in queries)
    ]
    assert wrong == [], f"{panel['title']!r} quotes what its queries do not filter on: {wrong}"
