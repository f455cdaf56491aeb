"""TikTickets' project-wide values, in one place: read by the definitions and by the engine.

Change the public Grafana URL, the runbook address, a folder or a dashboard uid here, never in
the module that happens to use it.
"""

from dashboards_as_code.define import Folder, ProjectConfig

CONFIG = ProjectConfig(
    name="tiktickets",
    contract_title="TikTickets telemetry contract",
    grafana_public_url="http://localhost:3001",
    # Set it to the README's address on your code host; alert links append `#<section>`.
    runbook_url="README.md",
    contract_example="monitoring/demo/demo.js",
    grafana_compose_file="monitoring/docker-compose.observability.yml",
    # The demo (the backend team's reference) configures its SDK from it: monitoring/demo/demo.js.
    cardinality_limits_file="monitoring/demo/cardinality-limits.json",
    # Its per-tenant spanmetrics connector is held to the contract's budgets by `check`.
    collector_config_file="monitoring/otel-collector/config.yaml",
    # Written by `build` from prometheus_rules/routing.py; the compose Alertmanager loads it.
    alertmanager_file="monitoring/alertmanager/alertmanager.yml",
)

TIKTICKETS_FOLDER = Folder(uid="tiktickets", title="TikTickets")
OVERVIEW_UID = "tiktickets-overview"
"""Alerts link to the Overview's panels by this uid."""
TENANTS_UID = "tiktickets-tenants"
"""The fleet tenant by tenant: who burns their budget fastest, who grew most."""
TENANT_UID = "tiktickets-tenant"
"""One tenant's dashboard: `/d/tiktickets-tenant?var-tenant=<id>` is the link support sends around."""
