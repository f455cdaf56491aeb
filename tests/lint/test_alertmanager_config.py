"""alertmanager-config: the generated Alertmanager configuration is what amtool accepts."""

from __future__ import annotations

import uuid

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
    """amtool's complaint (on its standard output) is the finding's reason: a failing check must say
    what is wrong, not only that amtool failed. The content gets a fresh comment each run, so amtool
    is asked afresh: a verdict from the answer cache in `.cache/` (written by earlier, possibly
    correct code) would hide a wrapper that drops part of amtool's output."""
    lint = context()
    assert CONFIG.alertmanager_file is not None
    bad = f"# {uuid.uuid4()}\nroute:\n  receiver: nobody\nreceivers:\n- name: somebody\n".encode()
    lint.outputs = [Output(CONFIG.alertmanager_file, bad)]
    (finding,) = check(CHECK, lint)
    assert finding.location.file == CONFIG.alertmanager_file
    assert "amtool check-config failed" in finding.message and "nobody" in finding.message
