"""External programs the checks rely on, where to find them, and how to install them.

On a developer machine a missing tool is reported with the command that installs it; in CI
(`CI=true`) it is a failure, because a check that silently did not run is worse than none.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

ENGINE_CHECKOUT = Path(__file__).resolve().parent.parent
"""The checkout the engine runs from (a development install); its `tools/` serve every project."""


@dataclass(frozen=True)
class Tool:
    name: str
    install_hint: str
    script: str | None = None
    """For a Node script, its path under a project root: found when Node is on PATH and the script's
    node_modules are installed, in the project first, then in the engine's own checkout."""

    binary: str | None = None
    """For a program this project builds from Go modules, its path under a project root."""
    on_path: bool = True
    """Whether a program of this name on PATH will do when the built one is missing."""

    def path(self, project_root: Path | None = None) -> str | None:
        if self.binary is not None:
            for root in (project_root, ENGINE_CHECKOUT):
                candidate = (root / self.binary) if root is not None else None
                if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
                    return str(candidate)
            return shutil.which(self.name) if self.on_path else None
        if self.script is None:
            return shutil.which(self.name)
        if not shutil.which("node"):
            return None
        for root in (project_root, ENGINE_CHECKOUT):
            script = (root / self.script) if root is not None else None
            if script is not None and (script.parent / "node_modules").is_dir():
                return str(script)
        return None


PROMETHEUS = Tool(
    "prometheus",
    "run `make tools` (builds Prometheus 3 from Go modules; as root it also installs Debian's 2.42)",
    binary="tools/bin/prometheus",
)
"""Prometheus 3 built by `make tools` (tools/gotools) when Go is there; Debian's package otherwise."""
PROMTOOL = Tool("promtool", PROMETHEUS.install_hint, binary="tools/bin/promtool")
ALERTMANAGER = Tool(
    "alertmanager",
    "run `make tools` (builds Alertmanager and amtool from Go modules)",
    binary="tools/bin/alertmanager",
)
AMTOOL = Tool("amtool", ALERTMANAGER.install_hint, binary="tools/bin/amtool")
NODE = Tool("node", "`sudo apt-get install nodejs npm`, then `make tools`")
LOGQL = Tool(
    "LogQL grammar (tools/logql)",
    "install Node.js, then run `make tools` (npm ci in tools/logql)",
    "tools/logql/check.js",
)


GRAFANA_SCHEMA = Tool(
    "Grafana's schema (tools/grafana-schema)",
    "install Node.js, then run `make tools` (npm ci in tools/grafana-schema)",
    "tools/grafana-schema/check.js",
)


class ToolMissingError(RuntimeError):
    def __init__(self, tool: Tool) -> None:
        super().__init__(f"{tool.name} is not installed: {tool.install_hint}")
        self.tool = tool


def require(tool: Tool, project_root: Path | None = None) -> str:
    found = tool.path(project_root)
    if found is None:
        raise ToolMissingError(tool)
    return found
