"""Prometheus rules, defined beside the dashboards and from the same contract and query builders.

`overview.py` records what the Overview dashboard reads; `slo.py` holds the SLO targets and the
burn-rate alerts; `alerts.py` watches the Collector and every contract signal. `python build.py
build` writes them to monitoring/prometheus/rules/, which the compose Prometheus loads.
"""

from rules.alerts import ALERT_GROUP
from rules.overview import OVERVIEW_GROUP
from rules.slo import SLO_LONG_GROUP, SLO_SHORT_GROUP

GRAFANA_PUBLIC_URL = "http://localhost:3001"
"""Where people open Grafana: alert links to dashboard panels start here."""
RUNBOOK_URL = "README.md"
"""The runbooks' document; set it to the README's address on your code host. Links append `#<section>`."""

RULE_GROUPS = [OVERVIEW_GROUP, SLO_SHORT_GROUP, SLO_LONG_GROUP, ALERT_GROUP]

__all__ = ["GRAFANA_PUBLIC_URL", "RULE_GROUPS", "RUNBOOK_URL"]
