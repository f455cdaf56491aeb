"""The engine: turns a project's definitions (contract, dashboards, datasources, Prometheus rules,
config) into Grafana provisioning, rule files and pushes to a live Grafana.

Nothing in here names a project's metric, panel or uid, and nothing imports a project's modules:
`dashboards_as_code.definitions.loader` imports them from the project root and hands a `Project` to the rest.
`lint-imports` (contracts in pyproject.toml) keeps it so.
"""
