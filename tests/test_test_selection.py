"""`make test` (plain `pytest`) runs every test but the `live` twins, and nothing is left out silently.

The only default deselection is `-m 'not live'` (pyproject.toml addopts), and `live` may only mark
the "live" parameter of a fixture whose other parameter is "test-server": each scenario that can
run against a real Grafana also runs against the Grafana test server in `make test`. A test marked
`live` alone, a `-k`/`--deselect`/`--ignore` in addopts, or a conftest that drops tests would hide
tests from `make test`; each fails here.
"""

from __future__ import annotations

import ast
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

TESTS = REPO / "tests"
LIVE = "live"
TWIN = "test-server"
DROPPING_OPTIONS = ("-k", "--deselect", "--ignore", "--ignore-glob", "--lf", "--last-failed")
"""addopts that would make a plain `pytest` run fewer tests than it collects (besides `-m 'not live'`)."""
DROPPING_HOOKS = {
    "pytest_collection_modifyitems",
    "pytest_ignore_collect",
    "collect_ignore",
    "collect_ignore_glob",
}


def addopts(pyproject: Path = REPO / "pyproject.toml") -> list[str]:
    options: str = tomllib.loads(pyproject.read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    return shlex.split(options)


def test_the_only_default_deselection_is_not_live() -> None:
    options = addopts()
    marks = [options[i + 1] for i, option in enumerate(options) if option == "-m"]
    assert marks == [f"not {LIVE}"], options
    dropping = [o for o in options if o.split("=")[0] in DROPPING_OPTIONS or o.startswith("-k")]
    assert not dropping, f"addopts drops tests from every run: {dropping}"


def _is_live_mark(node: ast.AST) -> bool:
    """`pytest.mark.live` or `mark.live`."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == LIVE
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "mark"
    )


def _strings(node: ast.AST) -> set[str]:
    """The string constants a `params=[...]` list holds directly or as `pytest.param("...", ...)`."""
    found: set[str] = set()
    for item in node.elts if isinstance(node, ast.List | ast.Tuple) else []:
        value = item.args[0] if isinstance(item, ast.Call) and item.args else item
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.add(value.value)
    return found


def _twinned_live_marks(tree: ast.AST) -> Iterator[ast.AST]:
    """The `live` marks that sit in `pytest.param("live", marks=...)` inside a fixture's `params` list
    that also holds "test-server"."""
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        for keyword in call.keywords:
            if keyword.arg == "params" and {LIVE, TWIN} <= _strings(keyword.value):
                yield from (node for node in ast.walk(keyword.value) if _is_live_mark(node))


def live_marks_without_a_twin(path: Path) -> list[str]:
    """`file:line` of each use of the `live` mark that is not the live twin of a test-server run."""
    tree = ast.parse(path.read_text(), filename=str(path))
    twinned = {id(node) for node in _twinned_live_marks(tree)}
    return [
        f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"
        for node in ast.walk(tree)
        if _is_live_mark(node) and id(node) not in twinned
    ]


def test_every_live_test_has_a_test_server_twin() -> None:
    sources = sorted(TESTS.rglob("*.py"))
    lonely = [where for path in sources for where in live_marks_without_a_twin(path)]
    assert not lonely, f"marked {LIVE!r} without a {TWIN!r} twin, so `make test` never runs them: {lonely}"
    twinned = [path for path in sources if list(_twinned_live_marks(ast.parse(path.read_text())))]
    assert twinned, "no live twin found at all: has the live fixture moved? update this test"


def dropping_hooks(path: Path) -> list[str]:
    """Names a conftest defines that could drop collected tests (a hook or `collect_ignore`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)} | {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    return sorted(defined & DROPPING_HOOKS)


def test_no_conftest_drops_tests() -> None:
    found = {str(p.relative_to(REPO)): dropping_hooks(p) for p in TESTS.rglob("conftest.py")}
    assert not {path: names for path, names in found.items() if names}, found
