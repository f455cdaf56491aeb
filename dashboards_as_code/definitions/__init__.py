"""The shapes a project's definitions take (dashboards, datasources, Prometheus rules, the project's
own settings) and the loader that imports them from the project root."""
