"""How the user ran this program, so a message can name the next command the same way.

The engine is run three ways: `python build.py <command>` from a checkout (build.py calls
dashboards_as_code.cli.main), `dashboards-as-code <command>` once installed, and
`python -m dashboards_as_code <command>`. A message that says "run `python build.py build`" to someone who
installed the engine names a file they do not have.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHECKOUT_SCRIPT = "build.py"


def command(subcommand: str) -> str:
    """`subcommand` as the user would type it, run the way this process was started."""
    program = Path(sys.argv[0] if sys.argv and sys.argv[0] else CHECKOUT_SCRIPT).name
    if program == "__main__.py":
        return f"python -m dashboards_as_code {subcommand}"
    if program.endswith(".py"):
        return f".venv/bin/python {program} {subcommand}"
    return f"{program} {subcommand}"
