"""Where TikTickets' alerts go: Alertmanager's routes, receivers and inhibitions.

Every alert rule carries a `severity` (prometheus_rules/*.py); each severity has one route here, and
`check` reports a rule whose severity has none. `page` wakes someone: it is notified at once and
repeated hourly while it fires. `ticket` is for working hours: it waits longer to gather its group,
and repeats daily. One notification per alert, SLO and tenant (`group_by`): a tenant's ticket never
hides in another tenant's, and the signal-missing tickets of one outage arrive as one.

The receivers are webhooks whose URLs Alertmanager reads from files at send time (`url_file`), mounted
from outside the repository: monitoring/docker-compose.observability.yml mounts
monitoring/alertmanager/secrets/ (ignored by git), and the README says what to put there. A missing
file fails each notification, which Alertmanager counts, and TikTicketsAlertmanagerNotificationsFailing
reports.
"""

from dashboards_as_code.define import TENANT_LABEL, AlertRouting, Inhibition, Receiver, SeverityRoute, Webhook
from prometheus_rules.alerts import COLLECTOR_DOWN, SIGNAL_MISSING
from prometheus_rules.slo import SLO_LABEL
from prometheus_rules.tenant_slo import MANY_TENANTS_BURNING, TENANT_ERROR_BURN

SECRETS_DIR = "/etc/alertmanager/secrets"
"""Where Alertmanager finds the receivers' URL files (a read-only mount in the compose file)."""
PAGE = Receiver(name="page", webhooks=(Webhook(url_file=f"{SECRETS_DIR}/page-webhook-url"),))
TICKET = Receiver(name="ticket", webhooks=(Webhook(url_file=f"{SECRETS_DIR}/ticket-webhook-url"),))

ALERT_ROUTING = AlertRouting(
    group_by=("alertname", SLO_LABEL, TENANT_LABEL),
    routes=(
        SeverityRoute(severity="page", receiver=PAGE.name, group_wait="30s", repeat_interval="1h"),
        SeverityRoute(severity="ticket", receiver=TICKET.name, group_wait="2m", repeat_interval="24h"),
    ),
    receivers=(PAGE, TICKET),
    inhibitions=(
        Inhibition(
            why="a page silences the ticket of the same SLO and tenant: one burn, one notification",
            source={"severity": "page", SLO_LABEL: "=~.+"},
            target={"severity": "ticket", SLO_LABEL: "=~.+"},
            equal=(SLO_LABEL, TENANT_LABEL),
        ),
        Inhibition(
            why="many tenants burning is one page, not a ticket per tenant",
            source={"alertname": MANY_TENANTS_BURNING.alert},
            target={"alertname": TENANT_ERROR_BURN.alert},
            equal=(SLO_LABEL,),
        ),
        Inhibition(
            why="a down Collector is why every signal is missing: its page says so once",
            source={"alertname": COLLECTOR_DOWN.alert},
            target={"alertname": SIGNAL_MISSING},
        ),
    ),
)
