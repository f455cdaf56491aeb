"""`push-rules` against a real Cortex: the rule groups into its ruler, with push's conflict rules.

One Cortex (monitoring/cortex/cortex.yaml, ruler storage on the filesystem) serves the module; each
test is its own Cortex tenant, so none sees another's groups. The project is a copy of this one with
`metrics_engine` set; every group name and count comes from what the copy renders, never from here.
The ruler is read back through its own API (`GET /api/v1/rules/<namespace>`), as Cortex answers it.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards_as_code.ruler_api.client import Ruler
from dashboards_as_code.ruler_api.groups import MARKER_GROUP, comparable
from dashboards_as_code.ruler_api.sync import synchronise_rules
from tests.conftest import REPO
from tests.cortex.server import running_cortex
from tests.local_http import free_port
from tests.test_metrics_engine import with_setting

NAMESPACE = "tiktickets"
"""The namespace push-rules writes: the project's name (config.py `name`)."""
_tenants = itertools.count(1)


@pytest.fixture(scope="module")
def cortex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_cortex(tmp_path_factory.mktemp("cortex")) as base:
        yield base


@pytest.fixture
def tenant() -> str:
    return f"rules-test-{next(_tenants)}"


@pytest.fixture
def engine_project(project_copy: Path, tenant: str) -> Path:
    setting = f'metrics_engine=MetricsEngine(url="http://cortex:9009", tenant="{tenant}"),'
    return with_setting(project_copy, setting)


def push_rules(project: Path, ruler_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """build.py push-rules as a user runs it, with RULER_URL as the only ruler setting."""
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), "push-rules", *args, "--project", str(project)],
        env={"PATH": "/usr/bin:/bin", "RULER_URL": ruler_url, "HOME": str(project)},
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


RENDER = """
import json, sys
from pathlib import Path
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render.documents import build_documents
print(json.dumps(build_documents(load_project(Path(sys.argv[1]))).rules["groups"]))
"""


