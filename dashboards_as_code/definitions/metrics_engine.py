"""The metrics engine that takes Prometheus' place when one Prometheus is not enough (README, "When one
Prometheus is not enough"): one setting in a project's config.py, and nothing in dashboards/ changes.

Cortex answers Prometheus' query API under `/prometheus` and keeps each of its tenants apart by the
`X-Scope-OrgID` header, so moving a Prometheus datasource onto it changes its URL, its
`prometheusType` (Grafana then knows what it talks to) and adds that header. One Cortex tenant per
environment, never one per application tenant: the application's tenants stay a `tenant_id` label.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, field_validator

from dashboards_as_code.errors import DefinitionError, Location

if TYPE_CHECKING:
    from dashboards_as_code.definitions.datasource import Datasource

TENANT_HEADER = "X-Scope-OrgID"
"""The header Cortex reads its tenant from (it does no authentication of its own)."""
PROMETHEUS_API_PATH = "/prometheus"
"""Where Cortex serves Prometheus' HTTP API (its default `-http.prometheus-http-prefix`)."""


class MetricsEngine(BaseModel):
    """`ProjectConfig.metrics_engine`: Cortex in place of the Prometheus datasource `datasource_uid`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    """Cortex's address as Grafana reaches it (`http://cortex:9009` in the compose overlay)."""
    tenant: str
    """This environment's Cortex tenant: the shards push as it, Grafana reads as it."""
    datasource_uid: str = "prometheus"
    """The Prometheus datasource that moves; every panel keeps pointing at this uid."""
    rules_dir: str = "monitoring/cortex/rules"
    """Where `build` writes the rule file in the layout Cortex's ruler reads from a local directory
    (`-ruler-storage.backend=local`): `<rules_dir>/<tenant>/<namespace>`, see `rules_file`."""

    @field_validator("rules_dir")
    @classmethod
    def _relative_path(cls, path: str) -> str:
        parts = PurePosixPath(path).parts
        if not path or path.startswith("/") or "\\" in path or ".." in parts or parts[0] == ".":
            raise ValueError(
                f"{path!r} must be a plain relative path inside the project (no '..', not absolute)"
            )
        return path.rstrip("/")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")) or url.rstrip("/") in {"http:", "https:"}:
            raise ValueError(f"{url!r}: Cortex's address, starting with http:// or https://")
        return url.rstrip("/")

    @field_validator("tenant")
    @classmethod
    def _header_value(cls, tenant: str) -> str:
        # Cortex refuses a tenant id with characters outside this set, or `.`/`..` (its tenant package).
        if not tenant or tenant in {".", ".."} or not all(c.isalnum() or c in "!-_.*'()" for c in tenant):
            raise ValueError(f"{tenant!r}: a Cortex tenant is letters, digits and !-_.*'() (not '.' or '..')")
        return tenant

    def rules_file(self, namespace: str) -> str:
        """The rule file of `namespace` in the ruler's local layout: Cortex reads each directory below
        its rules directory as a tenant and each file in it as a namespace named after the file, so the
        file has no extension and is named exactly as `push-rules` names the namespace (the project)."""
        return f"{self.rules_dir}/{self.tenant}/{namespace}"

    def moved(self, datasources: Sequence[Datasource]) -> list[Datasource]:
        """`datasources` with the one named by `datasource_uid` pointing at Cortex as this tenant."""
        from dashboards_as_code.definitions.datasource import PrometheusDatasource  # noqa: PLC0415 (cycle)

        found = [d for d in datasources if d.uid == self.datasource_uid]
        if not found or not isinstance(found[0], PrometheusDatasource):
            named = f"a {found[0].type} datasource" if found else "no datasource"
            raise DefinitionError(
                Location(file="config.py", datasource=self.datasource_uid),
                f"metrics_engine.datasource_uid={self.datasource_uid!r} names {named}; it must name the "
                "Prometheus datasource that moves to the engine",
            )
        engine = found[0].model_copy(
            update={
                "url": f"{self.url}{PROMETHEUS_API_PATH}",
                "json_data": found[0].json_data.model_copy(update={"prometheus_type": "Cortex"}),
                "http_headers": {**found[0].http_headers, TENANT_HEADER: self.tenant},
            }
        )
        return [engine if d is found[0] else d for d in datasources]
