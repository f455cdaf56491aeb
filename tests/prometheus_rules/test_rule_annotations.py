"""Every alert says what is wrong, with the value, and links to its panel and its runbook."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from config import CONFIG
from dashboards_as_code.defaults import DASHBOARD_TIME_FROM
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.kinds.dashboard import dashboard_document
from dashboards_as_code.render.documents import build_documents
from tests.conftest import REPO
from tests.prometheus.rules import rendered_rules

README = (REPO / "README.md").read_text()


def github_anchor(heading: str) -> str:
    """How GitHub (and most Markdown renderers) turn a heading into an anchor."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


ANCHORS = {github_anchor(line.lstrip("#")) for line in README.splitlines() if line.startswith("#")}
RULE_FILE: dict[str, Any] = rendered_rules()
"""As the definitions render them now: a rule bug fails here before `build` writes it."""
ALERTS = [rule for group in RULE_FILE["groups"] for rule in group["rules"] if "alert" in rule]
DASHBOARDS = {definition.uid: definition for definition in load_project(REPO).dashboards}


def test_every_group_has_an_explicit_interval() -> None:
    assert all(group.get("interval") for group in RULE_FILE["groups"])


@pytest.mark.parametrize("rule", ALERTS, ids=lambda r: f"{r['alert']}-{r['labels'].get('signal', '')}")
def test_alert_annotations(rule: dict[str, Any]) -> None:
    annotations, labels = rule["annotations"], rule["labels"]
    assert labels["severity"] in {"page", "ticket"}
    assert annotations["summary"]
    assert "{{ $value" in annotations["description"]  # the current value, not just a name
    base, anchor = annotations["runbook_url"].split("#")
    assert base == CONFIG.runbook_url
    assert anchor in ANCHORS, f"README has no section #{anchor}"
    if "dashboard_url" in annotations:
        # /d/<uid>, then the variables the link sets (a tenant's alert: its tenant), then the panel.
        match = re.fullmatch(
            rf"{re.escape(CONFIG.grafana_public_url)}/d/([\w-]+)(?:\?((?:var-\w+=[^&]+&)*)viewPanel=(\d+))?",
            annotations["dashboard_url"],
        )
        assert match, annotations["dashboard_url"]
        assert match.group(1) in DASHBOARDS, f"no dashboard {match.group(1)!r} in the project"
        board = dashboard_document(DASHBOARDS[match.group(1)])
        if match.group(3):
            ids = {p["id"] for p in board["panels"] if p["type"] != "row"}
            assert int(match.group(3)) in ids
        variables = {variable["name"]: variable for variable in board["templating"]["list"]}
        settings = dict(
            setting.removeprefix("var-").split("=", 1)
            for setting in filter(None, (match.group(2) or "").split("&"))
        )
        assert settings.keys() <= variables.keys(), f"{annotations['dashboard_url']}: no such variable"
        # A dashboard about one tenant (its tenant variable single-select, no All) opened without the
        # tenant shows whichever tenant comes first: the alert's own tenant must be set.
        tenant = variables.get("tenant")
        if tenant is not None and not tenant["multi"] and not tenant["includeAll"]:
            assert settings.get("tenant") == "{{ $labels.tenant_id }}", "a tenant's alert opens its tenant"


@pytest.mark.parametrize(
    "public_url", ["https://grafana.example.com/", "https://example.com/grafana/"], ids=["host", "sub-path"]
)
def test_a_public_url_ending_in_a_slash_gives_dashboard_links_with_one_slash(public_url: str) -> None:
    """`grafana_public_url = "https://grafana.example.com/"` is how many people write a URL: the alert's
    link must still be `https://grafana.example.com/d/<uid>?viewPanel=<id>`, the address Grafana serves
    a dashboard at (under a sub-path too), not `...//d/...`, whose empty path segment is left to
    whatever proxy and router stand in between to forgive."""
    project = load_project(REPO)
    config = project.config.model_copy(update={"grafana_public_url": public_url})
    rules = build_documents(dataclasses.replace(project, config=config)).rules
    assert rules is not None
    links = [
        rule["annotations"]["dashboard_url"]
        for group in rules["groups"]
        for rule in group["rules"]
        if "dashboard_url" in rule.get("annotations", {})
    ]
    assert links, "no alert links to a dashboard: nothing to check"
    pattern = rf"{re.escape(public_url)}d/[\w-]+(\?(var-\w+=[^&]+&)*viewPanel=\d+)?"
    assert [link for link in links if not re.fullmatch(pattern, link)] == []


BURN_FACTOR = re.compile(r">\s*\(\s*(\d+(?:\.\d+)?)\s*\*")
"""The burn-rate factor in a condition `ratio > (14.4 * budget)`."""


def _slo_burn_pairs() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each SLO's service-wide burn alerts: the one whose name is `X` and its `XSlow` twin, found in
    the rendered rules by their `slo` label (the tenant alerts have no twin)."""
    alerts = {
        rule["alert"]: rule
        for group in rendered_rules()["groups"]
        for rule in group["rules"]
        if "alert" in rule and "slo" in rule.get("labels", {})
    }
    return [(alerts[name], alerts[f"{name}Slow"]) for name in sorted(alerts) if f"{name}Slow" in alerts]


def test_every_slo_has_a_fast_and_a_slow_burn_alert() -> None:
    slos = {fast["labels"]["slo"] for fast, _ in _slo_burn_pairs()}
    assert {"availability", "latency"} <= slos, slos


@pytest.mark.parametrize("pair", _slo_burn_pairs(), ids=lambda pair: str(pair[0]["alert"]))
def test_the_burn_alert_with_the_higher_burn_rate_says_the_budget_burns_fast(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """The on-call person reads the summary first: the page (the SRE workbook's 14.4x and 6x burns,
    the budget gone in days) says the budget burns fast, the ticket (1x, gone in a month) steadily."""
    by_factor = sorted(pair, key=lambda rule: max(float(f) for f in BURN_FACTOR.findall(rule["expr"])))
    slow, fast = by_factor
    assert fast["labels"]["severity"] == "page" and slow["labels"]["severity"] == "ticket"
    fast_summary, slow_summary = fast["annotations"]["summary"], slow["annotations"]["summary"]
    assert re.search(r"\bfast\b", fast_summary) and "steadily" not in fast_summary, fast_summary
    assert re.search(r"\bsteadily\b", slow_summary) and "fast" not in slow_summary, slow_summary


def test_the_exemplars_ticket_states_the_dashboards_default_range_in_hours() -> None:
    """The ticket compares the exemplars' reach with a dashboard's default range: the range it states
    must be the one a dashboard opens on unless it sets its own (`time.from`, e.g. now-6h), in hours.
    A dashboard a user gives another range does not change the default the ticket names."""
    match = re.fullmatch(r"now-(\d+)([mhd])", DASHBOARD_TIME_FROM)
    assert match, DASHBOARD_TIME_FROM
    hours = int(match.group(1)) * {"m": 1 / 60, "h": 1, "d": 24}[match.group(2)]
    froms = {str(dashboard_document(d)["time"]["from"]) for d in DASHBOARDS.values()}
    assert DASHBOARD_TIME_FROM in froms, froms  # the default is one the project's dashboards open on
    (rule,) = [r for r in ALERTS if r["alert"] == "TikTicketsExemplarsShort"]
    stated = re.findall(r"default range \((\d+(?:\.\d+)?) h\)", rule["annotations"]["description"])
    assert [float(h) for h in stated] == [hours], rule["annotations"]["description"]