def rendered_groups(project: Path) -> list[dict[str, Any]]:
    """The groups `project` renders now, in a process of their own: a process loads a project once."""
    run = subprocess.run(
        [sys.executable, "-c", RENDER, str(project)], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    groups: list[dict[str, Any]] = json.loads(run.stdout)
    return groups


def live_groups(cortex: str, tenant: str) -> dict[str, dict[str, Any]]:
    """The ruler's groups in the namespace, by name, as Cortex answers them ({} when it has none)."""
    request = urllib.request.Request(f"{cortex}/api/v1/rules/{NAMESPACE}", headers={"X-Scope-OrgID": tenant})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = yaml.safe_load(response.read())
    except urllib.error.HTTPError as error:
        assert error.code == 404, error.read()
        return {}
    return {group["name"]: group for group in answer[NAMESPACE]}


def post_group(cortex: str, tenant: str, group: dict[str, Any]) -> None:
    """Write a group into the ruler by hand, as someone editing it there would."""
    request = urllib.request.Request(
        f"{cortex}/api/v1/rules/{NAMESPACE}",
        data=yaml.safe_dump(group).encode(),
        headers={"X-Scope-OrgID": tenant, "Content-Type": "application/yaml"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202


def test_a_first_push_loads_every_group_as_built_and_a_second_writes_nothing(
    cortex: str, tenant: str, engine_project: Path
) -> None:
    built = {group["name"]: group for group in rendered_groups(engine_project)}
    assert built, "the premise: the project renders rule groups"
    first = push_rules(engine_project, cortex)
    assert first.returncode == 0, first.stdout + first.stderr
    live = live_groups(cortex, tenant)
    assert set(live) == {*built, MARKER_GROUP}
    for name, group in built.items():  # as the ruler gives it back, in the compared form
        assert comparable(live[name]) == comparable(group), name
    assert f"{len(built)} written" in first.stdout, first.stdout
    second = push_rules(engine_project, cortex)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"{len(built)} unchanged" in second.stdout and "0 writes" in second.stdout, second.stdout


def test_the_marker_group_records_no_series(cortex: str, tenant: str, engine_project: Path) -> None:
    """The marker is evaluated like any group: its rules must return nothing, or every push would add
    series to the tenant."""
    assert push_rules(engine_project, cortex).returncode == 0
    marker = live_groups(cortex, tenant)[MARKER_GROUP]
    for rule in marker["rules"]:
        request = urllib.request.Request(
            f"{cortex}/prometheus/api/v1/query?query={urllib.parse.quote(rule['expr'])}",
            headers={"X-Scope-OrgID": tenant},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = yaml.safe_load(response.read())
        assert answer["status"] == "success" and answer["data"]["result"] == [], (rule, answer)


def test_a_group_edited_in_the_ruler_is_a_conflict_and_force_overwrites_it_after_a_backup(
    cortex: str, tenant: str, engine_project: Path
) -> None:
    assert push_rules(engine_project, cortex).returncode == 0
    name, group = next(iter(live_groups(cortex, tenant).items()))
    if name == MARKER_GROUP:
        name, group = list(live_groups(cortex, tenant).items())[1]
    edited = {**group, "rules": [{**group["rules"][0], "expr": "vector(42)"}, *group["rules"][1:]]}
    post_group(cortex, tenant, edited)

    refused = push_rules(engine_project, cortex)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"conflict   rule group {name}: edited in the ruler since the last push" in refused.stdout
    assert "push-rules --force" in refused.stdout
    assert live_groups(cortex, tenant)[name]["rules"][0]["expr"] == "vector(42)", "a conflict is left alone"

    forced = push_rules(engine_project, cortex, "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    built = {g["name"]: g for g in rendered_groups(engine_project)}
    assert comparable(live_groups(cortex, tenant)[name]) == comparable(built[name])
    backups = list((engine_project / ".grafana-backups").glob("rule-group-*.yml"))
    assert len(backups) == 1, backups
    saved = yaml.safe_load(backups[0].read_text())["groups"]
    assert [g["name"] for g in saved] == [name] and saved[0]["rules"][0]["expr"] == "vector(42)"


def change_first_group(project: Path, update: str) -> None:
    """The project's first rule group redefined in its own `prometheus_rules/__init__.py` with
    `update` (a dict literal of RuleGroup fields, which may read `first`), whatever the group is."""
    rules = project / "prometheus_rules" / "__init__.py"
    rules.write_text(
        rules.read_text()
        + f"\nfirst = RULE_GROUPS[0]\nRULE_GROUPS = [first.model_copy(update={update}), *RULE_GROUPS[1:]]\n"
    )


def test_a_changed_definition_updates_its_group_without_a_conflict(
    cortex: str, tenant: str, engine_project: Path
) -> None:
    assert push_rules(engine_project, cortex).returncode == 0
    before = {g["name"]: comparable(g) for g in rendered_groups(engine_project)}
    change_first_group(engine_project, '{"interval": "15s" if first.interval != "15s" else "20s"}')
    after = {g["name"]: comparable(g) for g in rendered_groups(engine_project)}
    changed = sorted(name for name in after if after[name] != before.get(name))
    assert changed, "the premise: the edit changes a group"

    pushed = push_rules(engine_project, cortex)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    for name in changed:
        assert f"updated    rule group {name}: fields changed: interval" in pushed.stdout, pushed.stdout
        assert comparable(live_groups(cortex, tenant)[name]) == after[name]
    assert "conflict" not in pushed.stdout


def test_prune_deletes_a_group_no_longer_defined_and_leaves_one_it_never_pushed(
    cortex: str, tenant: str, engine_project: Path
) -> None:
    assert push_rules(engine_project, cortex).returncode == 0
    stray = {"name": "made-by-hand", "rules": [{"record": "by_hand:up", "expr": "vector(1)"}]}
    post_group(cortex, tenant, stray)
    old_name = rendered_groups(engine_project)[0]["name"]
    new_name = f"{old_name}-renamed"
    change_first_group(engine_project, '{"name": first.name + "-renamed"}')

    without_prune = push_rules(engine_project, cortex)
    assert without_prune.returncode == 0, without_prune.stdout + without_prune.stderr
    assert old_name in live_groups(cortex, tenant), "without --prune nothing is deleted"

    pruned = push_rules(engine_project, cortex, "--prune")
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    live = live_groups(cortex, tenant)
    assert old_name not in live and new_name in live and "made-by-hand" in live
    assert f"deleted    rule group {old_name}: no longer defined in prometheus_rules/" in pruned.stdout
    assert "left alone rule group made-by-hand: not pushed by dashboards-as-code" in pruned.stdout
    assert list((engine_project / ".grafana-backups").glob(f"rule-group-{old_name}-*.yml"))


def test_no_ruler_at_the_url_is_one_message_and_exit_2(engine_project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = push_rules(engine_project, url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"Cortex's ruler at {url} does not answer" in result.stderr and "RULER_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_server_that_is_not_the_ruler_is_named_and_exits_2(engine_project: Path, tmp_path: Path) -> None:
    """A RULER_URL that leads to some other web server (here one serving files: a 404 page)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                pass
        result = push_rules(engine_project, url)
    finally:
        server.terminate()
        server.wait()
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"the ruler at {url} answered 404" in result.stderr and "ruler.enable_api" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_project_without_metrics_engine_is_told_where_its_rules_go(project_copy: Path) -> None:
    result = push_rules(project_copy, "http://127.0.0.1:9")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no metrics_engine is set" in result.stderr and "monitoring/prometheus/rules/" in result.stderr


def test_the_compared_form_survives_the_rulers_own_spelling(cortex: str, tenant: str) -> None:
    """Cortex answers a group in Prometheus' spelling, not as sent (`90s` as `1m30s`, a zero `for`
    and empty labels left out): the compared form must not see a change there, or every push after
    the first would rewrite such a group."""
    sent = {
        "name": "spelling",
        "interval": "90s",
        "rules": [
            {"alert": "Spelled", "expr": "vector(1)", "for": "0s", "labels": {}, "annotations": {}},
            {"alert": "Later", "expr": "vector(1)", "for": "120s", "keep_firing_for": "1h0m"},
        ],
    }
    post_group(cortex, tenant, sent)
    answered = live_groups(cortex, tenant)["spelling"]
    assert answered != sent, "the premise: the ruler answers in its own spelling"
    assert comparable(answered) == comparable(sent)
    assert comparable({**sent, "interval": "2m"}) != comparable(answered), "a real change still shows"


def test_the_rule_file_build_writes_is_what_cortex_loads_from_a_local_directory(
    engine_project: Path, tenant: str, tmp_path: Path
) -> None:
    """`build` writes `<rules_dir>/<tenant>/<project>`: Cortex's local ruler storage reads each folder
    as a tenant and each file as a namespace, and its ruler evaluates what it finds there."""
    build = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "build", "--project", str(engine_project)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    rules_dir = engine_project / "monitoring" / "cortex" / "rules"
    assert (rules_dir / tenant / NAMESPACE).is_file(), sorted(p.name for p in rules_dir.rglob("*"))
    built = {g["name"]: g for g in rendered_groups(engine_project)}
    with running_cortex(tmp_path / "local", ruler_local_dir=rules_dir) as local:
        listed = live_groups(local, tenant)
        assert {name: comparable(g) for name, g in listed.items()} == {
            name: comparable(g) for name, g in built.items()
        }
        deadline = time.monotonic() + 60
        evaluated: set[str] = set()
        while evaluated != set(built) and time.monotonic() < deadline:
            request = urllib.request.Request(
                f"{local}/prometheus/api/v1/rules", headers={"X-Scope-OrgID": tenant}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.loads(response.read())
            evaluated = {
                g["name"] for g in answer["data"]["groups"] if g.get("lastEvaluation", "0001")[:4] != "0001"
            }
            time.sleep(0.5)
        assert evaluated == set(built), evaluated


def test_pruning_every_group_removes_the_marker_too(
    cortex: str, tenant: str, engine_project: Path, tmp_path: Path
) -> None:
    """A project that no longer defines any group, pushed with prune: its groups go, and so does the
    marker (the ruler refuses a group without rules, so it cannot be written empty)."""
    assert push_rules(engine_project, cortex).returncode == 0
    assert MARKER_GROUP in live_groups(cortex, tenant)
    ruler = Ruler(cortex, tenant, timeout=30)
    report = synchronise_rules(ruler, NAMESPACE, [], NAMESPACE, apply=True, prune=True, backup_dir=tmp_path)
    assert report.ok and report.stopped is None, [(a.uid, a.op, a.error) for a in report.actions]
    assert live_groups(cortex, tenant) == {}
