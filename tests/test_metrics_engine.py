"""`metrics_engine` in config.py: the Prometheus datasource moves to Cortex, and nothing else does.

The scaled topology (monitoring/docker-compose.scale.yml, README "When one Prometheus is not enough")
puts Cortex where Prometheus was. One setting moves the datasource the dashboards read (URL under
`/prometheus`, `prometheusType: Cortex`, this environment's tenant in `X-Scope-OrgID`), so every panel
keeps its datasource uid and no dashboard changes. The fixture projects are copies of this one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render.documents import build_documents
from tests.conftest import REPO
from tests.grafana_api.conftest import cli

ENGINE = 'metrics_engine=MetricsEngine(url="http://cortex:9009", tenant="env-prod"),'


def with_setting(project: Path, setting: str = ENGINE) -> Path:
    config = project / "config.py"
    text = config.read_text()
    assert 'name="tiktickets",' in text and "from dashboards_as_code.define import" in text
    text = text.replace('name="tiktickets",', f'name="tiktickets",\n    {setting}', 1)
    config.write_text(
        text.replace(
            "from dashboards_as_code.define import ",
            "from dashboards_as_code.define import MetricsEngine, ",
            1,
        )
    )
    return project


def _entries(project: Path) -> dict[str, dict[str, Any]]:
    documents = build_documents(load_project(project))
    return {entry["uid"]: entry for entry in documents.datasources["datasources"]}


def test_the_named_prometheus_datasource_points_at_cortex_as_the_environments_tenant(
    project_copy: Path,
) -> None:
    before = _entries(REPO)  # a project is loaded once per root: the copy is the one with the setting
    after = _entries(with_setting(project_copy))
    moved = after["prometheus"]
    assert moved["url"] == "http://cortex:9009/prometheus"
    assert moved["jsonData"]["prometheusType"] == "Cortex"
    assert moved["jsonData"]["httpHeaderName1"] == "X-Scope-OrgID"
    assert moved["secureJsonData"] == {"httpHeaderValue1": "env-prod"}
    unmoved = {k: v for k, v in before["prometheus"].items() if k not in {"url", "jsonData"}}
    assert {k: v for k, v in moved.items() if k not in {"url", "jsonData", "secureJsonData"}} == unmoved
    assert {uid: e for uid, e in after.items() if uid != "prometheus"} == {
        uid: e for uid, e in before.items() if uid != "prometheus"
    }


def test_no_dashboard_changes(project_copy: Path) -> None:
    before = {d.uid: d.document for d in build_documents(load_project(REPO)).dashboards}
    after = {d.uid: d.document for d in build_documents(load_project(with_setting(project_copy))).dashboards}
    assert before and after == before


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        (
            'metrics_engine=MetricsEngine(url="http://cortex:9009", tenant="env", datasource_uid="loki"),',
            "'loki'",
        ),
        (
            'metrics_engine=MetricsEngine(url="http://cortex:9009", tenant="env", datasource_uid="nope"),',
            "'nope'",
        ),
        ('metrics_engine=MetricsEngine(url="cortex:9009", tenant="env"),', "'cortex:9009'"),
        ('metrics_engine=MetricsEngine(url="http://cortex:9009", tenant="env/prod"),', "'env/prod'"),
    ],
    ids=["a-loki-datasource", "no-such-datasource", "url-without-scheme", "tenant-with-slash"],
)
def test_a_wrong_setting_is_named_with_config_py_and_stops_the_build(
    project_copy: Path, setting: str, named: str
) -> None:
    built = cli("http://127.0.0.1:9", "build", project=with_setting(project_copy, setting))
    assert built.returncode != 0
    assert "config.py" in built.stderr and named in built.stderr, built.stderr
    assert "Traceback" not in built.stdout + built.stderr
