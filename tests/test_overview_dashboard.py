"""The Overview dashboard: the six panels of the issue, reading the contract's series, with units.

Panels read recorded series (those of prometheus_rules/overview.py and those the tenant panels' queries
derive); `reads()` follows a recorded series back to the raw contract series its rule reads, so each panel is
checked against the contract either way.
"""

from __future__ import annotations

from typing import Any

import pytest

from dashboards_as_code.defaults import ALL_TENANTS
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import recorded_series
from dashboards_as_code.promql.tree import parse, vector_selectors
from telemetry.contract import CONTRACT
from tests.conftest import REPO

Doc = dict[str, Any]
RECORDED = recorded_series(load_project(REPO).rule_groups)
"""Every recorded series of the project as it loads: hand-written and derived from the queries."""


def panel(doc: Doc, title: str) -> Doc:
    found = [p for p in doc["panels"] if p["title"] == title]
    assert len(found) == 1, f"expected one panel titled {title!r}, got {[p['title'] for p in doc['panels']]}"
    result: Doc = found[0]
    return result


def selectors(expr: str) -> list[Any]:
    return list(vector_selectors(parse(expr)))


def matchers(selector: Any) -> set[tuple[str, str, str]]:
    return {(m.name, str(m.op).removeprefix("MatchOp."), m.value) for m in selector.matchers.matchers}


def reads(expr: str) -> set[str]:
    """The raw contract series an expression reads, through any recorded series."""
    found: set[str] = set()
    for selector in selectors(expr):
        rule = RECORDED.get(selector.name)
        found |= reads(rule.expr.text) if rule else {selector.name}
    return found


def unit(p: Doc) -> str:
    return str(p["fieldConfig"]["defaults"]["unit"])


def test_identity(overview_doc: Doc, overview: Any) -> None:
    assert overview_doc["uid"] == "tiktickets-overview"
    assert overview_doc["title"] == "TikTickets - Overview"
    assert overview.folder.title == "TikTickets"
    assert overview_doc["schemaVersion"] >= 36  # datasource refs as {type, uid} from v36 on
    for legacy in ("rows", "__inputs", "gnetId", "sharedCrosshair"):
        assert legacy not in overview_doc


def test_request_rate_per_route(overview_doc: Doc) -> None:
    p = panel(overview_doc, "Request rate per route")
    assert p["type"] == "timeseries"
    assert unit(p) == "reqps"
    (target,) = p["targets"]
    assert reads(target["expr"]) == {"traces_span_metrics_calls_total"}
    assert target["legendFormat"] == "{{http_route}}"
    (recorded,) = selectors(target["expr"])
    rule = RECORDED[recorded.name]
    tree = parse(rule.expr.text)
    assert str(tree.op) == "sum" and "http_route" in str(tree.modifier)
    assert tree.expr.func.name == "rate"
    assert ("span_kind", "Equal", "SPAN_KIND_SERVER") in matchers(selectors(rule.expr.text)[0])


