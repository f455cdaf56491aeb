"""A tenant panel added the README's way, in a copy of the project: the old recipe (a contract series
with the tenant filter, empty at All) is refused by `check` with the fix; the builder it names builds
and checks, and its rules reach the rule file. (Its data at All on a real Prometheus:
tests/prometheus/test_dashboards_on_prometheus.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.recipe import BUILDER, OLD_RECIPE, SIGNAL, TITLE, add_panel, run_cli


def test_the_old_recipe_is_refused_with_the_fix(project_copy: Path) -> None:
    add_panel(project_copy, OLD_RECIPE)
    for command in ("check", "build"):
        result = run_cli(command, "--project", str(project_copy))
        output = result.stdout + result.stderr
        assert result.returncode == 2, output
        assert "Traceback" not in output
        (line,) = [line for line in output.splitlines() if "[tenant-all-row]" in line]
        assert f"dashboard 'tiktickets-overview', panel '{TITLE}' (dashboards/overview.py)" in line
        assert 'query A applies tenant_id=~"$tenant" to the raw series' in line
        assert f"read it with {BUILDER} from dashboards_as_code.define" in line


def test_the_builder_the_fix_names_builds_checks_and_brings_its_rules(project_copy: Path) -> None:
    add_panel(project_copy, BUILDER)
    built = run_cli("build", "--project", str(project_copy))
    assert built.returncode == 0, built.stdout + built.stderr
    checked = run_cli("check", "--project", str(project_copy))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    board = json.loads(
        (project_copy / "provisioning/dashboards/tiktickets/tiktickets-overview.json").read_text()
    )
    (target,) = next(p for p in board["panels"] if p["title"] == TITLE)["targets"]
    rules = yaml.safe_load((project_copy / "monitoring/prometheus/rules/tiktickets.yml").read_text())
    recorded = [
        r for g in rules["groups"] for r in g["rules"] if r.get("record") and r["record"] in target["expr"]
    ]
    assert [r.get("labels", {}) for r in recorded] == [{}, {"tenant_id": "__all__"}], recorded
    assert all("tiktickets_whatsapp_messages_sent_total" in r["expr"] for r in recorded), SIGNAL
