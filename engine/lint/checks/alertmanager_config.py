"""alertmanager-config: the generated Alertmanager configuration passes `amtool check-config`.

Alertmanager refuses to start on a configuration it cannot load (and keeps the old one on a reload),
so a mistake here means no alert reaches anyone. amtool is Alertmanager's own parser, built from the
same module as the Alertmanager the tests run (`make tools`).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from engine.errors import Location
from engine.external_tools import AMTOOL, ToolMissingError, require
from engine.lint import Check, Finding, LintContext, missing_tool_severity
from engine.lint.checker_cache import cached, tool_identity

ID = "alertmanager-config"


def run(context: LintContext) -> Iterator[Finding]:
    path = context.project.config.alertmanager_file
    generated = [o for o in context.outputs if o.path == path]
    if path is None or not generated:
        return
    location = Location(file=path)
    try:
        amtool = require(AMTOOL, context.project.root)
    except ToolMissingError as missing:
        yield Finding(
            location, ID, f"not checked: {missing}", missing_tool_severity(context), tool_missing=True
        )
        return

    def ask() -> str:
        with tempfile.TemporaryDirectory() as directory:
            written = Path(directory) / "alertmanager.yml"
            written.write_bytes(generated[0].content)
            result = subprocess.run(
                [amtool, "check-config", str(written)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        detail = (result.stderr + result.stdout).replace(str(written), path).strip()
        return json.dumps({"ok": result.returncode == 0, "detail": detail})

    question = generated[0].content.decode()
    ok, detail = cached(context.project.root, "amtool", tool_identity(amtool), question, ask, parse=_verdict)
    if not ok:
        yield Finding(location, ID, f"amtool check-config failed: {detail[-1500:]}")


def _verdict(answer: str) -> tuple[bool, str]:
    """amtool's verdict as `ask` stored it; raises on anything else, so a damaged cache entry is a miss."""
    verdict = json.loads(answer)
    ok, detail = verdict["ok"], verdict["detail"]
    if not isinstance(ok, bool) or not isinstance(detail, str):
        raise TypeError("not an amtool verdict")
    return ok, detail


CHECK = Check(ID, __doc__ or "", run)
