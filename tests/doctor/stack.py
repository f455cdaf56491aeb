"""A live stack for `doctor`: the real Prometheus scraping the Collector stand-in, and the Loki test server.

Each scenario changes one thing (the rule file, the scrape config, the exporter, a Prometheus
flag) and runs the real CLI, `build.py doctor --json`, against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from config import OVERVIEW_UID
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.external_tools import PROMETHEUS
from dashboards_as_code.render.documents import build_documents
from tests.conftest import REPO
from tests.loki_server.server import LokiStore, loki_server
from tests.prometheus.collector_exporter import TENANTS, CollectorExporter, serve
from tests.prometheus.rules import rules_for_the_test
from tests.prometheus.server import Prometheus, running_prometheus
from tests.tooling import require_tool

BACKEND_STREAM = {"service_name": "tiktickets-backend", "service_namespace": "tiktickets"}
SCRAPES_BEFORE_DOCTOR = 4
"""Enough 1 s scrapes for rate() inside the recording rules to have two samples, with margin."""


@dataclass
class Doctor:
    code: int
    reports: list[dict[str, Any]]
    """`panels` of the JSON output: one object per panel checked."""
    stderr: str
    rules: list[dict[str, Any]] = field(default_factory=list)
    """`rules`: every rule whose health is not ok."""
    skipped: list[dict[str, Any]] = field(default_factory=list)
    """`skipped`: each datasource left out, with the panels not checked."""

    def panel(self, title: str, dashboard: str = OVERVIEW_UID) -> dict[str, Any]:
        """The report of panel `title` on `dashboard` (the Overview unless named): a title is looked up in
        the dashboard it belongs to, so another dashboard with a panel of that title changes nothing."""
        board = [r for r in self.reports if r["dashboard"] == dashboard]
        found = [r for r in board if r["panel"] == title] or [
            r for r in board if r["panel"].startswith(f"{title} (")
        ]
        assert len(found) == 1, f"no single panel {title!r} in {dashboard}: {[r['panel'] for r in board]}"
        return found[0]

    def codes(self, title: str, dashboard: str = OVERVIEW_UID) -> list[str]:
        return [cause["code"] for cause in self.panel(title, dashboard)["causes"]]

    def statuses(self) -> dict[str, str]:
        return {r["panel"]: r["status"] for r in self.reports}


@cache
def panels_by_kind() -> dict[str, list[str]]:
    """Datasource type -> "dashboard / panel" of each panel of the project with a query on it."""
    found: dict[str, list[str]] = {}
    for board in build_documents(load_project(REPO)).dashboards:
        nested = [p for row in board.document["panels"] for p in row.get("panels", [])]
        for panel in [*board.document["panels"], *nested]:
            for target in panel.get("targets", []):
                kind = (target.get("datasource") or panel.get("datasource") or {}).get("type", "")
                name = f"{board.uid} / {panel['title']}"
                if name not in found.setdefault(kind, []):
                    found[kind].append(name)
    return found


def one_tenant_dashboards() -> set[str]:
    """uids of the project's dashboards whose `$tenant` is single-select without All (one tenant at a
    time): their panels need a tenant sampled from Prometheus, whatever datasource they query."""
    found = set()
    for board in build_documents(load_project(REPO)).dashboards:
        for variable in board.document.get("templating", {}).get("list", []):
            if variable.get("name") == "tenant" and not variable.get("includeAll"):
                found.add(board.uid)
    return found


def all_value(variable: str = "tenant", dashboard: str = OVERVIEW_UID) -> str:
    """What `$tenant` holds at All (its allValue) on `dashboard` (the Overview unless named), as
    Grafana sends it: each dashboard has its own (the Overview's `__all__`, the Tenants' `.*`)."""
    values = {
        str(v["allValue"])
        for board in build_documents(load_project(REPO)).dashboards
        if board.uid == dashboard
        for v in (board.document.get("templating") or {}).get("list", [])
        if v.get("name") == variable and v.get("includeAll")
    }
    assert len(values) == 1, f"one All value of ${variable} on {dashboard} expected: {values}"
    return values.pop()


def seed_logs(store: LokiStore) -> None:
    """Backend error lines for every tenant, as Loki keeps OTLP records (tenant_id is structured metadata)."""
    for tenant in TENANTS:
        store.push(BACKEND_STREAM, "payment failed", {"severity_number": "17", "tenant_id": tenant})
        store.push(BACKEND_STREAM, "ticket saved", {"severity_number": "9", "tenant_id": tenant})


def run_doctor(env: dict[str, str], *args: str) -> Doctor:
    completed = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "doctor", "--json", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        document = json.loads(completed.stdout)
    except ValueError as error:
        raise AssertionError(
            f"doctor printed no JSON ({error}): {completed.stdout!r} {completed.stderr}"
        ) from None
    return Doctor(
        completed.returncode, document["panels"], completed.stderr, document["rules"], document["skipped"]
    )


SETTLED_GROUPS_S = 5.0
"""Groups running this often or more are waited for (the rendered rules run each second here)."""
NOT_YET = "0001-01-01"
"""Go's zero time: the `lastEvaluation` Prometheus gives a rule it has not evaluated yet."""


