"""A dashboard about one tenant at a time: a single-select `$tenant` (no All, no multi), as a user writes it.

`SOURCE` is a whole `dashboards/<name>.py` module, written into a copy of the project by the tests
(`add_dashboard`), so it goes through the loader, `build`, `check` and `doctor` exactly as a user's
own file would. Its panels read the ways a single tenant may be read: `q.tenant_sum` (recorded, with
an `__all__` row that a single value never selects), the Overview's error ratio, and a raw contract
series with the tenant filter, which is right here because a single value is never `__all__`.
"""

from __future__ import annotations

from pathlib import Path

UID = "tenant-detail"
MODULE = "tenant_detail"
SOURCE = '''"""Tenant detail: one tenant's requests, errors and WhatsApp sessions."""

from config import TIKTICKETS_FOLDER
from datasources import PROMETHEUS
from dashboards_as_code import queries as q
from dashboards_as_code.defaults import TENANT_VARIABLE
from dashboards_as_code.definitions.types import DashboardDefinition
from dashboards_as_code.panels.grafanalib_ext import QueryVariable
from dashboards_as_code.panels.style import (
    COUNT,
    RATIO_AS_PERCENT,
    REQUESTS_PER_SECOND,
    Row,
    prom,
    stat,
    timeseries,
)
from dashboards_as_code.panels.style import dashboard as make_dashboard
from telemetry.contract import (
    SERVER_SPANS_ONLY,
    STATUS_CODE_ERROR,
    TENANT_SPAN_CALLS,
    WHATSAPP_MESSAGES_SENT,
    WHATSAPP_SESSIONS_ACTIVE,
)


def dashboard() -> DashboardDefinition:
    tenant = QueryVariable(
        name=TENANT_VARIABLE,
        label="Tenant",
        query=q.label_values(TENANT_SPAN_CALLS, "tenant_id"),
        datasource=PROMETHEUS.ref,
        all_value=None,
        multi=False,
        include_all=False,
    )
    servers = (SERVER_SPANS_ONLY,)
    errors = q.tenant_sum(TENANT_SPAN_CALLS, q.eq("status_code", STATUS_CODE_ERROR), where=servers)
    total = q.tenant_sum(TENANT_SPAN_CALLS, keep=("status_code",), where=servers)
    prometheus = PROMETHEUS.ref
    return make_dashboard(
        uid="tenant-detail",
        title="TikTickets - Tenant detail",
        folder=TIKTICKETS_FOLDER,
        description="One tenant: request rate, error ratio, WhatsApp sessions and messages.",
        variables=[tenant],
        rows=[
            Row(
                "Tenant",
                [
                    timeseries(
                        "Requests per second",
                        description="Server requests per second of the tenant in $tenant.",
                        unit=REQUESTS_PER_SECOND,
                        datasource=prometheus,
                        targets=[prom(q.tenant_sum(TENANT_SPAN_CALLS, where=servers), "requests")],
                    ),
                    stat(
                        "Error ratio",
                        description="Share of the tenant's server spans that failed.",
                        unit=RATIO_AS_PERCENT,
                        datasource=prometheus,
                        targets=[prom(q.ratio(q.or_zero(errors), total), "error ratio")],
                    ),
                    stat(
                        "WhatsApp sessions",
                        description="WhatsApp sessions of the tenant connected now.",
                        unit=COUNT,
                        datasource=prometheus,
                        targets=[prom(q.tenant_sum(WHATSAPP_SESSIONS_ACTIVE), "sessions")],
                    ),
                    timeseries(
                        "WhatsApp messages sent per second",
                        description="Read from the raw counter: one tenant needs no __all__ row.",
                        unit=REQUESTS_PER_SECOND,
                        datasource=prometheus,
                        targets=[prom(q.sum_by(q.rate(q.select(WHATSAPP_MESSAGES_SENT))), "sent")],
                    ),
                ],
            ),
        ],
    )
'''


def add_dashboard(project: Path) -> Path:
    """Write the single-tenant dashboard into the copy's `dashboards/`, as a user adds a dashboard."""
    path = project / "dashboards" / f"{MODULE}.py"
    path.write_text(SOURCE)
    return path
