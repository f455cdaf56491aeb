"""The README's "Add a panel" recipe, followed in a copy of the project as a user would follow it.

`add_panel` opens the copy's `dashboards/overview.py` and adds a row with one tenant panel to the
Overview (a helper call in a `Row`, its query built from a contract signal with `queries` from
`dashboards_as_code.define`).
`OLD_RECIPE` is what the README used to lead to: the contract series with the tenant filter, empty
at All. `BUILDER` is what it says now.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SIGNAL = "WHATSAPP_MESSAGES_SENT"
"""A tenant-scoped counter of the contract that no Overview panel reads: a new panel's own signal."""
TITLE = "WhatsApp messages sent per second"
OLD_RECIPE = f"q.sum_by(q.rate(q.select({SIGNAL})))"
BUILDER = f"q.tenant_sum({SIGNAL})"

_PANEL = """
            Row(
                "Messaging",
                [
                    timeseries(
                        "{title}",
                        description="WhatsApp messages sent per second, for the tenants in $tenant.",
                        unit=REQUESTS_PER_SECOND,
                        datasource=prometheus,
                        targets=[prom({query}, "sent")],
                    ),
                ],
            ),"""


def add_row_to_overview(project: Path, row: str) -> Path:
    """Insert `row` (Python source of a `Row(...)` entry) first in the copy's Overview, and import
    the contract signal it reads, as the README's "Add a panel" says; one place for both recipes'
    users, so a change to `dashboards/overview.py`'s layout is followed once."""
    path = project / "dashboards" / "overview.py"
    source = path.read_text()
    imported = "from dashboards_as_code.define import queries as q\n"
    for anchor in (imported, "        rows=[\n"):
        assert source.count(anchor) == 1, f"dashboards/overview.py no longer has {anchor!r} once"
    source = source.replace(imported, f"{imported}from telemetry.contract import {SIGNAL}\n")
    path.write_text(source.replace("        rows=[\n", "        rows=[" + row + "\n"))
    return path


def add_panel(project: Path, query: str) -> Path:
    """Add the panel reading `query` (Python, over `q` and the contract) to the copy's Overview."""
    return add_row_to_overview(project, _PANEL.format(title=TITLE, query=query))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`build.py` through its real entry point, as a user runs it."""
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
