"""Every Prometheus query of every generated dashboard returns data from a real Prometheus.

The series come from a stand-in for the Collector's exporter that emits exactly the contract's
names and labels (`collector_exporter.py`). A panel whose metric name, label matcher, legend label
or unit drifts from what the contract emits fails here: empty result, missing legend label, or
values outside what its unit allows. `$tenant` is sent as Grafana sends it: at All, the value the
dashboard's tenant variable declares (`__all__` on the Overview, read from the generated JSON), and
a tenant panel's value at All must be the sum of its values per tenant (nothing empty, nothing
counted twice). Last, a panel added to a copy of the project the README's way is built, checked and
queried here too.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import OVERVIEW_UID
from dashboards_as_code.defaults import ALL_TENANTS, TENANT_LABEL, TENANT_VARIABLE
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.external_tools import PROMETHEUS
from dashboards_as_code.lint.checks.panel_unit import returns
from dashboards_as_code.promql.series_catalog import build_catalog
from dashboards_as_code.promql.tree import as_prometheus_receives, parse
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from dashboards_as_code.render.provisioning_escape import expand
from dashboards_as_code.units import BURN_RATE, COUNT, PER_SECOND, RATE_CHANGE, RATIO, SECONDS, Quantity
from tests.conftest import REPO, copy_project
from tests.prometheus.collector_exporter import (
    BUCKETS,
    TENANTS,
    CollectorExporter,
    serve,
    server_error_share,
)
from tests.prometheus.conftest import SAMPLES_NEEDED
from tests.prometheus.server import Prometheus, running_prometheus
from tests.recipe import BUILDER, TITLE, add_panel, run_cli
from tests.tooling import require_tool

RATE_WINDOW = "5s"
"""Stands in for $__rate_interval: at least four of the test's 1 s scrapes."""
SAME_VALUE = 1e-9
"""Relative: All and the sum over tenants are read at one instant from rows one rule evaluation wrote."""
ERROR_SHARE_TOLERANCE = 0.01
"""Relative. The counters grow linearly and carry six decimals, so rate() gives the data's share within
1e-5; a ratio divided by the successful spans only is 6 % off or more, one with client spans 2x off."""

LARGEST_BUCKET = max(BUCKETS)
"""A quantile in seconds of the stand-in's histogram cannot pass its largest finite bucket bound
(histogram_quantile returns that bound for the +Inf bucket): milliseconds read as seconds would."""


def _outputs() -> dict[str, bytes]:
    return {o.path: o.content for o in render_outputs(build_documents(load_project(REPO)))}


_PROJECT = load_project(REPO)
CATALOG = build_catalog(_PROJECT.contract, _PROJECT.rule_groups)


def quantity_of(expr: str) -> Quantity:
    """What the query returns, by the engine's one unit table (dashboards_as_code/units.py, which
    panel-unit reads)."""
    found = returns(parse(expr), lambda name: CATALOG.get(name or ""))
    assert found is not None and found.quantity is not None, (
        f"dashboards_as_code/units.py knows no quantity for {expr}"
    )
    return found.quantity


def _all_value(dashboard: dict[str, Any]) -> str:
    """What Grafana puts in $tenant when All is selected on this dashboard: its tenant variable's
    allValue (`__all__` on the Overview), or, without one, every tenant as a regex alternation."""
    every_tenant = f"({'|'.join(TENANTS)})"
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable["name"] == TENANT_VARIABLE and variable.get("includeAll"):
            return str(variable["allValue"]) if variable.get("allValue") else every_tenant
    return every_tenant  # no tenant variable: its queries do not read $tenant


@dataclass(frozen=True)
class Target:
    """One Prometheus query of one panel, with what its dashboard sends for All."""

    uid: str
    all_value: str
    panel: dict[str, Any]
    target: dict[str, Any]

    @property
    def unit(self) -> str:
        return str(self.panel["fieldConfig"]["defaults"]["unit"])

    @property
    def follows_tenant(self) -> bool:
        return f"${TENANT_VARIABLE}" in self.target["expr"]


