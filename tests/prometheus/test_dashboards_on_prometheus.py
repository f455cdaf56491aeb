"""Every Prometheus query of every generated dashboard returns data from a real Prometheus.

The series come from a stand-in for the Collector's exporter that emits exactly the contract's
names and labels (`collector_exporter.py`). A panel whose metric name, label matcher, legend label
or unit drifts from what the contract emits fails here: empty result, missing legend label, or
values outside what its unit allows.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from engine.defaults import TENANT_VARIABLE
from engine.definitions.loader import load_project
from engine.lint.promql_ast import as_prometheus_receives
from engine.render.documents import build_documents
from engine.render.files import render_outputs
from engine.render.provisioning_escape import expand
from tests.conftest import REPO
from tests.prometheus.collector_exporter import TENANTS, server_error_share
from tests.prometheus.server import Prometheus

RATE_WINDOW = "5s"
"""Stands in for $__rate_interval: at least four of the test's 1 s scrapes."""
ERROR_SHARE_TOLERANCE = 0.01
"""Relative. The counters grow linearly and carry six decimals, so rate() gives the data's share within
1e-5; a ratio divided by the successful spans only is 6 % off or more, one with client spans 2x off."""

PLAUSIBLE: dict[str, Callable[[float], bool]] = {
    "percentunit": lambda v: 0 <= v <= 1,
    "s": lambda v: 0 < v < 60,
    "reqps": lambda v: v >= 0,
    "short": lambda v: v >= 0 and v == int(v),
}


def _outputs() -> dict[str, bytes]:
    return {o.path: o.content for o in render_outputs(build_documents(load_project(REPO)))}


def _all_value() -> str:
    """What Grafana puts in $tenant when All is selected: the tenant variable's allValue."""
    for path, content in _outputs().items():
        if path.endswith(".json"):
            for variable in json.loads(content).get("templating", {}).get("list", []):
                if variable["name"] == TENANT_VARIABLE:
                    return str(variable["allValue"])
    raise AssertionError(f"no dashboard has a ${TENANT_VARIABLE} variable")


# Tenant selections as Grafana sends them: All (the allValue), one tenant, several (regex alternation).
SELECTIONS = {"all": _all_value(), "one": "acme", "several": "(acme|umbrella)"}
ERROR_SELECTIONS = {**SELECTIONS, "one without errors yet": "initech"}


def _prometheus_targets() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    found = []
    for path, content in _outputs().items():
        if path.endswith(".json"):
            dashboard = json.loads(content)
            for panel in dashboard["panels"]:
                for target in panel.get("targets", []):
                    if target["datasource"]["type"] == "prometheus":
                        found.append((dashboard["uid"], panel, target))
    return found


TARGETS = _prometheus_targets()


def _id(item: tuple[str, dict[str, Any], dict[str, Any]]) -> str:
    uid, panel, target = item
    return f"{uid}/{panel['title']}/{target['refId']}"


def _run(
    prometheus: Prometheus, target: dict[str, Any], tenant: str
) -> list[tuple[dict[str, str], list[float]]]:
    expr = as_prometheus_receives(target["expr"], {"tenant": tenant}, interval=RATE_WINDOW)
    now = time.time()
    if target["instant"]:
        result = prometheus.query(expr, at=now)
        return [(series["metric"], [float(series["value"][1])]) for series in result]
    result = prometheus.query_range(expr, now - 10, now, "1s")
    return [(series["metric"], [float(v) for _, v in series["values"]]) for series in result]


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("item", TARGETS, ids=_id)
def test_query_returns_plausible_data(
    prometheus: Prometheus, item: tuple[str, dict[str, Any], dict[str, Any]], selection: str
) -> None:
    _, panel, target = item
    series = _run(prometheus, target, SELECTIONS[selection])
    assert series, f"no data for {target['expr']}"
    for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", target["legendFormat"]):
        for metric, _ in series:
            assert label in metric, f"legend uses {{{{{label}}}}} but a series has only {sorted(metric)}"
    unit = panel["fieldConfig"]["defaults"]["unit"]
    assert unit in PLAUSIBLE, f"no plausibility rule for unit {unit!r}: is it a unit the contract's data has?"
    values = [v for _, vs in series for v in vs]
    assert not any(math.isnan(v) for v in values), values
    implausible = [v for v in values if not PLAUSIBLE[unit](v)]
    assert not implausible, f"values {implausible[:5]} do not fit unit {unit!r}"
    assert any(v > 0 for v in values) or unit == "percentunit"


def test_tenant_selection_narrows_tenant_panels(prometheus: Prometheus) -> None:
    """One tenant shows less than all tenants, so the filter reaches Prometheus as a real matcher."""
    checked = 0
    for _, panel, target in TARGETS:
        if "tenant_id" not in target["expr"] or panel["fieldConfig"]["defaults"]["unit"] == "percentunit":
            continue
        everyone = sum(vs[-1] for _, vs in _run(prometheus, target, SELECTIONS["all"]))
        acme = sum(vs[-1] for _, vs in _run(prometheus, target, SELECTIONS["one"]))
        assert 0 < acme < everyone, panel["title"]
        checked += 1
    assert checked >= 3


def test_latency_exemplars_carry_the_label_the_datasource_links(prometheus: Prometheus) -> None:
    datasources = yaml.safe_load(_outputs()["provisioning/datasources/datasources.yaml"])
    prometheus_ds = next(d for d in datasources["datasources"] if d["type"] == "prometheus")
    link_label = expand(prometheus_ds["jsonData"]["exemplarTraceIdDestinations"][0]["name"])
    with_exemplars = [(panel, target) for _, panel, target in TARGETS if target["exemplar"]]
    assert with_exemplars, "no panel asks for exemplars"
    for panel, target in with_exemplars:
        expr = as_prometheus_receives(target["expr"], {"tenant": ".*"}, interval=RATE_WINDOW)
        now = time.time()
        result = prometheus.exemplars(expr, now - 60, now)
        exemplars = [e for series in result for e in series["exemplars"]]
        assert exemplars, f"{panel['title']}: Prometheus returned no exemplars for {expr}"
        for exemplar in exemplars:
            assert re.fullmatch(r"[0-9a-f]{32}", exemplar["labels"][link_label]), exemplar


def _selected_tenants(selection: str) -> list[str]:
    value = ERROR_SELECTIONS[selection]
    return list(TENANTS) if value == SELECTIONS["all"] else [t for t in TENANTS if re.fullmatch(value, t)]


@pytest.mark.parametrize("selection", ERROR_SELECTIONS)
def test_error_ratio_panels_show_the_errors_the_data_has(prometheus: Prometheus, selection: str) -> None:
    """Each error-ratio panel shows, at every point, the share of the selected tenants' server spans
    that failed in the test data (client spans fail far more often and must not count). A panel that
    always reads 0 (its `or vector(0)` answering alone), counts client spans, divides by the successful
    spans only, or ignores the selection fails here; a tenant with no error series yet reads 0, not
    No data."""
    tenants = _selected_tenants(selection)
    assert tenants, selection
    expected = server_error_share(tenants)
    ratios = [(panel, target) for _, panel, target in TARGETS if panel["title"].startswith("Error rate")]
    assert len(ratios) == 2
    for panel, target in ratios:
        series = _run(prometheus, target, ERROR_SELECTIONS[selection])
        assert len(series) == 1, (panel["title"], series)
        [(_, values)] = series
        assert values, panel["title"]
        assert values == pytest.approx([expected] * len(values), rel=ERROR_SHARE_TOLERANCE), (
            f"{panel['title']} for {tenants}: the data has {expected:.4f} of server spans failing"
        )
