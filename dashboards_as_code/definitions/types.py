"""What a project is made of, once its definitions are loaded.

The engine never imports a project's modules by name: the loader (`loader.py`) imports them from the
project root and hands a `Project` to everything else, so `--project DIR` means DIR's definitions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal, cast

import grafanalib.core as g
from pydantic import BaseModel, ConfigDict, field_validator

from dashboards_as_code import defaults
from dashboards_as_code.definitions.metrics_engine import MetricsEngine
from dashboards_as_code.errors import DefinitionError, Location

if TYPE_CHECKING:
    from dashboards_as_code.contract.model import TelemetryContract
    from dashboards_as_code.definitions.alert_routing import AlertRouting
    from dashboards_as_code.definitions.datasource import Datasource
    from dashboards_as_code.definitions.prometheus_rule import RuleGroup


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str


SectionsInV2 = Literal["rows", "tabs"]
"""How a dashboard's rows are laid out in its schema v2 form: as rows, or as tabs (v2 only)."""
SECTIONS_IN_V2: tuple[SectionsInV2, ...] = ("rows", "tabs")


def require_sections_in_v2(value: object, dashboard_uid: str) -> None:
    """Refuse a `sections_in_v2` that is not one of `SECTIONS_IN_V2`, naming the dashboard. Called where
    the definition is made and again where the v2 form is built, since a definition may set the field
    after it was made."""
    if value not in SECTIONS_IN_V2:
        raise DefinitionError(
            Location(dashboard=dashboard_uid), f"sections_in_v2={value!r}: one of {', '.join(SECTIONS_IN_V2)}"
        )


@dataclass
class DashboardDefinition:
    folder: Folder
    dashboard: g.Dashboard
    source: str = ""
    """The definition file, relative to the project root (set by the loader)."""
    sections_in_v2: SectionsInV2 = "rows"
    """`tabs`: in schema v2 (what `push` sends a Grafana 13 with `push_dashboards_as="v2"`, and what a
    v2-stored copy is compared in) each row is a tab, so a dashboard of many sections opens on one of
    them. The classic file (`provisioning/`) keeps the rows: Grafana turns tabs back into expanded rows."""

    def __post_init__(self) -> None:
        require_sections_in_v2(self.sections_in_v2, str(self.dashboard.uid))

    @property
    def uid(self) -> str:
        return str(self.dashboard.uid)

    @property
    def title(self) -> str:
        return str(self.dashboard.title)


