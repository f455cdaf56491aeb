"""Benchmark and proof: every test that reads TikTickets' definitions, on a copy with a user's change.

`.venv/bin/python -m bench.welcome` copies the repository, adds the README's panel and dashboard
(tests/welcome.py), runs `build`, `check` and `DEFINITION_TESTS` + `WIDE_TESTS` there with no test
file edited, and writes the outcome and its wall time to bench/results/welcome.md. `make test` runs the
fast part (tests/test_welcome.py); this is the wide run, too slow for every `make test`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.welcome import DEFINITION_TESTS, WIDE_TESTS, run_tests, welcome_copy

RESULTS = Path(__file__).resolve().parent / "results" / "welcome.md"
TIMEOUT = 3 * 3600


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="wel-") as scratch:
        copy = welcome_copy(Path(scratch) / "repo")
        started = time.monotonic()
        steps: list[tuple[str, int, float, str]] = []
        for command in ("build", "check"):
            began = time.monotonic()
            done = subprocess.run(
                [sys.executable, "build.py", command], cwd=copy, capture_output=True, text=True, check=False
            )
            steps.append(
                (f"build.py {command}", done.returncode, time.monotonic() - began, done.stdout[-300:])
            )
        began = time.monotonic()
        tests = run_tests(copy, DEFINITION_TESTS + WIDE_TESTS, Path(scratch) / "t", TIMEOUT)
        last = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr[-300:]
        steps.append(
            (
                "pytest -x " + " ".join(DEFINITION_TESTS + WIDE_TESTS),
                tests.returncode,
                time.monotonic() - began,
                last,
            )
        )
        total = time.monotonic() - started
    lines = [
        "# The welcome run: every definition test on a copy with a user's panel and dashboard",
        "",
        f"`python -m bench.welcome`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {total / 60:.1f} min in all.",
        "",
        "| step | exit | seconds | last line |",
        "|---|---|---|---|",
        *(
            f"| `{name}` | {code} | {seconds:.0f} | {tail.strip().splitlines()[-1] if tail.strip() else ''} |"
            for name, code, seconds, tail in steps
        ),
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    if any(code for _, code, _, _ in steps):
        print(tests.stdout[-5000:], tests.stderr[-2000:])
        raise SystemExit(1)


if __name__ == "__main__":
    main()
