"""alertmanager-config: the generated Alertmanager configuration is what amtool accepts."""

from __future__ import annotations

import pytest

from config import CONFIG
from dashboards_as_code.external_tools import AMTOOL
from dashboards_as_code.lint.checks.alertmanager_config import CHECK
from dashboards_as_code.render.formats import Output
from tests.lint.builders import check, context
from tests.tooling import require_tool


@pytest.fixture(autouse=True)
def _amtool() -> None:
    require_tool(AMTOOL)


def test_the_generated_configuration_passes() -> None:
    lint = context()
    assert CONFIG.alertmanager_file is not None
    assert any(o.path == CONFIG.alertmanager_file for o in lint.outputs)
    assert check(CHECK, lint) == []


def test_a_route_to_an_undefined_receiver_is_reported_with_amtools_message() -> None:
    lint = context()
    assert CONFIG.alertmanager_file is not None
    bad = b"route:\n  receiver: nobody\nreceivers:\n- name: somebody\n"
    lint.outputs = [Output(CONFIG.alertmanager_file, bad)]
    (finding,) = check(CHECK, lint)
    assert finding.location.file == CONFIG.alertmanager_file
    assert "amtool check-config failed" in finding.message and "nobody" in finding.message
