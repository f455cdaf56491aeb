"""Every rule is registered, documented and tested (one test module per rule module)."""

import pkgutil
from pathlib import Path

from machinery.lint import all_rules, rules


def test_each_rule_has_an_id_a_doc_and_a_test() -> None:
    modules = [info.name for info in pkgutil.iter_modules(rules.__path__)]
    registered = all_rules()
    assert len(registered) == len(modules) >= 5
    for rule in registered:
        assert rule.doc.startswith(f"{rule.id}:"), rule.id
    here = Path(__file__).parent
    for name in modules:
        assert (here / f"test_{name}.py").is_file(), f"rule module {name} has no tests/lint/test_{name}.py"
