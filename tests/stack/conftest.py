"""The stack's files, parsed once. Nothing here can start a container: these tests read files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

MONITORING = REPO / "monitoring"
COMPOSE = MONITORING / "docker-compose.observability.yml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = load(COMPOSE)
    return document


ENV_REFERENCE = re.compile(r"\$\{env:(\w+):-([^}]*)\}")


def with_defaults(node: Any) -> Any:
    """The Collector's `${env:NAME:-default}` as the compose stack runs it: no NAME set, the default."""
    if isinstance(node, str):
        expanded = ENV_REFERENCE.sub(lambda m: m.group(2), node)
        return int(expanded) if expanded != node and expanded.isdigit() else expanded
    if isinstance(node, dict):
        return {key: with_defaults(value) for key, value in node.items()}
    if isinstance(node, list):
        return [with_defaults(item) for item in node]
    return node


@pytest.fixture(scope="session")
def collector() -> dict[str, Any]:
    """The Collector config with every `${env:NAME:-default}` at its default (what compose runs)."""
    document: dict[str, Any] = with_defaults(load(MONITORING / "otel-collector" / "config.yaml"))
    return document


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's `${NAME:-default}` / `${NAME:?message}` with the given environment (default: empty)."""
    env = env or {}

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":-":
            return arg
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def readme_block(language: str, after: str) -> str:
    text = (REPO / "README.md").read_text()
    section = text[text.index(after) :]
    start = section.index(f"```{language}\n") + len(language) + 4
    return section[start : section.index("```", start)]
