"""`make mutation`: what it mutates, what it refuses, how its score is counted, and the plugin that
keeps mutmut's stats run from breaking tests that start build.py in a subprocess."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from bench.mutation import REPO, UsageError, choose, engine_globs, focus, link_the_tools, score_table
from tests import mutmut_plugin


def test_engine_files_stay_files_and_directories_become_globs() -> None:
    assert engine_globs(
        ["dashboards_as_code/names.py", "dashboards_as_code/doctor", "dashboards_as_code/"]
    ) == [
        "dashboards_as_code/names.py",
        "dashboards_as_code/doctor/*",
        "dashboards_as_code/*",
    ]


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("dashboards/", "not under dashboards_as_code/"),
        ("dashboards_as_code/../config.py", "not under dashboards_as_code/"),
        ("/etc", "not under dashboards_as_code/"),
        ("dashboards_as_code/no_such_module.py", "neither a directory nor a .py file"),
        ("dashboards_as_code/py.typed", "neither a directory nor a .py file"),
    ],
)
def test_a_path_outside_the_engine_or_not_python_is_refused_by_name(path: str, says: str) -> None:
    with pytest.raises(UsageError) as refused:
        engine_globs([path])
    assert path in str(refused.value) and says in str(refused.value)


def test_no_path_keeps_pyprojects_selection_and_a_path_widens_to_the_whole_suite() -> None:
    assert choose([], []) is None
    wide = choose(["dashboards_as_code/"], [])
    assert wide is not None and wide.only_mutate == ["dashboards_as_code/*"] and wide.tests == ["tests/"]
    narrowed = choose(["dashboards_as_code/uids.py"], ["tests/test_uids.py"])
    assert narrowed is not None and narrowed.tests == ["tests/test_uids.py"]


def test_tests_without_paths_are_refused() -> None:
    with pytest.raises(UsageError, match="needs MUTATE paths"):
        choose([], ["tests/test_uids.py"])


def test_the_score_counts_timeouts_as_caught_and_leaves_out_mutants_no_test_reaches() -> None:
    table = score_table(
        {
            "dashboards_as_code/a.py": Counter({"killed": 6, "timeout": 1, "survived": 1, "no tests": 2}),
            "dashboards_as_code/b.py": Counter({"killed": 1, "survived": 1}),
        }
    )
    rows = {line.split(" | ")[0].strip("| `*"): line for line in table.splitlines()[2:]}
    assert rows["dashboards_as_code/a.py"].endswith("| 10 | 87.5 % |")
    assert rows["dashboards_as_code/b.py"].endswith("| 2 | 50.0 % |")
    assert rows["all"].endswith("| 12 | 80.0 % |")


def test_the_stats_mode_leaves_the_environment_and_a_mutant_stays_in_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MUTANT_UNDER_TEST", "stats")
    mutmut_plugin.pytest_configure()
    assert "MUTANT_UNDER_TEST" not in os.environ
    monkeypatch.setenv("MUTANT_UNDER_TEST", "dashboards_as_code.uids.x_uid__mutmut_1")
    mutmut_plugin.pytest_configure()
    assert os.environ["MUTANT_UNDER_TEST"] == "dashboards_as_code.uids.x_uid__mutmut_1"


def test_a_survivor_is_shown_by_the_part_of_a_long_line_that_changed() -> None:
    line = "return shown if len(shown) <= limit else " + "x" * 80
    before, after = focus(line, line.replace("<=", "<"))
    assert "<= limit" in before and "< limit" in after and "<=" not in after
    assert before.endswith("…") and len(before) < len(line)


def test_every_run_finds_the_checkers_under_tools_in_mutmuts_copy(tmp_path: Path) -> None:
    """The default subset's tests read log queries with tools/logql: its copy links tools/ too, once."""
    link_the_tools(tmp_path)
    link_the_tools(tmp_path)  # a second run keeps the link
    linked = tmp_path / "tools"
    assert linked.is_symlink() and linked.resolve() == (REPO / "tools").resolve()
    assert (linked / "logql" / "check.js").is_file()
