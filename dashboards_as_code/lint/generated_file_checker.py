"""Run a program's own checker (promtool, amtool) on one generated file, with its verdict cached.

Written once for every check of that shape: find the output the project's config names, say "not
checked" (at the severity a missing tool gets) when the checker is not installed, write the bytes to
a temporary file under the name the checker expects, run it, and report its complaint with the
temporary path replaced by the project's. The verdict is cached by the checker's identity and the
exact bytes (checker_cache), so an unchanged file costs no process start.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dashboards_as_code.checker_cache import cached, tool_identity
from dashboards_as_code.errors import Location
from dashboards_as_code.external_tools import Tool, ToolMissingError, require
from dashboards_as_code.lint import Finding, LintContext, missing_tool_severity

TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class GeneratedFileChecker:
    """How one check runs its checker: `command(binary, file)` is the argument list."""

    check_id: str
    tool: Tool
    command: Callable[[str, Path], list[str]]
    file_name: str
    """The temporary file's name (some checkers read meaning into the extension)."""
    what_failed: str
    """Opens the finding: "promtool check rules failed"."""
    not_checked: str = "not checked"
    """Opens the finding when the tool is missing."""

    def findings(self, context: LintContext, output_path: str | None) -> Iterator[Finding]:
        generated = [o for o in context.outputs if o.path == output_path]
        if output_path is None or not generated:
            return
        location = Location(file=output_path)
        try:
            binary = require(self.tool, context.project.root)
        except ToolMissingError as missing:
            severity = missing_tool_severity(context)
            yield Finding(
                location, self.check_id, f"{self.not_checked}: {missing}", severity, tool_missing=True
            )
            return
        content = generated[0].content

        def ask() -> str:
            with tempfile.TemporaryDirectory() as directory:
                written = Path(directory) / self.file_name
                written.write_bytes(content)
                result = subprocess.run(
                    self.command(binary, written),
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT_SECONDS,
                    check=False,
                )
            detail = (result.stderr + result.stdout).replace(str(written), output_path).strip()
            return json.dumps({"ok": result.returncode == 0, "detail": detail})

        identity = tool_identity(binary)
        ok, detail = cached(
            context.project.root, self.tool.name, identity, content.decode(), ask, parse=verdict
        )
        if not ok:
            yield Finding(location, self.check_id, f"{self.what_failed}: {detail[-1500:]}")


def verdict(answer: str) -> tuple[bool, str]:
    """A checker's verdict as `ask` stored it; raises on anything else, so a damaged cache entry is a miss."""
    stored = json.loads(answer)
    ok, detail = stored["ok"], stored["detail"]
    if not isinstance(ok, bool) or not isinstance(detail, str):
        raise TypeError("not a checker's verdict")
    return ok, detail
