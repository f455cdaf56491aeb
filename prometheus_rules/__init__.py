"""Prometheus rules, defined beside the dashboards and from the same contract and query builders.

`overview.py` records what the Overview dashboard reads; `slo.py` holds the SLO targets and the
burn-rate alerts; `tenant_slo.py` the same SLOs per tenant, with a ticket per tenant; `alerts.py`
watches the Collector and every contract signal; `routing.py` says where each severity goes
(Alertmanager). Links in alerts use
`CONFIG.grafana_public_url` and `CONFIG.runbook_url` from config.py. `python build.py
build` writes them to monitoring/prometheus/rules/, which the compose Prometheus loads.
"""

from prometheus_rules.alerts import ALERT_GROUP
from prometheus_rules.overview import OVERVIEW_GROUP
from prometheus_rules.routing import ALERT_ROUTING
from prometheus_rules.slo import SLO_LONG_GROUP, SLO_SHORT_GROUP
from prometheus_rules.tenant_slo import TENANT_SLO_GROUP

RULE_GROUPS = [OVERVIEW_GROUP, SLO_SHORT_GROUP, SLO_LONG_GROUP, TENANT_SLO_GROUP, ALERT_GROUP]

__all__ = ["ALERT_ROUTING", "RULE_GROUPS"]
