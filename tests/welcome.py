"""A newcomer's first change, made exactly as the README says, in a copy of the whole repository.

The suite must welcome a user's own panel and dashboard: tests of TikTickets' definitions derive
their counts, titles and files from the loaded project, so adding a panel to the Overview and a new
dashboard breaks none of them. `welcome_copy` copies the checkout's tracked files (tests included)
into a directory, links the installed tools (.venv, tools/bin, node_modules) in, and applies the
README's "Add a panel" and "Add a dashboard"; `DEFINITION_TESTS` is the pytest selection of every
test that reads the project's own definitions, which must stay green in that copy with no test
file edited. `python -m tests.welcome DIR` prepares such a copy by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.recipe import SIGNAL, add_row_to_overview
from tests.single_tenant import add_dashboard

LINKED = (
    ".venv",
    "tools/bin",
    "monitoring/demo/node_modules",
    "tools/logql/node_modules",
    "tools/grafana-schema/node_modules",
)
"""Installed, untracked things the copy reuses from this checkout (built by `make build`/`make tools`)."""

PANEL_TITLE = "WhatsApp messages sent per second per tenant, top 10"
DASHBOARD_TITLE = "TikTickets - Tenant detail"

_ROW = f"""
            Row(
                "Messaging",
                [
                    bar_gauge(
                        "{PANEL_TITLE}",
                        description="WhatsApp messages sent per second: the 10 busiest tenants in $tenant.",
                        unit=REQUESTS_PER_SECOND,
                        datasource=prometheus,
                        targets=[
                            prom(q.tenant_topk(10, {SIGNAL}), "{{{{tenant_id}}}}", instant=True)
                        ],
                    ),
                ],
            ),"""

DEFINITION_TESTS = (
    "tests/test_overview_dashboard.py",
    "tests/test_cli.py",
    "tests/test_datasources.py",
    "tests/test_derived_rules.py",
    "tests/test_add_a_tenant_panel.py",
    "tests/test_provisioning_vars.py",
    "tests/test_uids.py",
    "tests/test_contract.py",
    "tests/test_panel_texts_match_queries.py",
    "tests/render",
    "tests/lint",
    "tests/bench/test_overview_plain_queries.py",
)
"""The tests that read TikTickets' own definitions in-process and fast (import dashboards/,
prometheus_rules/, datasources/, load the project, read provisioning/ or docs/): `make test` runs
them on the welcome copy (tests/test_welcome.py)."""

WIDE_TESTS = (
    "tests/prometheus_rules",
    "tests/prometheus",
    "tests/doctor",
    "tests/cli",
    "tests/grafana_api",
    "tests/stack",
    "tests/test_packaging.py",
)
"""The other tests that read the definitions, through real Prometheus, promtool, `doctor`, the CLI
against hostile inputs and the Grafana test server: half an hour on a shared 2-core machine, so
`python -m bench.welcome` runs them with `DEFINITION_TESTS` on the welcome copy and records the result
in bench/results/welcome.md. Left out of both: the engine's unit tests on synthetic inputs, the demo
and the end-to-end hub (they run the stack, not the definitions)."""


def run_tests(
    copy: Path, selection: tuple[str, ...], basetemp: Path, timeout: int
) -> subprocess.CompletedProcess[str]:
    """pytest on `selection` inside the copy, stopping at the first failure, with CI=true (no skips)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *selection,
            "-x",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(basetemp),
        ],
        cwd=copy,
        env={**os.environ, "CI": "true"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def copy_repository(root: Path) -> Path:
    """Copy the checkout's files as git sees them (tracked, and new ones not ignored, as they are on
    disk) into `root`; link the installed tools, which git ignores."""
    listed = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    tracked = subprocess.run(listed, cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        source = REPO / name
        if not source.is_file() or source.is_symlink():
            continue
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    for name in LINKED:
        if (REPO / name).exists():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).symlink_to((REPO / name).resolve())
    return root


def add_overview_panel(project: Path) -> Path:
    """README "Add a panel": a helper call in a `Row` of `dashboards/overview.py`, its query built
    with `queries` from the public API (`q.tenant_topk` in an instant bar gauge, as "Top k" says)."""
    return add_row_to_overview(project, _ROW)


def welcome_copy(root: Path) -> Path:
    """The whole repository in `root`, with the README's new panel and new dashboard added."""
    copy_repository(root)
    add_overview_panel(root)
    add_dashboard(root)
    return root


def main() -> None:
    """Prepare a welcome copy by hand: `python -m tests.welcome DIR`."""
    print(welcome_copy(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
