"""The engine's defaults, in one place (httpx's `_config.py` is the model).

A project overrides what is its own (public URL, paths, file names) in its `config.py`; these are
the values the engine falls back on, and the facts about Grafana it builds on.
"""

from __future__ import annotations

GRAFANA_URL = "http://localhost:3001"
"""Where the compose stack publishes Grafana: the default for pushing and for links in alerts."""

GRAFANA_TIMEOUT_SECONDS = 10.0
"""One HTTP request to Grafana; failed requests are retried with backoff."""

PROMETHEUS_URL = "http://localhost:9090"
LOKI_URL = "http://localhost:3100"
RULER_URL = "http://localhost:9009"
"""Where `push-rules` reaches Cortex's ruler API: the scaled stack's host port (docker-compose.scale.yml)."""
"""Where the compose stack publishes Prometheus and Loki: where `doctor` looks by default."""

DOCTOR_TIMEOUT_SECONDS = 10.0
"""One `doctor` request; it retries nothing, so a dead datasource costs at most this per query."""

WATCH_CHILD_TIMEOUT_SECONDS = 120.0
"""One build or push that `watch` runs; a longer one is stopped, reported, and watching goes on."""

SCHEMA_VERSION = 42
"""The classic dashboard JSON model's version in Grafana 13.2: its migrator's latest and its schema
package's default (docs/grafana-13-facts.md §7). An older one is migrated in the browser on every load;
the `grafana-schema` check refuses one older than the pinned `@grafana/schema` writes. The document
keeps what migrations 40 to 42 would change (`dashboard_document`)."""

GRAFANA_PROVISIONING_MOUNT = "/etc/grafana/provisioning"
"""Where a Grafana container mounts the generated `provisioning/` folder (read-only)."""

PROVIDER_UPDATE_INTERVAL_SECONDS = 5
"""How often Grafana's file provider rereads the dashboard JSON files: with `watch`, a save shows in
Grafana within about this long (plus the build, under a second)."""

DASHBOARD_TIME_FROM = "now-6h"
"""Grafana's own opening range for a dashboard that sets none, and the one ours open on: `doctor`
samples a variable's values over the same range a viewer sees."""

MANAGED_TAG = "dashboards-as-code"
"""On every generated dashboard: `push --prune` only ever deletes dashboards carrying it."""

OWNER_TAG_PREFIX = "dac-project:"
"""`push` tags each dashboard with `dac-project:<project name>`: prune deletes only its own project's."""

GRAFANA_TAG_MAX_LENGTH = 50
"""Grafana refuses a dashboard with a longer tag (400 `tag-too-long`, grafana.md §3)."""

PROJECT_NAME_MAX_LENGTH = GRAFANA_TAG_MAX_LENGTH - len(OWNER_TAG_PREFIX)
"""The project name goes into the owner tag, so it must leave room for the prefix."""

GRAFANA_INTERVAL_VARIABLES = ("$__rate_interval", "$__interval", "$__range", "$__auto")
"""Grafana's built-in interval variables; a query checker replaces them with a duration before parsing."""

RATE_WINDOW = "$__rate_interval"
"""The window of `rate()` in dashboard queries: Grafana sizes it from the step and the scrape interval."""

RECORDING_RATE_WINDOW = "5m"
"""The window of `rate()` in recording rules, whose window is fixed: four times a 15 s metric flush
(the Collector's and the SDK's), so one late flush never reads as a drop. The derived rules of
`queries.tenant_sum` use it, and a project's hand-written rules should too."""

DERIVED_RULES_INTERVAL = "30s"
"""How often the derived rule group is evaluated: two 15 s scrapes per evaluation, well inside
Prometheus' 5 m lookback, and a 1 h view still gets 120 points."""

DERIVED_GROUP_SUFFIX = "-derived"
"""The derived rule group is named `<project name>-derived` in the project's rule file."""

TENANT_VARIABLE = "tenant"
"""Name of the dashboard variable every tenant-scoped query filters on."""
TENANT_LABEL = "tenant_id"
"""The label (and log/span attribute) that names the tenant on every signal of a multi-tenant service."""
ALL_TENANTS = "__all__"
"""`$tenant` when All is selected, and the `tenant_id` of the aggregate rows recording rules write:
All then reads one pre-summed series instead of one series per tenant."""

RULES_HOME = "prometheus_rules/"
"""Where a project's hand-written rule groups live: what a finding about a rule names."""
