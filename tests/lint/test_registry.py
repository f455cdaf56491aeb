"""Every check is registered, documented and tested (one test module per check module)."""

import pkgutil
from pathlib import Path

from dashboards_as_code.lint import all_checks, checks


def test_each_check_has_an_id_a_doc_and_a_test() -> None:
    modules = [info.name for info in pkgutil.iter_modules(checks.__path__)]
    registered = all_checks()
    assert len(registered) == len(modules) >= 5
    for found in registered:
        assert found.doc.startswith(f"{found.id}:"), found.id
    here = Path(__file__).parent
    for name in modules:
        assert (here / f"test_{name}.py").is_file(), f"check module {name} has no tests/lint/test_{name}.py"
