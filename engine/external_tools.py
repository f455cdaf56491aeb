"""External programs the checks rely on, where to find them, and how to install them.

On a developer machine a missing tool is reported with the command that installs it; in CI
(`CI=true`) it is a failure, because a check that silently did not run is worse than none.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOGQL_CHECKER = REPO / "tools" / "logql" / "check.js"


@dataclass(frozen=True)
class Tool:
    name: str
    install_hint: str
    script: Path | None = None
    """For a Node script: found when Node is on PATH and the script's node_modules are installed."""

    def path(self) -> str | None:
        if self.script is not None:
            ready = (self.script.parent / "node_modules").is_dir() and shutil.which("node")
            return str(self.script) if ready else None
        return shutil.which(self.name)


PROMETHEUS = Tool(
    "prometheus", "run `make tools` as root, or `sudo apt-get install --no-install-recommends prometheus`"
)
PROMTOOL = Tool("promtool", PROMETHEUS.install_hint)
NODE = Tool("node", "`sudo apt-get install nodejs npm`, then `make tools`")
LOGQL = Tool(
    "LogQL grammar (tools/logql)",
    "install Node.js, then run `make tools` (npm ci in tools/logql)",
    LOGQL_CHECKER,
)


class ToolMissingError(RuntimeError):
    def __init__(self, tool: Tool) -> None:
        super().__init__(f"{tool.name} is not installed: {tool.install_hint}")
        self.tool = tool


def require(tool: Tool) -> str:
    found = tool.path()
    if found is None:
        raise ToolMissingError(tool)
    return found
