"""prometheus-rules: the generated rule file passes `promtool check rules`.

Prometheus refuses to load a rule file with one bad expression, and then evaluates none of it:
every recorded series the dashboards read would stop, and no alert would fire.
"""

import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from engine.errors import Location
from engine.external_tools import PROMTOOL, ToolMissingError, require
from engine.lint import Check, Finding, LintContext, missing_tool_severity
from engine.lint.checker_cache import cached, tool_identity

ID = "prometheus-rules"


def run(context: LintContext) -> Iterator[Finding]:
    rules_file = context.project.config.rules_file
    rules = [o for o in context.outputs if o.path == rules_file]
    if not rules:
        return
    location = Location(file=rules_file)
    try:
        promtool = require(PROMTOOL, context.project.root)
    except ToolMissingError as missing:
        yield Finding(
            location, ID, f"rules not checked: {missing}", missing_tool_severity(context), tool_missing=True
        )
        return

    def ask() -> str:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "rules.yml"
            path.write_bytes(rules[0].content)
            result = subprocess.run(
                [promtool, "check", "rules", str(path)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        detail = (result.stderr + result.stdout).replace(str(path), rules_file).strip()
        return json.dumps({"ok": result.returncode == 0, "detail": detail})

    identity = tool_identity(promtool)
    question = rules[0].content.decode()
    ok, detail = cached(context.project.root, "promtool", identity, question, ask, parse=_verdict)
    if not ok:
        yield Finding(location, ID, f"promtool check rules failed: {detail[-1500:]}")


def _verdict(answer: str) -> tuple[bool, str]:
    """promtool's verdict as `ask` stored it; raises on anything else, so a damaged cache entry is a miss."""
    verdict = json.loads(answer)
    ok, detail = verdict["ok"], verdict["detail"]
    if not isinstance(ok, bool) or not isinstance(detail, str):
        raise TypeError("not a promtool verdict")
    return ok, detail


CHECK = Check(ID, __doc__ or "", run)
