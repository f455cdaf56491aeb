"""dashboard-links: a link to a dashboard the project lacks, or to a variable it lacks, is reported."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dashboards_as_code import queries as q
from dashboards_as_code.defaults import TENANT_VARIABLE
from dashboards_as_code.definitions.types import DashboardDefinition
from dashboards_as_code.lint.checks.dashboard_links import CHECK
from dashboards_as_code.panels.grafanalib_ext import QueryVariable
from dashboards_as_code.panels.style import Row, bar_gauge, dashboard, prom, tenant_link
from datasources import PROMETHEUS
from telemetry.contract import SOCKETIO_CONNECTIONS, TENANT_SPAN_CALLS
from tests.lint.builders import FOLDER, check, context, document, findings, panel


def _board(
    uid: str,
    *,
    links: Sequence[dict[str, Any]] = (),
    data_links: Sequence[dict[str, Any]] = (),
    tenant: bool = False,
) -> DashboardDefinition:
    variables = (
        [
            QueryVariable(
                name=TENANT_VARIABLE,
                label="Tenant",
                query=q.label_values(TENANT_SPAN_CALLS, "tenant_id"),
                datasource=PROMETHEUS.ref,
                multi=False,
                include_all=False,
            )
        ]
        if tenant
        else []
    )
    bars = bar_gauge(
        "Bars",
        description="d",
        unit="short",
        datasource=PROMETHEUS.ref,
        targets=[prom(q.topk(5, q.sum_by(q.select(SOCKETIO_CONNECTIONS), "tenant_id")), instant=True)],
        data_links=data_links,
    )
    definition = dashboard(
        uid=uid,
        title=f"T {uid}",
        folder=FOLDER,
        description="d",
        rows=[Row("R", [bars, panel("p")])],
        links=links,
        variables=variables,
    )
    definition.source = f"dashboards/{uid}.py"
    return definition


def _link(url: str) -> dict[str, Any]:
    return {"title": "go", "type": "link", "url": url}


def test_links_to_a_defined_dashboard_and_its_variable_pass() -> None:
    target = _board("target", tenant=True)
    source = _board("source", links=[_link("/d/target")], data_links=[tenant_link("target")])
    assert findings(CHECK, source, target) == []


def test_a_dashboard_link_to_an_unknown_uid_is_reported() -> None:
    (finding,) = findings(CHECK, _board("source", links=[_link("/d/gone?orgId=1")]))
    assert finding.location.dashboard == "source" and finding.location.panel is None
    assert finding.message.startswith(
        "dashboard link links to dashboard 'gone', which the project does not define"
    )


def test_a_data_link_to_an_unknown_uid_names_its_panel() -> None:
    (finding,) = findings(CHECK, _board("source", data_links=[tenant_link("tenant-dashboard-renamed")]))
    assert finding.location.panel == "Bars"
    assert "data link links to dashboard 'tenant-dashboard-renamed'" in finding.message


def test_a_variable_the_target_lacks_is_reported() -> None:
    """The tenant link opens a dashboard without `$tenant`: Grafana drops the parameter in silence."""
    (finding,) = findings(CHECK, _board("source", data_links=[tenant_link("target")]), _board("target"))
    assert (
        f"sets var-{TENANT_VARIABLE} on dashboard 'target', which has no variable '{TENANT_VARIABLE}'"
        in finding.message
    )


def test_links_elsewhere_are_not_read() -> None:
    links = [_link("/explore?panes=%7B%7D"), _link("https://example.com/d/nowhere")]
    assert findings(CHECK, _board("source", links=links)) == []


def test_a_data_link_set_by_a_field_override_is_checked() -> None:
    """Grafana lets an override give some fields their own data links (an override property with id
    `links`, CLASSIC `FieldConfigSource.overrides[].properties`): a click on such a field opens that
    link, so a renamed uid there is as broken as one in the panel's defaults."""
    override = {
        "matcher": {"id": "byName", "options": "tenant_id"},
        "properties": [{"id": "links", "value": [_link("/d/tenant-dashboard-renamed?var-tenant=x")]}],
    }
    source = _board("source")
    lint = context(source)
    (bars,) = [p for p in document(lint, source)["panels"] if p.get("title") == "Bars"]
    bars.setdefault("fieldConfig", {}).setdefault("overrides", []).append(override)
    (finding,) = check(CHECK, lint)
    assert finding.location.panel == "Bars"
    assert "data link links to dashboard 'tenant-dashboard-renamed'" in finding.message


def test_a_variable_set_to_nothing_is_still_a_variable_the_target_must_have() -> None:
    """`?var-tenat=` (a typo, no value yet: the link builder fills it later) still names a variable the
    target lacks; Grafana drops it in silence as it drops one with a value."""
    source = _board("source", links=[_link("/d/target?var-tenat=")])
    (finding,) = findings(CHECK, source, _board("target", tenant=True))
    assert "sets var-tenat on dashboard 'target', which has no variable 'tenat'" in finding.message
