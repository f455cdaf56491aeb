"""Correlations, the first kind added through the registry: defined, checked, provisioned, pushed,
diffed and pruned; Grafana's uid is never ours, so a correlation is found by source and label.

Counts and labels come from the loaded project, so a correlation a user adds breaks nothing here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.grafana_api.plan import Decision, decide, execute
from dashboards_as_code.kinds.correlation import (
    KIND,
    Correlation,
    CorrelationTransformation,
    correlation_key,
    mark,
    split_marker,
)
from dashboards_as_code.kinds.datasource import KIND as DATASOURCE
from dashboards_as_code.render.documents import build_documents
from dashboards_as_code.settings import Settings
from tests.conftest import REPO
from tests.grafana_api.conftest import Target, cli
from tests.grafana_server.server import FakeGrafana, Fault

EXTRA = """
from dashboards_as_code.define import Correlation

EXTRA = Correlation(
    source_uid="loki", target_uid="prometheus", label="Requests {label}", field="Line",
    target={{"expr": "sum(rate(x[5m]))"}},
)
CORRELATIONS.append(EXTRA)
"""


@pytest.fixture
def fake() -> Iterator[Target]:
    with FakeGrafana() as server:
        yield Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)


def pushed_then_changed(fake: Target, project: Path, old: str, new: str) -> str:
    """Push the project with an extra correlation, then change its definition (`old` -> `new`); its key."""
    key = with_extra(project)
    assert cli(fake, "push", project=project).returncode == 0
    source = project / "datasources" / "correlations.py"
    source.write_text(source.read_text().replace(old, new))
    return key


def correlations_of(project: Path) -> list[Correlation]:
    found: list[Correlation] = load_project(project).definitions["correlation"]
    return found


def live(server: FakeGrafana) -> dict[str, dict[str, Any]]:
    """Grafana's correlations by our key."""
    return {correlation_key(c["sourceUID"], c["label"]): c for c in server.state.correlations.values()}


def with_extra(project: Path, label: str = "by route") -> str:
    """Add a correlation to the project copy's definitions; its key."""
    with (project / "datasources" / "correlations.py").open("a") as file:
        file.write(EXTRA.format(label=label))
    return correlation_key("loki", f"Requests {label}")


# -- definitions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"label": "  "}, "the label is empty"),
        ({"label": "!!"}, "no letter or digit"),
        ({"source_uid": "has space"}, "uid"),
        ({"field": ""}, "the field is empty"),
    ],
)
def test_a_bad_definition_is_refused_with_what_is_wrong(change: dict[str, Any], problem: str) -> None:
    fields = {"source_uid": "loki", "target_uid": "jaeger", "label": "L", "field": "f", "target": {}}
    with pytest.raises(ValidationError, match=problem):
        Correlation(**{**fields, **change})


@pytest.mark.parametrize("value", [{1, 2}, float("nan"), object()])
def test_a_target_that_is_not_plain_json_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="the target must be plain JSON"):
        Correlation(source_uid="loki", target_uid="jaeger", label="L", field="f", target={"expr": value})


def test_a_regex_transformation_needs_its_expression() -> None:
    with pytest.raises(ValidationError, match="needs an expression"):
        CorrelationTransformation(type="regex", map_value="x")
    assert CorrelationTransformation(type="logfmt").expression is None


def test_the_key_is_the_source_and_the_label_and_splits_back() -> None:
    assert correlation_key("loki", "Open the trace in Jaeger") == "loki.open-the-trace-in-jaeger"
    assert correlation_key("loki", "Логи трассы") == "loki.логи-трассы"  # letters of any script stay
    assert correlation_key("a-b_c", "X").split(".", 1)[0] == "a-b_c"  # "." is never in a Grafana uid


def test_something_else_in_correlations_names_the_file(project_copy: Path) -> None:
    with (project_copy / "datasources" / "correlations.py").open("a") as file:
        file.write("\nCORRELATIONS.append('loki -> jaeger')\n")
    result = cli("http://127.0.0.1:9", "build", project=project_copy)
    assert result.returncode == 2
    appended = len(correlations_of(REPO))  # the index the appended string takes
    assert "datasources/correlations.py" in result.stderr
    assert f"CORRELATIONS[{appended}] is a str" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_names_an_unknown_datasource_and_a_label_used_twice(project_copy: Path) -> None:
    with (project_copy / "datasources" / "correlations.py").open("a") as file:
        file.write(EXTRA.format(label="x").replace('"prometheus"', '"nowhere"'))
        file.write("CORRELATIONS.append(EXTRA.model_copy(update={'target_uid': 'jaeger'}))\n")
    result = cli("http://127.0.0.1:9", "check", project=project_copy)
    assert result.returncode == 2, result.stdout + result.stderr  # a definition problem
    out = result.stdout + result.stderr
    assert "datasources/correlations.py" in out
    assert "target datasource 'nowhere' is not in DATASOURCES" in out
    assert "another correlation of source 'loki' has a label with the same key ('loki.requests-x')" in out