def _dashboards(outputs: dict[str, bytes]) -> list[dict[str, Any]]:
    """The dashboards among the generated files, wherever the project's config puts them: the JSON
    documents with panels (other generated JSON, such as the cardinality limits, has none)."""
    documents = [json.loads(content) for path, content in outputs.items() if path.endswith(".json")]
    return [d for d in documents if isinstance(d, dict) and "panels" in d and "uid" in d]


def _prometheus_targets(outputs: dict[str, bytes]) -> list[Target]:
    found = []
    for dashboard in _dashboards(outputs):
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == "prometheus":
                    found.append(Target(dashboard["uid"], _all_value(dashboard), panel, target))
    return found


TARGETS = _prometheus_targets(_outputs())
# Tenant selections as Grafana sends them: All (None here: the dashboard's allValue), one tenant,
# several (regex alternation).
SELECTIONS: dict[str, str | None] = {"all": None, "one": "acme", "several": "(acme|umbrella)"}
ERROR_SELECTIONS = {**SELECTIONS, "one without errors yet": "initech"}


def _value(selection: str, item: Target) -> str:
    value = ERROR_SELECTIONS[selection]
    return item.all_value if value is None else value


def _id(item: Target) -> str:
    return f"{item.uid}/{item.panel['title']}/{item.target['refId']}"


def _run(
    prometheus: Prometheus, target: dict[str, Any], tenant: str
) -> list[tuple[dict[str, str], list[float]]]:
    expr = as_prometheus_receives(target["expr"], {TENANT_VARIABLE: tenant}, interval=RATE_WINDOW)
    now = time.time()
    if target["instant"]:
        result = prometheus.query(expr, at=now)
        return [(series["metric"], [float(series["value"][1])]) for series in result]
    result = prometheus.query_range(expr, now - 10, now, "1s")
    return [(series["metric"], [float(v) for _, v in series["values"]]) for series in result]


def _at(
    prometheus: Prometheus, target: dict[str, Any], tenant: str, at: float
) -> list[tuple[dict[str, str], float]]:
    """The query's value at one instant (what a stat shows, or one point of a graph)."""
    expr = as_prometheus_receives(target["expr"], {TENANT_VARIABLE: tenant}, interval=RATE_WINDOW)
    return [(series["metric"], float(series["value"][1])) for series in prometheus.query(expr, at=at)]


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("item", TARGETS, ids=_id)
def test_query_returns_plausible_data(prometheus: Prometheus, item: Target, selection: str) -> None:
    series = _run(prometheus, item.target, _value(selection, item))
    assert series, f"no data for {item.target['expr']}"
    for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", item.target["legendFormat"]):
        for metric, _ in series:
            assert label in metric, f"legend uses {{{{{label}}}}} but a series has only {sorted(metric)}"
    quantity = quantity_of(item.target["expr"])
    assert item.unit in quantity.units, f"unit {item.unit!r} does not display {quantity.name}"
    values = [v for _, vs in series for v in vs]
    implausible = [v for v in values if not quantity.plausible(v)]
    assert not implausible, f"values {implausible[:5]} are not {quantity.name} (unit {item.unit!r})"
    if quantity is SECONDS:
        assert max(values) <= LARGEST_BUCKET, values
    # Some quantities are 0 on a good day: a ratio of errors, a burn rate, a change of traffic.
    # A count of tenants in some state (no WhatsApp session) is 0 for tenants not in it.
    zero_is_normal = quantity in (RATIO, BURN_RATE, RATE_CHANGE) or item.target["expr"].startswith("count(")
    assert any(v != 0 for v in values) or zero_is_normal


