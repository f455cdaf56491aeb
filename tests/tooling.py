"""External tools in tests: a skip with the install hint on a laptop, a failure in CI."""

from __future__ import annotations

import pytest

from dashboards_as_code.external_tools import Tool
from dashboards_as_code.settings import settings


def require_tool(tool: Tool) -> str:
    found = tool.path()
    if found is not None:
        return found
    message = f"{tool.name} is not installed: {tool.install_hint}"
    if settings().ci:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)
