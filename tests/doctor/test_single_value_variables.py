"""A dashboard about one tenant: a single-select `$tenant` works end to end.

Grafana opens a variable without All on the first value its query returns (grafana/scenes,
MultiValueVariable: a value that is no option becomes `options[0]`); there is no All to send. So:
- the JSON has no `allValue: null` and no `current = $__all`, and `build` and `check` (Grafana's
  schema included) pass on a project with such a dashboard;
- `doctor` sends a real tenant where Grafana would, never `$__all`, `__all__`, `.*` or an empty
  value, and on the real Prometheus every panel of that dashboard is ok;
- a raw contract series filtered on such a `$tenant` is right (one value is never `__all__`), so
  `check` lets it pass (tests/lint/test_tenant_all_row.py holds the lint side in detail).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from config import OVERVIEW_UID
from dashboards_as_code.defaults import ALL_TENANTS, TENANT_VARIABLE
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.doctor.http import Endpoint
from dashboards_as_code.doctor.run import DoctorRun
from dashboards_as_code.grafana_math import opening_value
from dashboards_as_code.promql.tree import as_prometheus_receives, vector_selectors
from dashboards_as_code.render.documents import Documents, build_documents
from tests.conftest import REPO, copy_project
from tests.doctor.hostile_sources import Reply, fake_prometheus, success
from tests.doctor.stack import live_stack, run_doctor
from tests.prometheus.collector_exporter import TENANTS, server_error_share
from tests.recipe import run_cli
from tests.single_tenant import UID, add_dashboard

# -- the value a variable opens on, as Grafana picks it -------------------------------------------------

VALUES = ["acme", "a+b", "globex"]


@pytest.mark.parametrize(
    ("variable", "opens_on"),
    [
        ({"includeAll": True, "allValue": ALL_TENANTS}, ALL_TENANTS),
        ({"includeAll": True}, ".*"),  # every value: `.*` selects what their alternation selects
        ({"includeAll": False, "multi": False}, "acme"),  # no current: the first value
        ({"multi": False, "current": {"value": "globex"}}, "globex"),  # a saved value that exists
        ({"multi": False, "current": {"value": "gone"}}, "acme"),  # one that no longer does
        ({"multi": False, "current": {"value": "$__all"}}, "acme"),  # All where there is no All
        ({"multi": True, "current": {"value": ["a+b"]}}, "a\\\\+b"),  # multi: regex-escaped, as Grafana
        # several saved: doctor diagnoses one of them, the first selected (as the picker lists it)
        ({"multi": True, "current": {"value": ["globex", "acme"]}}, "globex"),
        # a selection starting with All is All to Grafana (scenes' hasAllValue): none here, so the first
        ({"multi": True, "current": {"value": ["$__all", "globex"]}}, "acme"),
    ],
    ids=[
        "custom-all",
        "all",
        "first",
        "saved",
        "saved-gone",
        "stale-all",
        "multi-escaped",
        "multi-first-saved",
        "multi-stale-all-first",
    ],
)
def test_the_value_a_variable_opens_on(variable: dict[str, Any], opens_on: str) -> None:
    assert opening_value(variable, VALUES) == opens_on


@pytest.mark.parametrize(
    "variable",
    [
        {"includeAll": True, "allValue": ""},  # what QueryVariable(all_value="") renders
        {"includeAll": True, "allValue": None},  # what a dashboard exported from Grafana can carry
        {"includeAll": True, "allValue": "", "multi": True, "current": {"value": ["$__all"]}},
    ],
    ids=["empty", "null", "empty-multi-on-all"],
)
def test_an_empty_custom_all_value_means_every_value(variable: dict[str, Any]) -> None:
    """Grafana uses a custom All value only when it is non-empty: an empty or null one is "no custom
    value", and All then selects every value (sent as their alternation; `.*` selects the same series).
    Sending the text `""` or `None` would make doctor ask Prometheus for series nobody's panel reads."""
    assert opening_value(variable, VALUES) == ".*"


def test_a_multi_value_variable_saved_with_nothing_selected_opens_on_the_first_value() -> None:
    """`current.value: []` is what Grafana saves for a multi-value variable whose query returned no
    values at the time (grafana/scenes, MultiValueVariable: no options -> `[]`), and what a hand-written
    dashboard may carry. On opening, no saved value is an option, so Grafana picks the first option
    (no valid value -> `getDefaultMultiState`, i.e. `[options[0].value]`), regex-escaped like any
    value of a multi-value variable."""
    variable = {"multi": True, "includeAll": False, "current": {"text": [], "value": []}}
    assert opening_value(variable, ["a+b", "globex"]) == "a\\\\+b"


def test_a_variable_without_all_and_without_values_opens_on_nothing() -> None:
    """Grafana's own empty selection: doctor must not make up a tenant."""
    assert opening_value({"multi": False, "includeAll": False}, []) == ""


# -- what doctor sends for a single-select $tenant --------------------------------------------------------


@pytest.fixture(scope="module")
def documents() -> Documents:
    return build_documents(load_project(REPO))