def test_tenant_selection_narrows_tenant_panels(prometheus: Prometheus) -> None:
    """One tenant shows less than all tenants, so the filter reaches Prometheus as a real matcher."""
    checked = 0
    for item in TARGETS:
        if not item.follows_tenant or item.unit == "percentunit":
            continue
        if quantity_of(item.target["expr"]) not in (PER_SECOND, COUNT) or item.target["expr"].startswith(
            "count("
        ):
            continue  # a burn rate, a change, a count of tenants: one tenant is not a part of all
        everyone = sum(vs[-1] for _, vs in _run(prometheus, item.target, item.all_value))
        acme = sum(vs[-1] for _, vs in _run(prometheus, item.target, SELECTIONS["one"] or ""))
        assert 0 < acme < everyone, item.panel["title"]
        checked += 1
    assert checked >= 3


def assert_all_is_the_sum_over_tenants(prometheus: Prometheus, item: Target) -> None:
    """At All the panel shows what its tenants add up to: not empty (All reads a row that does not
    exist), not double (All matches the `__all__` row and every tenant's). A per-tenant panel (rows
    labelled tenant_id, e.g. a top-k) shows each tenant's own value at All."""
    at = time.time() - 3  # rules evaluated every second: every row of this instant is written
    everyone = _at(prometheus, item.target, item.all_value, at)
    assert everyone, f"{_id(item)}: empty at All ($tenant = {item.all_value})"
    per_tenant = {tenant: _at(prometheus, item.target, tenant, at) for tenant in TENANTS}
    assert all(per_tenant.values()), f"{_id(item)}: empty for a tenant: {per_tenant}"
    if all(TENANT_LABEL in metric for metric, _ in everyone):
        for metric, value in everyone:
            alone = [v for m, v in per_tenant[metric[TENANT_LABEL]] if m == metric]
            assert alone == [pytest.approx(value, rel=SAME_VALUE)], (_id(item), metric, value, alone)
        return
    total = sum(v for rows in per_tenant.values() for _, v in rows)
    shown = sum(v for _, v in everyone)
    assert shown == pytest.approx(total, rel=SAME_VALUE), (
        f"{_id(item)}: All shows {shown}, the tenants add up to {total}"
        + (" (counted twice?)" if shown == pytest.approx(2 * total, rel=SAME_VALUE) else "")
    )


ADDITIVE = [
    item
    for item in TARGETS
    if item.follows_tenant
    and item.unit != "percentunit"
    and quantity_of(item.target["expr"]) in (PER_SECOND, COUNT)
]
"""Tenant panels whose values add up across tenants: rates and counts (a ratio does not, its own test
below; nor does a burn rate, a ratio over a budget)."""


@pytest.mark.parametrize("item", ADDITIVE, ids=_id)
def test_all_is_the_sum_over_tenants(prometheus: Prometheus, item: Target) -> None:
    assert_all_is_the_sum_over_tenants(prometheus, item)


def test_the_all_value_is_the_dashboards_own() -> None:
    """Every tenant panel of the project is in the sum test, with its dashboard's All value; a
    single-select `$tenant` (no All, e.g. a one-tenant dashboard) is summed over every test tenant."""
    assert ADDITIVE
    variables = {dashboard["uid"]: dashboard["templating"]["list"] for dashboard in _dashboards(_outputs())}
    every_tenant = f"({'|'.join(TENANTS)})"
    for item in ADDITIVE:
        (tenant,) = [v for v in variables[item.uid] if v["name"] == TENANT_VARIABLE]
        expected = tenant.get("allValue") if tenant.get("includeAll") else None
        assert item.all_value == (expected or every_tenant), item.uid
    overview = [item for item in ADDITIVE if item.uid == OVERVIEW_UID]
    assert overview and all(item.all_value == ALL_TENANTS for item in overview)


