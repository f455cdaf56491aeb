"""A pytest plugin for `make mutation` runs only (pyproject's `[tool.mutmut] pytest_add_cli_args`).

mutmut first runs the tests once to record which test calls which engine function ("stats"), and
announces that mode in the `MUTANT_UNDER_TEST` environment variable. A test that starts `build.py`
in a subprocess hands that variable on; in the child, each engine function then tries to record its
call in mutmut's tables, which means reading mutmut's configuration from the child's working
directory, usually a temporary project with none: the child fails and so does the whole run.

mutmut keeps the mode in the test process itself as well, so the variable can go for the stats run
without changing what is recorded there; children run the engine unchanged, as they should (what a
child calls cannot be recorded in the parent anyway). While a mutant is under test the variable
stays, so a child started by a test runs the mutant too.
"""

from __future__ import annotations

import os

MODE_VARIABLE = "MUTANT_UNDER_TEST"
STATS_MODE = "stats"


def pytest_configure() -> None:
    """Keep the stats mode out of the environment that test subprocesses inherit."""
    if os.environ.get(MODE_VARIABLE) == STATS_MODE:
        del os.environ[MODE_VARIABLE]
