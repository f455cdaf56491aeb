#!/usr/bin/env python3
"""Mutation testing of the engine with mutmut (`make mutation`), and its score per module.

A mutant is the engine with one small change (a `<` made `<=`, a string emptied, a call dropped);
the tests should fail on it ("killed"). A mutant every test passes ("survived") is a behaviour no
test holds. With no path, the run covers what pyproject's `[tool.mutmut]` names: the pure modules
and the fast tests that hold them, which fits a shared 2-core machine. Paths (`MUTATE=dashboards_as_code/` in
make) widen it to those files under dashboards_as_code/, tested by the whole suite unless `--tests` narrows
it; that run needs the tools `make tools` builds and is expected to take hours.

mutmut keeps its mutated copy of the project and every result under mutants/ (git-ignored), so a
second run only retests what changed. Run from the repository root:
`.venv/bin/python -m bench.mutation [--jobs N] [--tests T ...] [--survivors] [PATH ...]`.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mutmut.configuration import config
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.format_utils import orig_function_and_class_names_from_key

REPO = Path(__file__).resolve().parent.parent
MUTANTS = REPO / "mutants"
MODE_FILE = MUTANTS / "bench-mutation-mode.json"
"""Which selection the results under mutants/ belong to: another selection starts afresh."""
ENGINE = "dashboards_as_code"
KEPT_IN_COPY = {ENGINE, "tests", "mutants", "pyproject.toml"}
"""Top-level entries mutmut copies itself (or that must not be copied into its copy)."""
LINKED = {"tools"}
NODE_MODULES = "node_modules"
STATUSES = ("killed", "survived", "timeout", "no tests", "suspicious", "not checked")
"""The columns of the score table, in mutmut's words; anything else is counted as "other"."""


class UsageError(Exception):
    """A path or option the run cannot use; its message names it."""


@dataclass(frozen=True)
class Selection:
    """What to mutate (globs over dashboards_as_code/) and which tests to run against the mutants."""

    only_mutate: list[str]
    tests: list[str]
    wide: bool
    """A run chosen on the command line: the whole project is linked into mutmut's copy."""


def engine_globs(paths: list[str]) -> list[str]:
    """`dashboards_as_code/x.py` stays a file, `dashboards_as_code/doctor/` becomes
    `dashboards_as_code/doctor/*`; only the engine is mutated."""
    globs = []
    for raw in paths:
        path = Path(raw)
        resolved = (REPO / path).resolve()
        if not resolved.is_relative_to(REPO / ENGINE):
            raise UsageError(f"MUTATE path {raw!r} is not under {ENGINE}/: only the engine is mutated")
        if resolved.is_dir():
            globs.append(f"{resolved.relative_to(REPO).as_posix()}/*")
        elif resolved.is_file() and resolved.suffix == ".py":
            globs.append(resolved.relative_to(REPO).as_posix())
        else:
            raise UsageError(f"MUTATE path {raw!r} is neither a directory nor a .py file under {ENGINE}/")
    return globs


def choose(paths: list[str], tests: list[str]) -> Selection | None:
    """None keeps pyproject's default selection; paths make a wide run with the whole suite."""
    if not paths and not tests:
        return None
    if not paths:
        raise UsageError(
            "--tests (MUTATION_TESTS) needs MUTATE paths: the default tests belong to the default modules"
        )
    return Selection(only_mutate=engine_globs(paths), tests=tests or ["tests/"], wide=True)


def start_afresh_if_the_selection_changed(selection: Selection | None) -> None:
    """Results of another selection would mix two scores in one table, and a default run's partial
    copies of the project would hide the files a wide run needs: remove mutants/ then."""
    mode = json.dumps(None if selection is None else selection.__dict__, sort_keys=True)
    if MUTANTS.is_dir() and (not MODE_FILE.is_file() or MODE_FILE.read_text() != mode):
        shutil.rmtree(MUTANTS)  # links inside are removed, never followed
    MUTANTS.mkdir(exist_ok=True)
    MODE_FILE.write_text(mode)


def copy_the_rest_of_the_project() -> None:
    """A wide run tests with the whole suite, which reads the definitions and generated files, runs
    build.py and the tools under tools/: copy every other top-level entry into mutmut's copy. Copies,
    not links: `build` refuses to write through a link that leaves the project, and Python resolves a
    linked script, so a linked build.py would run the unmutated engine. tools/ and node_modules/
    (hundreds of MB of programs and npm packages, only read) are linked."""
    for entry in REPO.iterdir():
        target = MUTANTS / entry.name
        if entry.name in KEPT_IN_COPY or entry.name.startswith(".") or target.exists():
            continue
        if entry.name in LINKED:
            target.symlink_to(entry.resolve(), target_is_directory=True)
        elif entry.is_dir():
            copy_tree(entry, target)
        else:
            shutil.copy2(entry, target)


def link_the_tools(copy: Path = MUTANTS) -> None:
    """Link tools/ into mutmut's copy for every run, the default subset's too: the pure modules'
    tests call the checkers there (doctor reads a log query with Grafana's LogQL grammar through
    tools/logql), and without them every mutant's run fails the same way, so nothing is scored."""
    copy.mkdir(exist_ok=True)
    for name in LINKED:
        target = copy / name
        if not target.is_symlink() and not target.exists():
            target.symlink_to((REPO / name).resolve(), target_is_directory=True)