def test_latency_exemplars_carry_the_label_the_datasource_links(prometheus: Prometheus) -> None:
    provisioning = _PROJECT.config.provisioning_dir
    datasources = yaml.safe_load(_outputs()[f"{provisioning}/datasources/datasources.yaml"])
    prometheus_ds = next(d for d in datasources["datasources"] if d["type"] == "prometheus")
    link_label = expand(prometheus_ds["jsonData"]["exemplarTraceIdDestinations"][0]["name"])
    with_exemplars = [item for item in TARGETS if item.target["exemplar"]]
    assert with_exemplars, "no panel asks for exemplars"
    for item in with_exemplars:
        variables = {TENANT_VARIABLE: item.all_value}
        expr = as_prometheus_receives(item.target["expr"], variables, interval=RATE_WINDOW)
        now = time.time()
        result = prometheus.exemplars(expr, now - 60, now)
        exemplars = [e for series in result for e in series["exemplars"]]
        assert exemplars, f"{item.panel['title']}: Prometheus returned no exemplars for {expr}"
        for exemplar in exemplars:
            assert re.fullmatch(r"[0-9a-f]{32}", exemplar["labels"][link_label]), exemplar


def _selected_tenants(selection: str) -> list[str]:
    value = ERROR_SELECTIONS[selection]
    return list(TENANTS) if value is None else [t for t in TENANTS if re.fullmatch(value, t)]


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
    ratios = [item for item in TARGETS if item.panel["title"].startswith("Error rate")]
    assert len(ratios) == 2
    for item in ratios:
        series = _run(prometheus, item.target, _value(selection, item))
        assert len(series) == 1, (item.panel["title"], series)
        [(_, values)] = series
        assert values, item.panel["title"]
        assert values == pytest.approx([expected] * len(values), rel=ERROR_SHARE_TOLERANCE), (
            f"{item.panel['title']} for {tenants}: the data has {expected:.4f} of server spans failing"
        )


@pytest.fixture(scope="module")
def project_with_a_new_panel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with a tenant panel added the README's way (tests/recipe.py), built."""
    root = copy_project(tmp_path_factory.mktemp("project"))
    add_panel(root, BUILDER)
    for command in ("build", "check"):
        result = run_cli(command, "--project", str(root))
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return root


@pytest.fixture(scope="module")
def prometheus_of_the_copy(
    project_with_a_new_panel: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    """A real Prometheus loading the copy's own rule file, as `build` wrote it (evaluated each second)."""
    binary = require_tool(PROMETHEUS)
    rules = yaml.safe_load(_rules_file(project_with_a_new_panel).read_text())
    for group in rules["groups"]:
        group["interval"] = "1s"
    workdir = tmp_path_factory.mktemp("prometheus-copy")
    (workdir / "rules.yml").write_text(yaml.safe_dump(rules))
    server, port = serve(CollectorExporter())
    try:
        with running_prometheus(binary, workdir, f"127.0.0.1:{port}", [workdir / "rules.yml"]) as prom:
            prom.wait_for(
                'count_over_time(tiktickets_whatsapp_messages_sent_total{tenant_id="acme"}[1m])',
                SAMPLES_NEEDED,
            )
            yield prom
    finally:
        server.shutdown()


def _rules_file(root: Path) -> Path:
    """The rule file the copy's build wrote (the copy's definitions are never imported here)."""
    found = sorted(root.glob("monitoring/prometheus/rules/*.yml"))
    assert len(found) == 1, found
    return found[0]


def test_a_panel_added_the_readme_way_shows_data_at_all(
    project_with_a_new_panel: Path, prometheus_of_the_copy: Prometheus
) -> None:
    """The README's recipe, in a copy: the new panel's query, as the copy's build wrote it, returns
    data at All and at one tenant, and All is the sum over tenants, on the rules the copy's build wrote."""
    outputs = {
        str(path.relative_to(project_with_a_new_panel)): path.read_bytes()
        for path in (project_with_a_new_panel / "provisioning").rglob("*.json")
    }
    (item,) = [t for t in _prometheus_targets(outputs) if (t.uid, t.panel["title"]) == (OVERVIEW_UID, TITLE)]
    for record in re.findall(r"[a-z_]+:[a-z_]+:[a-z0-9]+", item.target["expr"]):
        prometheus_of_the_copy.wait_for(f"count_over_time({record}[1m])", SAMPLES_NEEDED)
    assert_all_is_the_sum_over_tenants(prometheus_of_the_copy, item)
    assert all(_run(prometheus_of_the_copy, item.target, value) for value in (item.all_value, "acme"))
