"""The project template every bad-input table copies and breaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.bad_input import make_template


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_template(tmp_path_factory.mktemp("template") / "project")
