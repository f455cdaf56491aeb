"""The benchmark's plain-query baseline is a valid Overview that reads only raw contract series."""

from __future__ import annotations

from bench.overview_plain_queries import ALL_VALUE, plain_query_document
from config import OVERVIEW_UID
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.kinds.dashboard import DashboardDocument
from dashboards_as_code.lint import LintContext, run_checks
from dashboards_as_code.promql.tree import parse, vector_selectors
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.render.files import render_outputs
from telemetry.contract import CONTRACT
from tests.conftest import REPO


def test_baseline_passes_the_lint_checks_and_reads_contract_series_only() -> None:
    documents = build_documents(load_project(REPO))
    (overview,) = [board for board in documents.dashboards if board.uid == OVERVIEW_UID]
    document = plain_query_document()
    # The baseline in the Overview's place, beside the project's other dashboards (which it links to).
    others = [board for board in documents.dashboards if board.uid != OVERVIEW_UID]
    baseline = documents.with_dashboards([DashboardDocument(overview.definition, document), *others])
    # Errors only: a checker that cannot run on this machine (no Node) is a warning, not a fault here.
    errors = [f for f in run_checks(LintContext(baseline, render_outputs(baseline))) if f.severity == "error"]
    assert errors == []
    series = {
        s.name
        for p in document["panels"]
        for t in p.get("targets", [])
        if t["datasource"]["type"] == "prometheus"
        for s in vector_selectors(parse(t["expr"]))
    }
    assert len(series) >= 4 and all(CONTRACT.metric_for_series(name) for name in series), series
    assert document["templating"]["list"][0]["allValue"] == ALL_VALUE
    assert document["panels"] != overview.document["panels"]
