"""grafana-schema's version pin: the Grafana image the compose file runs is found however the image
line is written, and compared with the `@grafana/schema` version the checker pins."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from dashboards_as_code.external_tools import GRAFANA_SCHEMA
from dashboards_as_code.lint import LintContext
from dashboards_as_code.lint.checks.grafana_schema import _version_mismatch

PINNED = "13.2.0"
COMPOSE = "compose.yml"


def _messages(tmp_path: Path, image_line: str) -> list[str]:
    """The version findings for a project whose compose file has `image_line` and whose schema checker
    pins @grafana/schema PINNED."""
    tmp_path.mkdir(exist_ok=True)
    script = tmp_path / str(GRAFANA_SCHEMA.script)
    (script.parent / "node_modules").mkdir(parents=True)
    script.write_text("// stand-in: only the package.json next to it is read\n")
    (script.parent / "package.json").write_text(json.dumps({"dependencies": {"@grafana/schema": PINNED}}))
    (tmp_path / COMPOSE).write_text(f"services:\n  grafana:\n{image_line}\n    ports: ['3000:3000']\n")
    project = SimpleNamespace(root=tmp_path, config=SimpleNamespace(grafana_compose_file=COMPOSE))
    return [
        finding.message for finding in _version_mismatch(cast(LintContext, SimpleNamespace(project=project)))
    ]


@pytest.mark.parametrize(
    "image_line",
    [
        "    image: grafana/grafana:{version}",
        '    image: "grafana/grafana:{version}"',
        "    image: 'grafana/grafana-oss:{version}'",
        "    image: grafana/grafana-enterprise:{version}",
    ],
    ids=["plain", "double-quoted", "oss-single-quoted", "enterprise"],
)
def test_the_grafana_image_is_read_however_it_is_written(tmp_path: Path, image_line: str) -> None:
    """Compose accepts the image quoted or not, and Grafana ships the same schema as grafana-oss and
    grafana-enterprise: each is the Grafana the schema must match, passing at the pinned version and
    named at another."""
    assert _messages(tmp_path / "same", image_line.format(version=PINNED)) == []
    [other] = _messages(tmp_path / "other", image_line.format(version="13.1.0"))
    assert other.startswith(f"Grafana 13.1.0 runs in {COMPOSE}, but dashboards are checked against")


def test_another_grafana_version_is_named_with_both_versions(tmp_path: Path) -> None:
    [message] = _messages(tmp_path, '    image: "grafana/grafana-oss:13.1.0"')
    assert message.startswith(
        f"Grafana 13.1.0 runs in {COMPOSE}, but dashboards are checked against @grafana/schema {PINNED}"
    )


def test_a_compose_file_without_grafana_is_named(tmp_path: Path) -> None:
    assert _messages(tmp_path, "    image: nginx:1.27") == [f"{COMPOSE} runs no grafana/grafana image"]


def test_a_commented_out_image_is_not_the_one_that_runs(tmp_path: Path) -> None:
    """Compose ignores a comment: an old image line kept commented out above the real one is not the
    Grafana that runs, and is neither compared nor named."""
    lines = f"    # image: grafana/grafana:12.0.0  (before the upgrade)\n    image: grafana/grafana:{PINNED}"
    assert _messages(tmp_path, lines) == []
