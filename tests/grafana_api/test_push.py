"""push: first push, no-op re-push, edits made in Grafana, provisioned targets, prune."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from config import OVERVIEW_UID
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.kinds.comparable import PUSH_MARKER_PREFIX
from dashboards_as_code.kinds.dashboard import dashboard_document
from tests.conftest import REPO, project_dashboard, push_writes
from tests.grafana_api.conftest import Target, cli

SECOND_DASHBOARD = """
from dashboards.overview import dashboard as overview


def dashboard():
    definition = overview()
    definition.dashboard.uid = "tiktickets-overview-copy"
    definition.dashboard.title = "TikTickets - Overview (copy)"
    return definition
"""


def panel_titles(target: Target, uid: str) -> list[str]:
    found = target.dashboard(uid)
    assert found is not None
    return [p["title"] for p in found["dashboard"]["panels"]]


def test_first_push_creates_everything(target: Target, project_copy: Path) -> None:
    result = cli(target, "push", project=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{push_writes(load_project(REPO))} written" in result.stdout
    live = target.dashboard("tiktickets-overview")
    assert live is not None
    assert live["meta"]["folderUid"] == "tiktickets"
    expected = dashboard_document(project_dashboard(load_project(REPO), OVERVIEW_UID))
    assert [p["title"] for p in live["dashboard"]["panels"]] == [p["title"] for p in expected["panels"]]
    assert any(t.startswith(PUSH_MARKER_PREFIX) for t in live["dashboard"]["tags"])
    datasource = target.api.datasource.get_datasource_by_uid("loki")
    (field,) = datasource["jsonData"]["derivedFields"]
    assert field["url"] == "${__value.raw}"  # the API takes runtime values: no $$ escaping
    assert target.api.folder.get_folder("tiktickets")["title"] == "TikTickets"


def test_second_push_of_an_unchanged_set_writes_nothing(target: Target, project_copy: Path) -> None:
    assert cli(target, "push", project=project_copy).returncode == 0
    writes_before = len(target.server.state.writes) if target.server else 0
    again = cli(target, "push", project=project_copy)
    assert again.returncode == 0
    unchanged = push_writes(load_project(project_copy))
    assert f"{unchanged} unchanged" in again.stdout and ", 0 writes," in again.stdout
    if target.server:
        assert len(target.server.state.writes) == writes_before


def test_changed_definition_updates_only_that_dashboard(target: Target, project_copy: Path) -> None:
    assert cli(target, "push", project=project_copy).returncode == 0
    overview = project_copy / "dashboards" / "overview.py"
    overview.write_text(overview.read_text().replace('"Recent error logs"', '"Latest error logs"'))
    result = cli(target, "push", project=project_copy)
    assert result.returncode == 0, result.stdout
    assert "updated    dashboard tiktickets-overview" in result.stdout
    assert "renamed 'Recent error logs' to 'Latest error logs'" in result.stdout
    assert ", 1 writes," in result.stdout
    assert "Latest error logs" in panel_titles(target, "tiktickets-overview")


def test_a_folder_renamed_in_config_is_updated_not_a_conflict(target: Target, project_copy: Path) -> None:
    """A folder carries no push marker (Grafana's folders have no tags), so it can never show that
    the last push wrote it: a title changed in config.py must rename it, not be taken for an edit
    made in Grafana that push refuses to overwrite."""
    assert cli(target, "push", project=project_copy).returncode == 0
    config = project_copy / "config.py"
    before, after = 'title="TikTickets")', 'title="TikTickets (prod)")'
    assert config.read_text().count(before) == 1
    config.write_text(config.read_text().replace(before, after))

    result = cli(target, "push", project=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "updated    folder tiktickets" in result.stdout
    assert "conflict" not in result.stdout
    assert ", 1 writes," in result.stdout
    assert target.api.folder.get_folder("tiktickets")["title"] == "TikTickets (prod)"


def _edit(dashboard: dict[str, Any]) -> None:
    dashboard["panels"][1]["title"] = "Edited in Grafana"


def test_edit_made_in_grafana_is_refused_then_forced_with_a_backup(
    target: Target, project_copy: Path
) -> None:
    assert cli(target, "push", project=project_copy).returncode == 0
    target.edit_dashboard("tiktickets-overview", _edit)

    refused = cli(target, "push", project=project_copy)
    assert refused.returncode == 1
    assert "conflict   dashboard tiktickets-overview: edited in Grafana since the last push" in refused.stdout
    assert '-      "title": "Edited in Grafana",' in refused.stdout  # the diff, Grafana side
    assert "push --force" in refused.stdout
    assert "Edited in Grafana" in panel_titles(target, "tiktickets-overview")  # left alone

    forced = cli(target, "push", "--force", project=project_copy)
    assert forced.returncode == 0, forced.stdout
    backups = list((project_copy / ".grafana-backups").glob("dashboard-tiktickets-overview-*.json"))
    assert len(backups) == 1
    assert str(backups[0]) in forced.stdout
    saved = json.loads(backups[0].read_text())
    assert saved["panels"][1]["title"] == "Edited in Grafana"  # the edit is not lost
    assert "Edited in Grafana" not in panel_titles(target, "tiktickets-overview")
    assert cli(target, "push", project=project_copy).returncode == 0  # and the next push is clean


def _keys_reversed(value: Any) -> Any:
    """The same JSON with every object's keys in the opposite order, at every depth."""
    if isinstance(value, dict):
        return {key: _keys_reversed(value[key]) for key in reversed(value)}
    if isinstance(value, list):
        return [_keys_reversed(item) for item in value]
    return value


def test_grafana_answering_keys_in_another_order_is_no_edit(fake: Target, project_copy: Path) -> None:
    """Grafana's JSON comes back with its keys in its own order (Go's encoder sorts them), not ours:
    the same content is the same dashboard, so neither diff nor push may call it edited in Grafana."""
    assert fake.server is not None
    assert cli(fake, "push", project=project_copy).returncode == 0
    stored = fake.server.state.dashboards["tiktickets-overview"]
    reordered = _keys_reversed(stored["dashboard"])
    assert json.dumps(reordered) != json.dumps(stored["dashboard"]) and reordered == stored["dashboard"]
    stored["dashboard"] = reordered

    same = cli(fake, "diff", project=project_copy)
    assert same.returncode == 0 and "matches the definitions" in same.stdout, same.stdout

    overview = project_copy / "dashboards" / "overview.py"
    overview.write_text(overview.read_text().replace('"Recent error logs"', '"Latest error logs"'))
    changed = cli(fake, "diff", project=project_copy)
    assert changed.returncode == 1
    assert "dashboard tiktickets-overview: update: " in changed.stdout, changed.stdout
    assert "edited in Grafana" not in changed.stdout

    pushed = cli(fake, "push", project=project_copy)
    assert pushed.returncode == 0, pushed.stdout
    assert "updated    dashboard tiktickets-overview" in pushed.stdout
    assert not (project_copy / ".grafana-backups").exists()  # nothing was overwritten that needed saving
    assert "Latest error logs" in panel_titles(fake, "tiktickets-overview")


def test_dashboard_made_by_hand_with_our_uid_is_not_taken_over(target: Target, project_copy: Path) -> None:
    target.api.dashboard.update_dashboard(
        {"dashboard": {"uid": "tiktickets-overview", "title": "Hand-made", "panels": []}, "overwrite": True}
    )
    result = cli(target, "push", project=project_copy)
    assert result.returncode == 1
    assert "not created by dashboards-as-code" in result.stdout
    assert panel_titles(target, "tiktickets-overview") == []


def test_prune_removes_only_managed_dashboards_no_longer_defined(target: Target, project_copy: Path) -> None:
    (project_copy / "dashboards" / "second.py").write_text(SECOND_DASHBOARD)
    assert cli(target, "push", project=project_copy).returncode == 0
    target.api.dashboard.update_dashboard(
        {
            "dashboard": {"uid": "hand-made", "title": "Hand-made", "tags": ["team"], "panels": []},
            "overwrite": True,
        }
    )
    (project_copy / "dashboards" / "second.py").unlink()

    preview = cli(target, "push", "--prune", "--dry-run", project=project_copy)
    assert preview.returncode == 0
    assert "delete     dashboard tiktickets-overview-copy: no longer defined in dashboards/" in preview.stdout
    assert "nothing written" in preview.stdout
    assert target.dashboard("tiktickets-overview-copy") is not None

    without = cli(target, "push", project=project_copy)
    assert target.dashboard("tiktickets-overview-copy") is not None, without.stdout  # no --prune, no delete

    pruned = cli(target, "push", "--prune", project=project_copy)
    assert pruned.returncode == 0, pruned.stdout
    assert "deleted    dashboard tiktickets-overview-copy" in pruned.stdout
    assert target.dashboard("tiktickets-overview-copy") is None
    assert target.dashboard("hand-made") is not None
    assert target.dashboard("tiktickets-overview") is not None


def test_dry_run_writes_nothing(target: Target, project_copy: Path) -> None:
    result = cli(target, "push", "--dry-run", project=project_copy)
    assert result.returncode == 0
    assert "create     dashboard tiktickets-overview: new" in result.stdout
    planned = push_writes(load_project(REPO))
    assert f"dry run: {planned} write(s) planned, nothing written" in result.stdout
    assert target.dashboard("tiktickets-overview") is None