@dataclass
class DoctorText:
    """`doctor` as a person runs it: plain lines on stdout (not a terminal), notes and errors on stderr."""

    code: int
    stdout: str
    stderr: str


def run_doctor_text(env: dict[str, str], *args: str) -> DoctorText:
    completed = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "doctor", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in completed.stderr, completed.stderr
    return DoctorText(completed.returncode, completed.stdout, completed.stderr)


def _evaluated_since(prometheus: Prometheus, moment: float, *, within: float) -> bool:
    """Every rule of a group that runs at least every `within` seconds was evaluated after `moment`."""
    groups = prometheus.get("/api/v1/rules")["groups"]
    times = [
        rule.get("lastEvaluation", "")
        for group in groups
        if group.get("interval", 0) <= within
        for rule in group["rules"]
    ]
    return all(
        bool(t)
        and not t.startswith(NOT_YET)
        and datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() > moment
        for t in times
    )


def wait_until_settled(prometheus: Prometheus, timeout: float = 60) -> None:
    """Several scrapes done, then every rule evaluated after them (a poll, never a blind sleep).

    Only groups that run at least every SETTLED_GROUPS_S are waited for: a scenario's deliberately
    slow (or never-run) group would hold every test up.
    """
    prometheus.wait_for("max(count_over_time(up[1m]))", SCRAPES_BEFORE_DOCTOR, timeout)
    moment = time.time()
    deadline = time.monotonic() + timeout
    while not _evaluated_since(prometheus, moment, within=SETTLED_GROUPS_S):
        assert time.monotonic() < deadline, "the rules were never evaluated"
        time.sleep(0.2)


def rule_file(workdir: Path, change: Callable[[dict[str, Any]], None] | None = None) -> Path:
    path = rules_for_the_test(workdir)
    if change:
        document = yaml.safe_load(path.read_text())
        change(document)
        path.write_text(yaml.safe_dump(document))
    return path


@dataclass
class Stack:
    prometheus: Prometheus
    loki_url: str
    loki: LokiStore
    exporter_server: Any

    @property
    def env(self) -> dict[str, str]:
        return {"PROMETHEUS_URL": self.prometheus.url, "LOKI_URL": self.loki_url, "DOCTOR_TIMEOUT": "10"}

    def doctor(self, *args: str) -> Doctor:
        return run_doctor(self.env, *args)

    def doctor_text(self, *args: str) -> DoctorText:
        return run_doctor_text(self.env, *args)


@contextmanager
def live_stack(
    workdir: Path,
    *,
    rules: bool = True,
    change_rules: Callable[[dict[str, Any]], None] | None = None,
    exporter: CollectorExporter | None = None,
    exemplar_storage: bool = True,
    scrape: dict[str, Any] | None = None,
) -> Iterator[Stack]:
    server, port = serve(exporter or CollectorExporter())
    rule_files = [rule_file(workdir, change_rules)] if rules else []
    try:
        with (
            loki_server() as (loki_url, store),
            running_prometheus(
                require_tool(PROMETHEUS), workdir, f"127.0.0.1:{port}", rule_files,
                exemplar_storage=exemplar_storage, scrape=scrape,
            ) as prometheus,
        ):  # fmt: skip
            seed_logs(store)
            wait_until_settled(prometheus)
            yield Stack(prometheus, loki_url, store, server)
    finally:
        server.shutdown()
        server.server_close()
