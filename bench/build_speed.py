#!/usr/bin/env python3
"""Benchmark: cold start of `build` and `check`, against `python -c "import grafanalib.core"`.

Each round runs, in fresh interpreters and in turn, the baseline, `build` and `check` on a copy of
this repository, and `build` and `check` on a copy with 100 dashboards (99 copies of the Overview
under other uids and titles); medians over the rounds are printed and written to
bench/results/build-speed.md. Run from the repository root:
`.venv/bin/python -m bench.build_speed [--rounds N]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import DEFINITIONS, OUTPUTS

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "build-speed.md"
COPIES = 99

COPY_MODULE = '''"""Benchmark copy {index} of the Overview (made by bench/build_speed.py)."""

from dashboards import overview
from dashboards_as_code.definitions.types import DashboardDefinition


def dashboard() -> DashboardDefinition:
    definition = overview.dashboard()
    definition.dashboard.uid = "bench-copy-{index:02d}"
    definition.dashboard.title = "Bench copy {index:02d}"
    return definition
'''


def make_project(target: Path, copies: int) -> Path:
    for name in DEFINITIONS + OUTPUTS:
        shutil.copytree(REPO / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "config.py", target / "config.py")
    for index in range(copies):
        (target / "dashboards" / f"copy_{index:02d}.py").write_text(COPY_MODULE.format(index=index))
    subprocess.run([sys.executable, str(REPO / "build.py"), "build", "--project", str(target)], check=True,
                   capture_output=True)  # fmt: skip
    return target


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, check=True, capture_output=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""}
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as work:
        small = make_project(Path(work) / "repo", 0)
        large = make_project(Path(work) / "hundred", COPIES)
        cli = [sys.executable, str(REPO / "build.py")]
        commands = {
            'python -c "import grafanalib.core" (baseline)': [sys.executable, "-c", "import grafanalib.core"],
            "build, this repository": [*cli, "build", "--project", str(small)],
            "check, this repository": [*cli, "check", "--project", str(small)],
            f"build, {COPIES + 1} dashboards": [*cli, "build", "--project", str(large)],
            f"check, {COPIES + 1} dashboards": [*cli, "check", "--project", str(large)],
        }
        for command in commands.values():
            timed(command)  # warm the page cache and the bytecode caches
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, command in commands.items():
                samples[name].append(timed(command))
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    baseline = next(iter(medians.values()))
    lines = [
        "# Cold start of build and check",
        "",
        f"Medians of {rounds} paired rounds on {os.cpu_count()} cores, written by "
        "`.venv/bin/python -m bench.build_speed`.",
        "",
        "| command | median ms | minus baseline ms | x baseline |",
        "|---|---:|---:|---:|",
    ]
    for name, value in medians.items():
        lines.append(f"| {name} | {value:.0f} | {value - baseline:.0f} | {value / baseline:.2f} |")
    build, check = medians["build, this repository"], medians["check, this repository"]
    lines += ["", f"check / build on this repository: {check / build:.2f}", ""]
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
