"""Definitions -> normalised documents: the hub every command reads.

What `build` writes, `check` lints and compares, `diff` compares and `push` sends are the dicts made
here, once per command, by one function per kind (DESIGN.md). Nothing downstream re-derives a
dashboard. Documents are plain, deterministic data; turning them into bytes is `files.py`'s job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from grafanalib._gen import DashboardEncoder

from engine import defaults
from engine.contract.markdown import contract_markdown
from engine.contract.model import TelemetryContract
from engine.definitions.datasource import Datasource
from engine.definitions.prometheus_rule import AlertRule, RuleGroup
from engine.definitions.types import DashboardDefinition, Folder, Project
from engine.errors import DefinitionError, Location

# Fields grafanalib writes that we drop, and why. Nothing else is removed.
DROPPED_DASHBOARD_FIELDS = {
    "__inputs": "UI-import placeholders; file provisioning and the API never resolve them",
    "gnetId": "grafana.com id of an imported dashboard; ours are generated, not imported",
    "hideControls": "Grafana 4 option, no effect since Grafana 5",
    "rows": "Grafana 4 row layout; panels carry gridPos",
    "sharedCrosshair": "superseded by graphTooltip",
    "style": "per-dashboard theme, removed from the dashboard model in Grafana 10",
}
DROPPED_PANEL_FIELDS = {
    "span": "Grafana 4 row layout width; gridPos decides",
    "height": "Grafana 4 row layout height; gridPos decides",
    "minSpan": "Grafana 4 repeat option",
    "error": "runtime state, not configuration",
    "editable": "not a panel field; the dashboard's editable flag applies",
    "maxDataPoints": "grafanalib's default of 100 coarsens queries; without it Grafana uses the panel width",
}
ROW_PANEL_FIELDS = ("collapsed", "gridPos", "id", "panels", "title", "type")
"""A row is a header: Grafana ignores queries, datasource and options on it, so only these are kept."""


def without_nulls(node: Any, key: str = "") -> Any:
    """`node` without null-valued keys, at any depth: grafanalib writes null for what is unset, and
    Grafana's schema allows null almost nowhere (absent means "unset" to Grafana as well). The one
    null it declares is a threshold step's `value`: the base step, below every other."""
    if isinstance(node, dict):
        return {
            k: without_nulls(v, k)
            for k, v in node.items()
            if v is not None or (key == "steps" and k == "value")
        }
    if isinstance(node, list):
        return [without_nulls(item, key) for item in node]
    return node


def _panel(panel: dict[str, Any]) -> dict[str, Any]:
    if panel.get("type") == "row":
        row = {key: panel[key] for key in ROW_PANEL_FIELDS if key in panel}
        if row.get("panels"):  # a collapsed row holds its panels: they are normalised like the others
            row["panels"] = [_panel(nested) for nested in row["panels"]]
        return row
    kept: dict[str, Any] = without_nulls({k: v for k, v in panel.items() if k not in DROPPED_PANEL_FIELDS})
    return kept


def dashboard_document(definition: DashboardDefinition) -> dict[str, Any]:
    """The dashboard JSON Grafana gets (file provisioning) and that a push sends."""
    raw = json.loads(json.dumps(definition.dashboard.to_json_data(), cls=DashboardEncoder))
    document = {key: value for key, value in raw.items() if key not in DROPPED_DASHBOARD_FIELDS}
    document["schemaVersion"] = defaults.SCHEMA_VERSION
    document["id"] = None
    document["panels"] = [_panel(p) for p in raw["panels"]]
    timepicker = without_nulls(document.get("timepicker") or {})
    timepicker.pop("time_options", None)  # removed from the time picker in Grafana 8
    document["timepicker"] = timepicker
    return document


def datasources_document(datasources: Sequence[Datasource]) -> dict[str, Any]:
    """The datasource provisioning file, with runtime values (escaping happens when it is written)."""
    # No `prune: true`: Grafana 13 is reported to fail at startup on it ("data source not found"), and
    # a Grafana that does not start is worse than a stale datasource. To remove one, delete it in the
    # UI or with the API; push never deletes datasources.
    return {"apiVersion": 1, "datasources": [d.document() for d in datasources]}


def providers_document(folders: Iterable[Folder]) -> dict[str, Any]:
    """One file provider per folder; each reads the JSON files of its own directory."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": f"dashboards-as-code-{folder.uid}",
                "orgId": 1,
                "folder": folder.title,
                "folderUid": folder.uid,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": defaults.PROVIDER_UPDATE_INTERVAL_SECONDS,
                "options": {
                    "path": f"{defaults.GRAFANA_PROVISIONING_MOUNT}/dashboards/{folder.uid}",
                    "foldersFromFilesStructure": False,
                },
            }
            for folder in sorted(set(folders), key=lambda f: f.uid)
        ],
    }


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
class DashboardDocument:
    """A dashboard definition and its normalised JSON, made once per command."""

    definition: DashboardDefinition
    document: dict[str, Any]

    @property
    def uid(self) -> str:
        return self.definition.uid

    @property
    def folder(self) -> Folder:
        return self.definition.folder


@dataclass(frozen=True)
class Documents:
    """Everything a project produces, as data: the single input of write, lint, check, diff and push."""

    project: Project
    dashboards: list[DashboardDocument]
    datasources: dict[str, Any]
    providers: dict[str, Any]
    rules: dict[str, Any] | None
    contract_markdown: str
    cardinality_limits: dict[str, Any]


def cardinality_limits_document(contract: TelemetryContract, source: str) -> dict[str, Any]:
    """What each tenant-scoped signal's emitter must be configured to keep apart, by OTel name."""
    return {
        "generated_from": source,
        "tenants_per_instance": contract.tenants_per_instance,
        "limits": {m.otel_name: contract.cardinality_limit(m) for m in contract.metrics if m.tenant_budget},
    }


def build_documents(project: Project) -> Documents:
    dashboards = [DashboardDocument(d, dashboard_document(d)) for d in project.dashboards]
    by_uid = {d.uid: d.document for d in dashboards}
    config = project.config
    rules = (
        rules_document(project.rule_groups, by_uid, config.grafana_public_url, config.runbook_url)
        if project.rule_groups
        else None
    )
    return Documents(
        project=project,
        dashboards=dashboards,
        datasources=datasources_document(project.datasources),
        providers=providers_document(d.folder for d in project.dashboards),
        rules=rules,
        contract_markdown=contract_markdown(
            project.contract,
            title=config.contract_title,
            source=project.contract_source,
            example=config.contract_example,
        ),
        cardinality_limits=cardinality_limits_document(project.contract, project.contract_source),
    )