# -- provisioning ----------------------------------------------------------------------------------


def test_each_correlation_rides_in_its_source_datasources_entry() -> None:
    project = load_project(REPO)
    entries = {d["uid"]: d for d in build_documents(project).datasources["datasources"]}
    for correlation in correlations_of(REPO):
        listed = entries[correlation.source_uid]["correlations"]
        (entry,) = [e for e in listed if e["label"] == correlation.label]
        assert entry["targetUID"] == correlation.target_uid
        assert entry["config"]["target"] == correlation.target
        assert isinstance(entry["description"], str)  # Grafana's provisioner asserts both strings
    count = sum(len(e.get("correlations", [])) for e in entries.values())
    assert count == len(correlations_of(REPO))


def test_the_datasource_is_compared_without_its_correlations() -> None:
    """A datasource's correlations are their own objects: they never make the datasource differ."""
    desired = DATASOURCE.desired(build_documents(load_project(REPO)))
    sources = {c.source_uid for c in correlations_of(REPO)}
    assert sources and {d.uid for d in desired} >= sources
    assert all("correlations" not in d.document for d in desired)


# -- the owner marker ------------------------------------------------------------------------------


@pytest.mark.parametrize("description", ["", "Logs to traces", "two\n\nparagraphs", "ends in a newline\n"])
def test_the_marker_line_comes_off_again(description: str) -> None:
    marked = mark(description, "tiktickets", "0123456789abcdef")
    assert marked.endswith("[dashboards-as-code project=tiktickets sha256=0123456789abcdef]")
    text, markers = split_marker(marked)
    assert (text, markers.owner, markers.sha) == (description, "tiktickets", "0123456789abcdef")
    assert split_marker(description)[1].sha is None


def test_text_added_after_the_marker_is_an_edit_not_a_stranger() -> None:
    text, markers = split_marker(mark("Logs", "tiktickets", "0123456789abcdef") + "\nSee the runbook")
    assert (text, markers.owner) == ("Logs\nSee the runbook", "tiktickets")


# -- push, diff, prune -----------------------------------------------------------------------------