def _single_select(documents: Documents) -> Documents:
    """The Overview with its `$tenant` made single-select as the helper now writes it (no All, no current)."""
    (board,) = [b for b in documents.dashboards if b.uid == OVERVIEW_UID]
    document = copy.deepcopy(board.document)
    (variable,) = [v for v in document["templating"]["list"] if v["name"] == TENANT_VARIABLE]
    variable.update(multi=False, includeAll=False)
    for key in ("allValue", "current"):
        variable.pop(key, None)
    return documents.with_dashboards([replace(board, document=document)])


def _tenant_values(expr: str) -> set[str]:
    """The value of every `tenant_id` matcher of `$tenant`'s kind (`=~`) in a query Prometheus got."""
    try:
        tree = promql_parser.parse(expr)
    except ValueError:
        return set()  # a label-values or probe request, not a panel query
    return {
        m.value
        for node in vector_selectors(tree)
        for m in node.matchers.matchers
        if m.name == "tenant_id" and str(m.op) == "MatchOp.Re"
    }


@pytest.mark.parametrize("samples", [0, 3])
def test_doctor_sends_a_real_tenant_for_a_single_select_variable(documents: Documents, samples: int) -> None:
    """With no All to send, the first query of every panel reads the tenant Grafana opens on, and no
    query reads `$__all`, `__all__`, `.*` or an empty tenant (each would be a panel nobody sees)."""
    seen: list[str] = []
    answers = {"/api/v1/label/tenant_id/values": Reply(success(sorted(TENANTS)))}
    with fake_prometheus(answers, seen) as url:
        DoctorRun(_single_select(documents), lambda kind, _: Endpoint(url, kind, 5), samples=samples).run()
    sent = set().union(*(_tenant_values(q) for q in seen))
    assert sorted(TENANTS)[0] in sent, sent
    assert sent <= set(TENANTS), f"not a tenant: {sorted(sent - set(TENANTS))}"
    assert len(sent) == 1 + min(samples, len(TENANTS) - 1), sent  # the opening tenant, then others


# -- end to end: build, check and doctor on a project with a single-tenant dashboard ----------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with the single-tenant dashboard added, built and checked by the real CLI."""
    root = copy_project(tmp_path_factory.mktemp("project"))
    add_dashboard(root)
    for command in ("build", "check"):
        result = run_cli(command, "--project", str(root))
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return root


def _dashboard(project: Path) -> dict[str, Any]:
    (path,) = project.glob(f"provisioning/dashboards/*/{UID}.json")
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_the_variable_is_single_select_with_nothing_grafana_would_refuse(project: Path) -> None:
    (variable,) = [v for v in _dashboard(project)["templating"]["list"] if v["name"] == TENANT_VARIABLE]
    assert (variable["multi"], variable["includeAll"]) == (False, False)
    assert variable.get("allValue", "") is not None  # the schema has `allValue?: string`
    assert "$__all" not in json.dumps(variable.get("current", {}))  # no All to open on


def _the_copys_rules(project: Path) -> Callable[[dict[str, Any]], None]:
    """Put the copy's rule file, as its `build` wrote it, in place of the repository's (each second)."""
    (path,) = project.glob("monitoring/prometheus/rules/*.yml")
    groups = yaml.safe_load(path.read_text())["groups"]

    def change(document: dict[str, Any]) -> None:
        document["groups"] = [{**group, "interval": "1s"} for group in groups]

    return change


def test_doctor_finds_every_panel_of_the_single_tenant_dashboard_ok(project: Path, tmp_path: Path) -> None:
    """On the real Prometheus, with the copy's own rules: every panel of the dashboard has data for the
    tenant it opens on (and for the others doctor samples), so `doctor` reports each one ok; and what
    a panel shows for one tenant is that tenant's own figure: its error ratio (a ratio, so the 5 m
    rate windows, still filling, do not change it), not every tenant's nor the `__all__` row's."""
    board = _dashboard(project)
    panels = [p["title"] for p in board["panels"] if p.get("targets")]
    assert panels
    tenant = sorted(TENANTS)[0]  # what Grafana opens on: the first value, in the variable's sort order
    expected = {"Error ratio": server_error_share([tenant])}
    assert expected["Error ratio"] != pytest.approx(server_error_share(TENANTS), rel=0.1)
    with live_stack(tmp_path, change_rules=_the_copys_rules(project)) as stack:
        doctor = run_doctor(stack.env, "--project", str(project))
        for title, value in expected.items():
            (panel,) = [p for p in board["panels"] if p["title"] == title]
            expr = as_prometheus_receives(panel["targets"][0]["expr"], {TENANT_VARIABLE: tenant}, "5s")
            (sample,) = stack.prometheus.query(expr)
            assert float(sample["value"][1]) == pytest.approx(value, rel=0.02), (title, expr)
    ours = {r["panel"]: r for r in doctor.reports if r["dashboard"] == UID}
    assert sorted(ours) == sorted(panels), doctor.reports
    assert {title: r["status"] for title, r in ours.items()} == dict.fromkeys(panels, "ok"), ours
    assert doctor.code == 0, doctor.reports
