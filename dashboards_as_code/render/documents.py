"""Definitions -> normalised documents: the hub every command reads.

What `build` writes, `check` lints and compares, `diff` compares and `push` sends are the dicts made
here, once per command: each kind of Grafana object renders its own (dashboards_as_code/kinds/), and the files
that are not Grafana objects (rules, the contract, the cardinality limits) are made here. Nothing
downstream re-derives a dashboard. Documents are plain, deterministic data; turning them into bytes
is `files.py`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from dashboards_as_code import defaults, kinds
from dashboards_as_code.contract.markdown import contract_markdown
from dashboards_as_code.contract.model import TelemetryContract
from dashboards_as_code.definitions.prometheus_rule import AlertRule, RuleGroup
from dashboards_as_code.definitions.types import Project
from dashboards_as_code.errors import DefinitionError, Location
from dashboards_as_code.kinds.dashboard import DashboardDocument


def _panel_link(alert: AlertRule, documents: dict[str, dict[str, Any]], grafana_url: str) -> str | None:
    if alert.dashboard is None:
        return None
    document = documents.get(alert.dashboard)
    if document is None:
        raise DefinitionError(
            Location(file="prometheus_rules/"),
            f"alert {alert.alert} links to unknown dashboard {alert.dashboard!r}",
        )
    url = f"{grafana_url.rstrip('/')}/d/{alert.dashboard}"
    query = [f"var-{name}={value}" for name, value in alert.dashboard_variables.items()]
    if alert.dashboard_panel is None:
        return f"{url}?{'&'.join(query)}" if query else url
    ids = [p["id"] for p in document["panels"] if p.get("title") == alert.dashboard_panel]
    if not ids:
        raise DefinitionError(
            Location(file="prometheus_rules/", dashboard=alert.dashboard),
            f"alert {alert.alert} links to panel {alert.dashboard_panel!r}, which the dashboard lacks",
        )
    return f"{url}?{'&'.join([*query, f'viewPanel={ids[0]}'])}"


def rules_document(
    groups: Sequence[RuleGroup],
    documents: dict[str, dict[str, Any]],
    grafana_url: str = defaults.GRAFANA_URL,
    runbook_url: str = "README.md",
) -> dict[str, Any]:
    """The Prometheus rule file: recording rules, and alerts with their dashboard and runbook links."""
    rendered = []
    for group in groups:
        rules: list[dict[str, Any]] = [rule.document() for rule in group.recording]
        for alert in group.alerts:
            annotations = {
                "summary": alert.summary,
                "description": alert.description,
                "runbook_url": f"{runbook_url}#{alert.runbook}",
            }
            link = _panel_link(alert, documents, grafana_url)
            if link:
                annotations["dashboard_url"] = link
            rules.append(
                {
                    "alert": alert.alert,
                    "expr": alert.expr,
                    "for": alert.duration,
                    "labels": {"severity": alert.severity, **alert.labels},
                    "annotations": annotations,
                }
            )
        rendered.append({"name": group.name, "interval": group.interval, "rules": rules})
    return {"groups": rendered}


@dataclass(frozen=True)
class Documents:
    """Everything a project produces, as data: the single input of write, lint, check, diff and push."""

    project: Project
    by_kind: dict[str, Any]
    """Each kind's rendered documents, by kind name (what its `render` returned)."""
    rules: dict[str, Any] | None
    contract_markdown: str
    cardinality_limits: dict[str, Any]

    @property
    def dashboards(self) -> list[DashboardDocument]:
        return cast(list[DashboardDocument], self.by_kind["dashboard"])

    def with_dashboards(self, boards: list[DashboardDocument]) -> Documents:
        """These documents with `boards` in place of the dashboards (tests and benchmarks vary them)."""
        return replace(self, by_kind={**self.by_kind, "dashboard": boards})

    @property
    def datasources(self) -> dict[str, Any]:
        """The datasource provisioning file's content."""
        return cast(dict[str, Any], self.by_kind["datasource"])

    @property
    def providers(self) -> dict[str, Any]:
        """The dashboard providers file's content: one file provider per folder."""
        return cast(dict[str, Any], self.by_kind["folder"])


def cardinality_limits_document(contract: TelemetryContract, source: str) -> dict[str, Any]:
    """What each tenant-scoped signal's emitter must be configured to keep apart, by OTel name."""
    return {
        "generated_from": source,
        "tenants_per_instance": contract.tenants_per_instance,
        "limits": {m.otel_name: contract.cardinality_limit(m) for m in contract.metrics if m.tenant_budget},
    }


def build_documents(project: Project) -> Documents:
    by_kind = {kind.name: kind.render(project) for kind in kinds.registry()}
    dashboards: list[DashboardDocument] = by_kind["dashboard"]
    by_uid = {d.uid: d.document for d in dashboards}
    config = project.config
    rules = (
        rules_document(project.rule_groups, by_uid, config.grafana_public_url, config.runbook_url)
        if project.rule_groups
        else None
    )
    return Documents(
        project=project,
        by_kind=by_kind,
        rules=rules,
        contract_markdown=contract_markdown(
            project.contract,
            title=config.contract_title,
            source=project.contract_source,
            example=config.contract_example,
        ),
        cardinality_limits=cardinality_limits_document(project.contract, project.contract_source),
    )
