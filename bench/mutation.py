#!/usr/bin/env python3
"""Mutation testing of the engine with mutmut (`make mutation`), and its score per module.

A mutant is the engine with one small change (a `<` made `<=`, a string emptied, a call dropped);
the tests should fail on it ("killed"). A mutant every test passes ("survived") is a behaviour no
test holds. With no path, the run covers what pyproject's `[tool.mutmut]` names: the pure modules
and the fast tests that hold them, which fits a shared 2-core machine. Paths (`MUTATE=engine/` in
make) widen it to those files under engine/, tested by the whole suite unless `--tests` narrows it;
that run needs the tools `make tools` builds and takes hours.

mutmut keeps its mutated copy of the project and every result under mutants/ (git-ignored), so a
second run only retests what changed. Run from the repository root:
`.venv/bin/python -m bench.mutation [--jobs N] [--tests T ...] [--survivors] [PATH ...]`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mutmut.configuration import config
from mutmut.stats import status_by_exit_code

REPO = Path(__file__).resolve().parent.parent
MUTANTS = REPO / "mutants"
MODE_FILE = MUTANTS / "bench-mutation-mode.json"
"""Which selection the results under mutants/ belong to: another selection starts afresh."""
ENGINE = "engine"
KEPT_IN_COPY = {ENGINE, "tests", "mutants", "pyproject.toml"}
"""Top-level entries mutmut copies itself (or that must not be linked into its copy)."""
STATUSES = ("killed", "survived", "timeout", "no tests", "suspicious", "not checked")
"""The columns of the score table, in mutmut's words; anything else is counted as "other"."""


class UsageError(Exception):
    """A path or option the run cannot use; its message names it."""


@dataclass(frozen=True)
class Selection:
    """What to mutate (globs over engine/) and which tests to run against the mutants."""

    only_mutate: list[str]
    tests: list[str]
    wide: bool
    """A run chosen on the command line: the whole project is linked into mutmut's copy."""


def engine_globs(paths: list[str]) -> list[str]:
    """`engine/x.py` stays a file, `engine/doctor/` becomes `engine/doctor/*`; only the engine is mutated."""
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
    copies of the project would hide the links a wide run needs: remove mutants/ then."""
    mode = json.dumps(None if selection is None else selection.__dict__, sort_keys=True)
    if MUTANTS.is_dir() and (not MODE_FILE.is_file() or MODE_FILE.read_text() != mode):
        remove_tree(MUTANTS)
    MUTANTS.mkdir(exist_ok=True)
    MODE_FILE.write_text(mode)


def remove_tree(root: Path) -> None:
    """Delete mutmut's copy; links into the project are unlinked, never followed."""
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            path.rmdir()
    root.rmdir()


def link_the_rest_of_the_project() -> None:
    """A wide run tests with the whole suite, which reads the definitions, generated files and the
    tools under tools/bin: every other top-level directory is linked into mutmut's copy. Files are
    copied: Python resolves a linked script, so a linked build.py would run the unmutated engine."""
    for entry in REPO.iterdir():
        target = MUTANTS / entry.name
        if entry.name in KEPT_IN_COPY or entry.name.startswith(".") or target.exists():
            continue
        if entry.is_dir():
            target.symlink_to(entry.resolve(), target_is_directory=True)
        else:
            shutil.copy2(entry, target)


def run_mutmut(selection: Selection | None, jobs: int) -> int:
    """mutmut reads its settings from pyproject.toml once, on first use; a wide run changes them after."""
    settings = config()
    if selection is not None:
        settings.only_mutate = selection.only_mutate
        settings.pytest_add_cli_args_test_selection = selection.tests
        settings.also_copy = [path for path in settings.also_copy if path.parts[0] in KEPT_IN_COPY]
        link_the_rest_of_the_project()

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


def survivors() -> list[str]:
    """The names of the mutants no test killed (`mutmut show NAME` prints one's diff)."""
    found = []
    for meta in sorted((MUTANTS / ENGINE).rglob("*.py.meta")):
        exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        found += [name for name, code in exit_codes.items() if code == 0]
    return found


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
    parser.add_argument("paths", nargs="*", help="files or directories under engine/ (default: pyproject's)")
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
        print("\nsurvivors (`.venv/bin/mutmut show NAME` prints the change):")
        print("\n".join(f"  {name}" for name in survivors()))
    return code


if __name__ == "__main__":
    sys.exit(main())