def test_error_rate_is_a_ratio_of_errors_to_all_calls(overview_doc: Doc) -> None:
    for title, kind in (("Error rate", "stat"), ("Error rate over time", "timeseries")):
        p = panel(overview_doc, title)
        assert p["type"] == kind
        assert unit(p) == "percentunit"
        (target,) = p["targets"]
        assert str(parse(target["expr"]).op) == "/"
        numerator, denominator = selectors(target["expr"])
        assert numerator.name == denominator.name
        assert ("status_code", "Equal", "STATUS_CODE_ERROR") in matchers(numerator)
        assert "status_code" not in {m[0] for m in matchers(denominator)}
        assert reads(target["expr"]) == {"tenant_span_metrics_calls_total"}
        assert "or vector(0)" in target["expr"]  # no errors yet reads 0 %, not "No data"
        steps = p["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert [s["value"] for s in steps] == [None, 0.01, 0.05]


def test_latency_quantiles_in_seconds_with_exemplars(overview_doc: Doc) -> None:
    p = panel(overview_doc, "Latency P50 / P95 / P99")
    assert unit(p) == "s"
    quantiles = []
    for target in p["targets"]:
        tree = parse(target["expr"])
        quantile = tree.lhs if str(getattr(tree, "op", "")) == "unless" else tree
        assert quantile.func.name == "histogram_quantile"
        quantiles.append(float(str(quantile.args[0])))
        assert "le" in str(quantile.args[1].modifier)
        assert reads(target["expr"]) == {"traces_span_metrics_duration_seconds_bucket"}
    assert quantiles == [0.5, 0.95, 0.99]
    assert [t["legendFormat"] for t in p["targets"]] == ["P50", "P95", "P99"]
    (with_exemplars,) = [t for t in p["targets"] if t["exemplar"]]
    # Recorded series have no exemplars: the exemplar query must name the raw histogram.
    names = {s.name for s in selectors(with_exemplars["expr"])}
    assert "traces_span_metrics_duration_seconds_bucket" in names


def test_active_whatsapp_sessions(overview_doc: Doc) -> None:
    for title, kind in (
        ("Active WhatsApp sessions", "stat"),
        ("Active WhatsApp sessions over time", "timeseries"),
    ):
        p = panel(overview_doc, title)
        assert p["type"] == kind
        assert unit(p) == "short"
        assert reads(p["targets"][0]["expr"]) == {"tiktickets_whatsapp_sessions_active"}
        assert "rate(" not in p["targets"][0]["expr"]  # a gauge: summed, never rated


def test_socketio_connections_top_tenants(overview_doc: Doc) -> None:
    p = panel(overview_doc, "Socket.io connections per tenant (top 20)")
    assert p["type"] == "bargauge"
    assert unit(p) == "short"
    (target,) = p["targets"]
    assert target["instant"] is True and target["range"] is False
    assert target["legendFormat"] == "{{tenant_id}}"
    tree = parse(target["expr"])
    assert str(tree.op) == "topk" and str(tree.param) == "20"
    assert reads(target["expr"]) == {"tiktickets_socketio_connections"}
    assert "fieldOptions" not in p["options"]  # the Grafana 6 shape grafanalib emits


def test_recent_error_logs(overview_doc: Doc) -> None:
    p = panel(overview_doc, "Recent error logs")
    assert p["type"] == "logs"
    assert p["datasource"] == {"type": "loki", "uid": "loki"}
    assert p["options"]["sortOrder"] == "Descending"
    assert p["options"]["enableLogDetails"] is True
    (target,) = p["targets"]
    expr = target["expr"]
    assert expr.startswith('{service_namespace="tiktickets", service_name="tiktickets-backend"}')
    assert "| severity_number >= 17" in expr
    assert '| tenant_id=~"$tenant" or tenant_selection=~"$tenant"' in expr
    assert f'label_format tenant_selection="{ALL_TENANTS}"' in expr
    assert "json" not in expr


def test_tenant_variable(overview_doc: Doc) -> None:
    (variable,) = overview_doc["templating"]["list"]
    assert variable["name"] == "tenant"
    assert variable["multi"] is True and variable["includeAll"] is True
    assert variable["allValue"] == ALL_TENANTS  # All reads the pre-summed rows
    assert variable["datasource"] == {"type": "prometheus", "uid": "prometheus"}
    assert "tenant_id" in variable["query"]["query"]


def test_every_tenant_scoped_query_filters_on_tenant(overview_doc: Doc) -> None:
    checked = 0
    for p in overview_doc["panels"]:
        for target in p.get("targets", []):
            if p["datasource"]["type"] == "loki":
                assert '| tenant_id=~"$tenant"' in target["expr"]
                checked += 1
                continue
            for selector in selectors(target["expr"]):
                labels = RECORDED[selector.name].series_labels if selector.name in RECORDED else None
                if labels is None:
                    signal = CONTRACT.metric_for_series(selector.name)
                    assert signal is not None
                    labels = frozenset(signal.labels)
                if "tenant_id" not in labels:
                    continue
                found = matchers(selector)
                if ("tenant_id", "NotEqual", ALL_TENANTS) in found and (
                    "tenant_id",
                    "Re",
                    "$tenant",
                ) not in found:
                    continue  # the "every tenant" branch of top-k, gated on All
                assert ("tenant_id", "Re", "$tenant") in found, (p["title"], selector.name)
                checked += 1
    assert checked, "no tenant-scoped query was looked at"


def test_every_panel_has_description_unit_and_a_single_datasource(overview_doc: Doc) -> None:
    panels = [p for p in overview_doc["panels"] if p["type"] != "row"]
    assert panels, "the Overview has no panels"
    for p in panels:
        assert p.get("description"), p["title"]
        if p["type"] != "logs":
            assert unit(p), p["title"]
        assert "maxDataPoints" not in p
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs))
        for target in p["targets"]:
            assert target["datasource"] == p["datasource"]


@pytest.mark.parametrize("variables", [{"tenant": "acme"}, {"tenant": ALL_TENANTS}])
def test_every_prometheus_query_parses_as_grafana_sends_it(
    overview_doc: Doc, variables: dict[str, str]
) -> None:
    count = 0
    for p in overview_doc["panels"]:
        for target in p.get("targets", []):
            if target["datasource"]["type"] == "prometheus":
                parse(target["expr"], variables)
                count += 1
    assert count, "the Overview has no Prometheus query"
