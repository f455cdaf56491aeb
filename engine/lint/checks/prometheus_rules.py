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
        promtool = require(PROMTOOL)
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
    answer = json.loads(cached(context.project.root, "promtool", identity, rules[0].content.decode(), ask))
    if not answer["ok"]:
        yield Finding(location, ID, f"promtool check rules failed: {answer['detail'][-1500:]}")


CHECK = Check(ID, __doc__ or "", run)
