"""Definitions -> normalised documents -> files, and the comparison `check` makes with what is on disk.

The normalised document is the hub: what `build` writes, `check` lints and compares, and what a
push would send are the same dicts, made here by one function per kind. Output is deterministic
(sorted JSON keys, fixed YAML order, no timestamps), so the same definitions give byte-identical files.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from grafanalib._gen import DashboardEncoder

from machinery.datasource_model import Datasource
from machinery.definitions import DashboardDefinition, Folder, Project
from machinery.errors import DefinitionError, Location
from machinery.provisioning_vars import escape_tree
from machinery.rules_model import AlertRule, RuleGroup
from telemetry.contract import CONTRACT

SCHEMA_VERSION = 39
"""Classic JSON model; every Grafana 11, 12 and 13 migrates it forward on load (grafana.md §6.1)."""

GRAFANA_PROVISIONING_DIR = "/etc/grafana/provisioning"
"""Where the compose file mounts `provisioning/` inside the Grafana container."""

PROVISIONING = "provisioning"
CONTRACT_DOC = "docs/telemetry-contract.md"
RULES_FILE = "monitoring/prometheus/rules/tiktickets.yml"
"""Loaded by the compose Prometheus (rule_files: /etc/prometheus/rules/*.yml)."""
RULES_FILE = "monitoring/prometheus/rules/tiktickets.yml"
"""Loaded by the compose Prometheus (rule_files: /etc/prometheus/rules/*.yml)."""

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


def _panel(panel: dict[str, Any]) -> dict[str, Any]:
    if panel.get("type") == "row":
        return {key: panel[key] for key in ROW_PANEL_FIELDS if key in panel}
    # Null-valued keys go too: grafanalib writes null for unset options; absent means the same to Grafana.
    return {
        key: value for key, value in panel.items() if key not in DROPPED_PANEL_FIELDS and value is not None
    }


def normalise_dashboard(definition: DashboardDefinition) -> dict[str, Any]:
    """The dashboard JSON Grafana gets (file provisioning) and that a push would send."""
    raw = json.loads(json.dumps(definition.dashboard.to_json_data(), cls=DashboardEncoder))
    document = {key: value for key, value in raw.items() if key not in DROPPED_DASHBOARD_FIELDS}
    document["schemaVersion"] = SCHEMA_VERSION
    document["id"] = None
    document["panels"] = [_panel(p) for p in raw["panels"]]
    timepicker = document.get("timepicker") or {}
    timepicker.pop("time_options", None)  # removed from the time picker in Grafana 8
    document["timepicker"] = timepicker
    return document


def datasources_document(datasources: Sequence[Datasource]) -> dict[str, Any]:
    """The datasource provisioning file, with runtime values (escaping happens when it is written)."""
    return {
        "apiVersion": 1,
        # Datasources removed from datasources/ disappear from Grafana too.
        "prune": True,
        "datasources": [d.document() for d in datasources],
    }


def dashboard_path(definition: DashboardDefinition) -> str:
    return f"{PROVISIONING}/dashboards/{definition.folder.uid}/{definition.uid}.json"


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
                "updateIntervalSeconds": 30,
                "options": {
                    "path": f"{GRAFANA_PROVISIONING_DIR}/dashboards/{folder.uid}",
                    "foldersFromFilesStructure": False,
                },
            }
            for folder in sorted(set(folders), key=lambda f: f.uid)
        ],
    }


def dump_json(document: Any) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def dump_provisioning_yaml(document: Any, source: str) -> bytes:
    """YAML for Grafana's provisioning loader: every string `$`-escaped, under a header naming the source."""
    body = yaml.safe_dump(escape_tree(document), sort_keys=False, width=1000, allow_unicode=True)
    header = f"# Generated from {source} by `python build.py build`. Do not edit: edit {source}.\n"
    return (header + body).encode()


README = """# provisioning/ (generated)

Everything here is written by `python build.py build` from `dashboards/`, `datasources/` and
`telemetry/contract.py`; edits made here are overwritten, and `python build.py check` fails on them.
It is committed so that `docker compose up` works without Python: the compose file mounts this
folder read-only at `/etc/grafana/provisioning`, and Grafana loads it on startup.

- `datasources/datasources.yaml`: Prometheus, Loki and Jaeger with their correlations.
- `dashboards/providers.yaml`: one file provider per folder.
- `dashboards/<folder uid>/<dashboard uid>.json`: the dashboards.
"""


@dataclass(frozen=True)
class Output:
    path: str
    """Relative to the project root, with forward slashes."""
    content: bytes


def _panel_link(alert: AlertRule, documents: dict[str, dict[str, Any]], grafana_url: str) -> str | None:
    if alert.dashboard is None:
        return None
    document = documents.get(alert.dashboard)
    if document is None:
        raise DefinitionError(
            Location(file="rules/"), f"alert {alert.alert} links to unknown dashboard {alert.dashboard!r}"
        )
    url = f"{grafana_url.rstrip('/')}/d/{alert.dashboard}"
    if alert.dashboard_panel is None:
        return url
    ids = [p["id"] for p in document["panels"] if p.get("title") == alert.dashboard_panel]
    if not ids:
        raise DefinitionError(
            Location(file="rules/", dashboard=alert.dashboard),
            f"alert {alert.alert} links to panel {alert.dashboard_panel!r}, which the dashboard lacks",
        )
    return f"{url}?viewPanel={ids[0]}"


def rules_document(
    groups: Sequence[RuleGroup],
    documents: dict[str, dict[str, Any]],
    grafana_url: str = "http://localhost:3001",
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


def dump_rules_yaml(document: Any) -> bytes:
    header = "# Generated from rules/ by `python build.py build`. Do not edit: edit rules/.\n"
    return (header + yaml.safe_dump(document, sort_keys=False, width=1000, allow_unicode=True)).encode()


def render_outputs(
    dashboards: Sequence[DashboardDefinition],
    datasources: Sequence[Datasource],
    rule_groups: Sequence[RuleGroup] = (),
    *,
    grafana_url: str = "http://localhost:3001",
    runbook_url: str = "README.md",
) -> list[Output]:
    """Every generated file, in path order."""
    documents = {d.uid: normalise_dashboard(d) for d in dashboards}
    outputs = [
        Output(
            f"{PROVISIONING}/datasources/datasources.yaml",
            dump_provisioning_yaml(datasources_document(datasources), "datasources/"),
        ),
        Output(
            f"{PROVISIONING}/dashboards/providers.yaml",
            dump_provisioning_yaml(providers_document(d.folder for d in dashboards), "dashboards/"),
        ),
        Output(f"{PROVISIONING}/README.md", README.encode()),
        Output(CONTRACT_DOC, CONTRACT.to_markdown().encode()),
    ]
    outputs += [Output(dashboard_path(d), dump_json(documents[d.uid])) for d in dashboards]
    if rule_groups:
        document = rules_document(rule_groups, documents, grafana_url, runbook_url)
        outputs.append(Output(RULES_FILE, dump_rules_yaml(document)))
    return sorted(outputs, key=lambda o: o.path)


def render_project(project: Project) -> list[Output]:
    return render_outputs(
        project.dashboards,
        project.datasources,
        project.rule_groups,
        grafana_url=project.grafana_url,
        runbook_url=project.runbook_url,
    )


def _generated_files_on_disk(root: Path) -> set[str]:
    """Everything below provisioning/ is generated; other outputs are single known files."""
    base = root / PROVISIONING
    if not base.is_dir():
        return set()
    return {p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file()}


def atomic_write(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).chmod(0o644)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class WriteReport:
    written: list[str]
    unchanged: list[str]
    removed: list[str]


def write_outputs(root: Path, outputs: Sequence[Output]) -> WriteReport:
    written, unchanged = [], []
    for output in outputs:
        target = root / output.path
        if target.is_file() and target.read_bytes() == output.content:
            unchanged.append(output.path)
            continue
        atomic_write(target, output.content)
        written.append(output.path)
    removed = sorted(_generated_files_on_disk(root) - {o.path for o in outputs})
    for path in removed:
        (root / path).unlink()
    for directory in sorted((root / PROVISIONING).rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return WriteReport(written, unchanged, removed)


@dataclass(frozen=True)
class Drift:
    """How one generated file on disk differs from what the definitions produce."""

    path: str
    kind: str  # "missing" | "changed" | "not generated"
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}" + (f" ({self.detail})" if self.detail else "")


def _panel_titles(document: dict[str, Any]) -> dict[Any, tuple[str, Any]]:
    return {p.get("id"): (str(p.get("title", "")), p) for p in document.get("panels", [])}


def _describe_json_change(expected: bytes, actual: bytes) -> str:
    try:
        want, have = json.loads(expected), json.loads(actual)
    except json.JSONDecodeError:
        return "not valid JSON on disk"
    if not isinstance(have, dict):
        return "not a dashboard object on disk"
    changes = [
        f"{key} differs"
        for key in sorted(set(want) | set(have))
        if key != "panels" and want.get(key) != have.get(key)
    ]
    want_panels, have_panels = _panel_titles(want), _panel_titles(have)
    for panel_id in sorted(set(want_panels) | set(have_panels), key=str):
        if panel_id not in have_panels:
            changes.append(f"panel {want_panels[panel_id][0]!r} missing on disk")
        elif panel_id not in want_panels:
            changes.append(f"panel {have_panels[panel_id][0]!r} not in the definitions")
        elif want_panels[panel_id][1] != have_panels[panel_id][1]:
            changes.append(f"panel {want_panels[panel_id][0]!r} differs")
    return "; ".join(changes) or "formatting differs"


def _describe_text_change(expected: bytes, actual: bytes) -> str:
    diff = list(
        difflib.unified_diff(
            actual.decode(errors="replace").splitlines(), expected.decode().splitlines(), lineterm="", n=0
        )
    )
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    first = next((line for line in diff if line.startswith("@@")), "")
    return f"{removed} line(s) on disk differ from {added} generated line(s), first at {first.strip('@ ')}"


def compare_outputs(root: Path, outputs: Sequence[Output]) -> list[Drift]:
    drifts = []
    for output in outputs:
        target = root / output.path
        if not target.is_file():
            drifts.append(Drift(output.path, "missing"))
            continue
        actual = target.read_bytes()
        if actual == output.content:
            continue
        describe = _describe_json_change if output.path.endswith(".json") else _describe_text_change
        drifts.append(Drift(output.path, "changed", describe(output.content, actual)))
    for path in sorted(_generated_files_on_disk(root) - {o.path for o in outputs}):
        drifts.append(Drift(path, "not generated", "no definition produces it; `build` removes it"))
    return drifts
