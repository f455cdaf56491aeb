"""Every check is registered, documented and tested (one test module per check module)."""

import pkgutil
from pathlib import Path

import pytest

from dashboards_as_code.lint import all_checks, checks, missing_tool_severity
from tests.lint.builders import context


def test_each_check_has_an_id_a_doc_and_a_test() -> None:
    modules = [info.name for info in pkgutil.iter_modules(checks.__path__)]
    registered = all_checks()
    assert len(registered) == len(modules) >= 5
    for found in registered:
        assert found.doc.startswith(f"{found.id}:"), found.id
    here = Path(__file__).parent
    for name in modules:
        assert (here / f"test_{name}.py").is_file(), f"check module {name} has no tests/lint/test_{name}.py"


def test_the_listed_summary_of_each_check_is_its_first_line_without_its_id() -> None:
    """`build.py checks` prints `<id>  <summary>`: the summary is the doc's first line after `<id>:`,
    so the id is not printed twice."""
    for found in all_checks():
        first = found.doc.strip().splitlines()[0]
        assert found.summary == first.removeprefix(f"{found.id}:").strip(), found.id
        assert not found.summary.startswith(found.id), found.id


def test_a_broken_env_file_makes_a_missing_tool_an_error_even_off_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether CI is on is read from the settings; when they cannot be read (a broken `.env`), it is
    not guessed that this is a laptop: a check whose tool is missing is an error, not a warning."""
    from dashboards_as_code import settings as settings_module  # noqa: PLC0415

    def broken(_root: object = None) -> object:
        raise settings_module.SettingsError(".env: GRAFANA_URL: not a URL")

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(settings_module, "settings", broken)
    assert missing_tool_severity(context()) == "error"