def copy_tree(source: Path, target: Path) -> None:
    """Copy a directory as it is (links stay links), linking each node_modules/ instead."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", NODE_MODULES))
    for root, directories, _ in os.walk(source):
        if NODE_MODULES in directories:
            directories.remove(NODE_MODULES)
            modules = Path(root) / NODE_MODULES
            linked = target / modules.relative_to(source)
            linked.symlink_to(modules.resolve(), target_is_directory=True)


def run_mutmut(selection: Selection | None, jobs: int) -> int:
    """mutmut reads its settings from pyproject.toml once, on first use; a wide run changes them after."""
    settings = config()
    if selection is not None:
        settings.only_mutate = selection.only_mutate
        settings.pytest_add_cli_args_test_selection = selection.tests
        settings.also_copy = [path for path in settings.also_copy if path.parts[0] in KEPT_IN_COPY]
        copy_the_rest_of_the_project()
    link_the_tools()

    # Importing mutmut's CLI reads pyproject.toml from the working directory: only after main's chdir.
    from mutmut.__main__ import cli  # noqa: PLC0415

    try:
        cli.main(args=["run", "--max-children", str(jobs)], standalone_mode=False)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def scores() -> dict[str, Counter[str]]:
    """Statuses per mutated module, from the result files mutmut keeps beside each mutated copy."""
    table: dict[str, Counter[str]] = {}
    for meta in sorted((MUTANTS / ENGINE).rglob("*.py.meta")):
        exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        if exit_codes:
            module = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
            table[module] = Counter(status_by_exit_code[code] for code in exit_codes.values())
    return table


def survivors() -> list[tuple[str, str]]:
    """The mutants no test killed, each with the module it changes."""
    found = []
    for meta in sorted((MUTANTS / ENGINE).rglob("*.py.meta")):
        module = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
        exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        found += [(name, module) for name, code in exit_codes.items() if code == 0]
    return found


def describe(name: str, module: str) -> str:
    """One line per survivor: where in the module, and the line before and after the change.

    mutmut's diff numbers lines from the start of the function; the changed line is looked up in
    the module near where that puts it, so the line number is the module's own."""
    diff = get_diff_for_mutant(name, path=module).splitlines()
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    source = (REPO / module).read_text().splitlines()
    line = changed_line(source, function_start(source, name), diff, removed[0] if removed else "")
    more = max(len(removed), len(added)) - 1
    before, after = focus(removed[0].strip() if removed else "", added[0].strip() if added else "")
    change = f"`{before}` -> `{after}`"
    return f"{module}:{line} {change}" + (f" (+{more} lines)" if more > 0 else "")


def function_start(source: list[str], name: str) -> int:
    """The 1-based line of the mutated function's first decorator or `def`."""
    function, class_name = orig_function_and_class_names_from_key(name)
    function = function.rpartition(".")[2]
    for node in ast.walk(ast.parse("\n".join(source))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            decorated = [decorator.lineno for decorator in node.decorator_list]
            return min([node.lineno, *decorated])
    raise LookupError(f"{name}: function {function!r} (class {class_name}) not found")


def changed_line(source: list[str], start: int, diff: list[str], removed: str) -> int:
    """The occurrence of the removed text nearest to where the hunk header puts it."""
    hunk = next((line for line in diff if line.startswith("@@")), "@@ -1 ")
    old_start = int(hunk.split()[1].lstrip("-").split(",")[0])
    body = diff[diff.index(hunk) + 1 :] if hunk in diff else []
    offset = next((i for i, line in enumerate(body) if line.startswith("-")), 0)
    expected = start + old_start - 1 + offset
    matches = [number for number, text in enumerate(source, 1) if removed and text == removed]
    return min(matches, key=lambda number: abs(number - expected)) if matches else expected


def focus(before: str, after: str, context: int = 25) -> tuple[str, str]:
    """The changed part of a line, with a little context: a long line would hide it."""
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    start = max(0, prefix - context)

    def cut(code: str) -> str:
        end = min(len(code), len(code) - suffix + context)
        text = code[start:end].replace("`", "'")
        return ("…" if start else "") + text + ("…" if end < len(code) else "")

    return cut(before), cut(after)


def score_table(table: dict[str, Counter[str]]) -> str:
    """A Markdown table; the score is killed (timeouts included) over the mutants that had tests."""
    lines = [
        "| module | " + " | ".join(STATUSES) + " | other | total | score |",
        "|---|" + "---:|" * (len(STATUSES) + 3),
    ]
    everything = sum(table.values(), Counter[str]())
    for module, counts in [*table.items(), ("all", everything)]:
        total = sum(counts.values())
        other = total - sum(counts[status] for status in STATUSES)
        tested = total - counts["no tests"] - counts["not checked"]
        caught = counts["killed"] + counts["timeout"]
        score = f"{100 * caught / tested:.1f} %" if tested else "-"
        name = f"**{module}**" if module == "all" else f"`{module}`"
        cells = [str(counts[status]) for status in STATUSES]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {other} | {total} | {score} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "paths", nargs="*", help="files or directories under dashboards_as_code/ (default: pyproject's)"
    )
    parser.add_argument(
        "--tests", nargs="*", default=[], help="test paths for a run with PATHs (default: tests/)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default: 2)")
    parser.add_argument("--survivors", action="store_true", help="also list the surviving mutants")
    options = parser.parse_args()
    os.chdir(REPO)
    try:
        if options.jobs < 1:
            raise UsageError(f"--jobs (MUTATION_JOBS) must be 1 or more, not {options.jobs}")
        selection = choose(options.paths, [test for test in options.tests if test])
    except UsageError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    start_afresh_if_the_selection_changed(selection)
    code = run_mutmut(selection, options.jobs)
    print()
    print(score_table(scores()))
    if options.survivors:
        print("\nsurvivors (`.venv/bin/mutmut show NAME` prints the whole change):")
        for name, module in survivors():
            print(f"- {describe(name, module)} ({name})")
    return code


if __name__ == "__main__":
    sys.exit(main())