class ProjectConfig(BaseModel):
    """A project's own values, in one place (kubernetes-mixin's `_config`): the project's `config.py`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Short name; the Prometheus rule file is named after it, and `push` marks every object it writes
    as this project's (`push --prune` deletes only this project's dashboards)."""
    contract_title: str
    """Heading of the generated contract page."""
    grafana_public_url: str = defaults.GRAFANA_URL
    """Where people open Grafana: alert links to dashboard panels start here."""
    runbook_url: str = "README.md"
    """The runbooks' document; alert links append `#<section>`."""
    provisioning_dir: str = "provisioning"
    """Everything below it is generated; Grafana mounts it at `defaults.GRAFANA_PROVISIONING_MOUNT`."""
    contract_doc: str = "docs/telemetry-contract.md"
    contract_example: str | None = None
    """A program that emits every signal of the contract, named on the contract page for the backend team."""
    rules_dir: str = "monitoring/prometheus/rules"
    """Where Prometheus loads rule files from (`rule_files:` in prometheus.yml)."""
    grafana_compose_file: str | None = None
    """The compose file whose `grafana/grafana:<version>` image the schema check must match."""
    cardinality_limits_file: str | None = None
    """A JSON file of the contract's cardinality limits (OTel instrument name -> attribute sets kept),
    written by `build` for the emitters to read: the SDK then keeps as many tenants apart as the
    contract budgets, never its default 2,000."""
    collector_config_file: str | None = None
    """The OpenTelemetry Collector's configuration: `check` holds its spanmetrics connectors that count
    per tenant to the contract's budgets (dimensions, cardinality limit, exemplars). None: not checked."""
    alertmanager_file: str | None = None
    """Where `build` writes the Alertmanager configuration from `prometheus_rules/routing.py`'s
    ALERT_ROUTING (the file Alertmanager loads). None: no routing is generated."""
    metrics_engine: MetricsEngine | None = None
    """Cortex in place of Prometheus, for the scaled topology (`monitoring/docker-compose.scale.yml`):
    the Prometheus datasource it names points at Cortex as this environment's tenant. None: Prometheus."""
    push_dashboards_as: Literal["classic", "v2"] = "classic"
    """The schema `push` creates dashboards in where Grafana serves `dashboard.grafana.app/v2` (13.x):
    `v2` stores them as the 13.x UI does, so a save there changes only what the person changed;
    `classic` (the default) as `provisioning/` holds them. A Grafana without it gets classic either
    way; a dashboard already in Grafana stays in the schema it is stored in."""

    @field_validator(
        "provisioning_dir",
        "contract_doc",
        "rules_dir",
        "grafana_compose_file",
        "cardinality_limits_file",
        "collector_config_file",
        "alertmanager_file",
    )
    @classmethod
    def _inside_the_project(cls, path: str | None) -> str | None:
        if path is None:
            return None
        parts = PurePosixPath(path).parts
        if not path or path.startswith("/") or "\\" in path or ".." in parts or parts[0] == ".":
            raise ValueError(
                f"{path!r} must be a plain relative path inside the project (no '..', not absolute)"
            )
        return path

    @field_validator("name")
    @classmethod
    def _file_name(cls, name: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
            raise ValueError(f"{name!r} names the rule file: letters, digits, '-' and '_' only")
        if len(name) > defaults.PROJECT_NAME_MAX_LENGTH:
            raise ValueError(
                f"{name!r} is {len(name)} characters; at most {defaults.PROJECT_NAME_MAX_LENGTH}: it is "
                f"also the owner tag {defaults.OWNER_TAG_PREFIX}<name> of pushed dashboards, and Grafana "
                f"refuses tags over {defaults.GRAFANA_TAG_MAX_LENGTH} characters"
            )
        return name

    @property
    def rules_file(self) -> str:
        return f"{self.rules_dir}/{self.name}.yml"


@dataclass
class Project:
    """A project's definitions, loaded from its root."""

    root: Path
    config: ProjectConfig
    contract: TelemetryContract
    contract_source: str
    """The contract's definition file, relative to the root."""
    definitions: dict[str, list[Any]]
    """Each kind's definitions (dashboards_as_code/kinds/), by kind name, as its `discover` found them."""
    rule_groups: list[RuleGroup] = field(default_factory=list)
    alert_routing: AlertRouting | None = None
    """Where the alerts of `rule_groups` go (prometheus_rules/routing.py), if the project routes them."""
    definition_sources: dict[int, str] = field(default_factory=dict)
    """id(definition) -> the definition file that made it (set by the loader), for findings."""
    signal_names: dict[str, str] = field(default_factory=dict)
    """Signal key -> the name the contract module gives it (`WHATSAPP_MESSAGES_SENT`), read when the
    module was loaded: a fix to paste names it, whatever a later load does to sys.modules."""

    @property
    def dashboards(self) -> list[DashboardDefinition]:
        return cast(list[DashboardDefinition], self.definitions.get("dashboard", []))

    @property
    def datasources(self) -> list[Datasource]:
        return cast(list["Datasource"], self.definitions.get("datasource", []))

    def source_of(self, definition: object, fallback: str = "datasources/") -> str:
        """The file that defines `definition` (a datasource, say), or `fallback` if none is known."""
        return self.definition_sources.get(id(definition), fallback)