def test_push_creates_each_correlation_once_with_its_marker_and_runtime_variables(
    fake: Target, project_copy: Path
) -> None:
    assert fake.server is not None
    result = cli(fake, "push", project=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    found = live(fake.server)
    for correlation in correlations_of(project_copy):
        stored = found[correlation.key]
        assert stored["config"]["target"] == correlation.target  # the API takes `${x}` as it is
        assert split_marker(stored["description"])[1].owner == "tiktickets"
        assert stored["targetUID"] == correlation.target_uid and not stored["provisioned"]
    assert len(fake.server.state.correlations) == len(correlations_of(project_copy))
    again = cli(fake, "push", project=project_copy)
    assert again.returncode == 0 and ", 0 writes," in again.stdout, again.stdout


def test_a_changed_query_is_patched_and_a_new_target_replaces_the_correlation(
    fake: Target, project_copy: Path
) -> None:
    assert fake.server is not None
    key = with_extra(project_copy)
    assert cli(fake, "push", project=project_copy).returncode == 0
    before = live(fake.server)[key]["uid"]
    source = project_copy / "datasources" / "correlations.py"
    source.write_text(source.read_text().replace("sum(rate(x[5m]))", "sum(rate(y[5m]))"))
    assert cli(fake, "push", project=project_copy).returncode == 0
    assert live(fake.server)[key]["config"]["target"] == {"expr": "sum(rate(y[5m]))"}
    assert live(fake.server)[key]["uid"] == before
    assert ("PATCH", f"/api/datasources/uid/loki/correlations/{before}", 200) in fake.server.state.writes
    source.write_text(source.read_text().replace('target_uid="prometheus"', 'target_uid="jaeger"'))
    assert cli(fake, "push", project=project_copy).returncode == 0
    assert live(fake.server)[key]["targetUID"] == "jaeger" and live(fake.server)[key]["uid"] != before


def test_an_edit_in_grafana_is_a_conflict_then_forced_with_a_backup(fake: Target, project_copy: Path) -> None:
    assert fake.server is not None
    assert cli(fake, "push", project=project_copy).returncode == 0
    first = correlations_of(project_copy)[0]
    stored = live(fake.server)[first.key]
    fake.server.edit_correlation_in_ui(stored["uid"], config={**stored["config"], "field": "Edited"})

    diff = cli(fake, "diff", project=project_copy)
    assert diff.returncode == 1
    assert f"correlation {first.key}: conflict: edited in Grafana since the last push" in diff.stdout
    assert '-    "field": "Edited",' in diff.stdout  # the diff, Grafana's side
    refused = cli(fake, "push", project=project_copy)
    assert refused.returncode == 1 and live(fake.server)[first.key]["config"]["field"] == "Edited"

    forced = cli(fake, "push", "--force", project=project_copy)
    assert forced.returncode == 0, forced.stdout
    (backup,) = (project_copy / ".grafana-backups").glob(f"correlation-{first.key}-*.json")
    assert json.loads(backup.read_text())["config"]["field"] == "Edited"  # the edit is not lost
    assert live(fake.server)[first.key]["config"]["field"] == first.field


def test_a_correlation_made_by_hand_with_our_label_is_not_taken_over(
    fake: Target, project_copy: Path
) -> None:
    assert fake.server is not None
    first = correlations_of(project_copy)[0]
    assert cli(fake, "push", project=project_copy).returncode == 0
    stored = live(fake.server)[first.key]
    fake.server.edit_correlation_in_ui(stored["uid"], description="made by hand")  # no marker any more
    result = cli(fake, "push", project=project_copy)
    assert result.returncode == 1
    assert f"correlation {first.key}: not created by dashboards-as-code" in result.stdout
    assert live(fake.server)[first.key]["description"] == "made by hand"


def test_prune_deletes_only_our_correlations_no_longer_defined(fake: Target, project_copy: Path) -> None:
    assert fake.server is not None
    key = with_extra(project_copy)
    assert cli(fake, "push", project=project_copy).returncode == 0
    config = {"field": "f", "target": {}}
    by_hand = {"targetUID": "jaeger", "label": "Mine", "type": "query", "config": config}
    hand_made = fake.server._create_correlation("loki", by_hand)["result"]["uid"]
    source = project_copy / "datasources" / "correlations.py"
    source.write_text(source.read_text().replace("CORRELATIONS.append(EXTRA)", ""))

    pruned = cli(fake, "push", "--prune", project=project_copy)
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert f"deleted    correlation {key}: no longer defined in datasources/correlations.py" in pruned.stdout
    assert key not in live(fake.server) and hand_made in fake.server.state.correlations
    assert len(live(fake.server)) == len(correlations_of(project_copy)) + 1  # ours, and the hand-made one
    assert list((project_copy / ".grafana-backups").glob(f"correlation-{key}-*.json"))


def test_a_relabelled_correlation_leaves_the_old_one_behind_and_diff_says_so(
    fake: Target, project_copy: Path
) -> None:
    """A new label is a new key: push creates the new link and keeps the old one (only --prune deletes).
    `diff` must not then say Grafana matches: the old link still shows in Explore, twice the links."""
    old = pushed_then_changed(fake, project_copy, 'label="Requests by route"', 'label="Requests per route"')
    assert cli(fake, "push", project=project_copy).returncode == 0
    differs = cli(fake, "diff", project=project_copy)
    assert differs.returncode == 1, differs.stdout + differs.stderr
    assert (
        f"correlation {old}: left behind: no longer defined in datasources/correlations.py" in differs.stdout
    )
    assert cli(fake, "push", "--prune", project=project_copy).returncode == 0
    assert cli(fake, "diff", project=project_copy).returncode == 0


def test_provisioned_correlations_are_left_to_provisioning(fake: Target, project_copy: Path) -> None:
    assert fake.server is not None
    project = load_project(project_copy)
    fake.server.provision_datasources(build_documents(project).datasources["datasources"])
    result = cli(fake, "push", project=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    for correlation in correlations_of(project_copy):
        assert f"provisioned correlation {correlation.key}" in result.stdout
    assert not [w for w in fake.server.state.writes if "correlations" in w[1]]


def test_an_edit_between_plan_and_write_stops_the_write(fake: Target, project_copy: Path) -> None:
    """Correlations have no version to lock on: the write reads the correlation again first."""
    assert fake.server is not None
    key = pushed_then_changed(fake, project_copy, "sum(rate(x[5m]))", "sum(rate(z[5m]))")
    (desired,) = [d for d in KIND.desired(build_documents(load_project(project_copy))) if d.uid == key]
    grafana = Grafana(Settings(grafana_url=fake.url, grafana_token="glsa_admin"))
    action = decide(grafana, desired, force=False)
    assert action.op is Decision.UPDATE
    fake.server.edit_correlation_in_ui(live(fake.server)[key]["uid"], label="Requests by route")  # same key
    fake.server.edit_correlation_in_ui(live(fake.server)[key]["uid"], description="someone's words")
    done = execute(grafana, action, backup_dir=project_copy / ".grafana-backups")
    assert done.op is Decision.CONFLICT and "changed in Grafana after the plan" in done.summary
    assert live(fake.server)[key]["description"] == "someone's words"


def test_an_empty_list_answered_404_is_no_correlation(project_copy: Path) -> None:
    """Grafana with correlations on the app platform answers 404 for a source without any."""
    with FakeGrafana(correlations_on_app_platform=True) as server:
        target = Target(server.url, {"GRAFANA_TOKEN": "glsa_admin"}, server)
        result = cli(target, "push", project=project_copy)
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(server.state.correlations) == len(correlations_of(project_copy))


def test_removed_transformations_are_removed_in_grafana(fake: Target, project_copy: Path) -> None:
    """Grafana's PATCH keeps the transformations it is not sent: an empty list is sent."""
    assert fake.server is not None
    key = with_extra(project_copy)
    source = project_copy / "datasources" / "correlations.py"
    text = source.read_text()
    source.write_text(text.replace('field="Line",', 'field="Line", transformations=[{"type": "logfmt"}],'))
    assert cli(fake, "push", project=project_copy).returncode == 0
    assert live(fake.server)[key]["config"]["transformations"] == [{"type": "logfmt"}]
    source.write_text(text)
    assert cli(fake, "push", project=project_copy).returncode == 0
    assert "transformations" not in live(fake.server)[key]["config"]
    again = cli(fake, "push", project=project_copy)
    assert again.returncode == 0 and ", 0 writes," in again.stdout, again.stdout


def test_a_description_ending_in_a_newline_is_no_edit(fake: Target, project_copy: Path) -> None:
    assert fake.server is not None
    with_extra(project_copy)
    source = project_copy / "datasources" / "correlations.py"
    described = 'field="Line", description="Two lines\\n",'
    source.write_text(source.read_text().replace('field="Line",', described))
    assert cli(fake, "push", project=project_copy).returncode == 0
    again = cli(fake, "push", project=project_copy)
    assert again.returncode == 0 and ", 0 writes," in again.stdout, again.stdout


def test_a_create_whose_reply_was_lost_leaves_no_twin(fake: Target, project_copy: Path) -> None:
    """The create is sent again after the lost reply and lands twice: the twin with our exact marker goes."""
    assert fake.server is not None
    fake.server.state.faults.append(Fault("drop", "POST", "/api/datasources/uid/loki/correlations"))
    result = cli(fake, "push", project=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    keys = [correlation_key(c["sourceUID"], c["label"]) for c in fake.server.state.correlations.values()]
    assert sorted(keys) == sorted(c.key for c in correlations_of(project_copy))  # each exactly once
    assert not fake.server.state.faults  # the fault did fire


def test_a_pushed_and_a_provisioned_twin_are_reported_not_hidden(fake: Target, project_copy: Path) -> None:
    """Pushed, then Grafana restarted with the provisioning files: two links in Explore, said so."""
    assert fake.server is not None
    assert cli(fake, "push", project=project_copy).returncode == 0
    fake.server.provision_datasources(build_documents(load_project(project_copy)).datasources["datasources"])
    diff = cli(fake, "diff", project=project_copy)
    assert diff.returncode == 2  # diff could not compare them: an error, not "differs"
    for correlation in correlations_of(project_copy):
        assert f"error: correlation {correlation.key}: Grafana holds 2 correlations named" in diff.stderr
    assert "(provisioned)" in diff.stderr and "(pushed by project 'tiktickets')" in diff.stderr


def test_a_new_target_is_created_before_the_old_one_goes(fake: Target, project_copy: Path) -> None:
    """If the create fails, the old correlation is still there: Explore never loses the link."""
    assert fake.server is not None
    key = pushed_then_changed(fake, project_copy, 'target_uid="prometheus"', 'target_uid="jaeger"')
    plan = cli(fake, "push", "--dry-run", project=project_copy)
    assert "a new target replaces the correlation" in plan.stdout
    fake.server.state.faults += [Fault("503", "POST", "/api/datasources/uid/loki/correlations")] * 10
    assert cli(fake, "push", project=project_copy).returncode == 1
    assert live(fake.server)[key]["targetUID"] == "prometheus"
