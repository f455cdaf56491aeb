#!/usr/bin/env python3
"""Benchmark: `watch`, from a saved definition to the rewritten dashboard JSON, and Ctrl-C to exit.

Starts `build.py watch` on a copy of this repository, then, for each round, renames a panel in
dashboards/overview.py and polls (every 5 ms) until the generated JSON carries the new title.
The time from the write to that moment is the save-to-output latency; the target is under 1 s.
Finally it sends SIGINT and times the exit. Run from the repository root:
`.venv/bin/python -m bench.watch_latency [--rounds N]`.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import DEFINITIONS, OUTPUTS

REPO = Path(__file__).resolve().parent.parent
OUTPUT = "provisioning/dashboards/tiktickets/tiktickets-overview.json"
TITLE = '"Active WhatsApp sessions",'


def _wait(predicate: Callable[[], bool], timeout: float = 30) -> float:
    started = time.perf_counter()
    while not predicate():
        if time.perf_counter() - started > timeout:
            raise SystemExit("watch never produced the change")
        time.sleep(0.005)
    return time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as work:
        project = Path(work)
        for name in DEFINITIONS + OUTPUTS:
            shutil.copytree(REPO / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(REPO / "config.py", project / "config.py")
        source, output = project / "dashboards" / "overview.py", project / OUTPUT
        watcher = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "watch", "--project", str(project)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert watcher.stdout is not None
        while "built:" not in watcher.stdout.readline():
            pass
        latencies, previous = [], TITLE
        for index in range(rounds):
            title = f'"Sessions {index}",'
            text = source.read_text().replace(previous, title)
            written = time.perf_counter()
            source.write_text(text)
            wanted = title.strip('",')
            done = _wait(lambda: wanted in output.read_text())  # noqa: B023 (called before the loop moves on)
            latencies.append(done - written)
            previous = title
            time.sleep(0.3)  # let the watcher settle, so each round is one save
        interrupted = time.perf_counter()
        watcher.send_signal(signal.SIGINT)
        code = watcher.wait(timeout=10)
        stopped = time.perf_counter() - interrupted
    ms = sorted(round(x * 1000) for x in latencies)
    print(
        f"save -> written output: median {statistics.median(ms):.0f} ms, max {max(ms)} ms over {rounds} saves"
    )
    print(f"  all (ms): {ms}")
    print(f"SIGINT -> exit {code}: {stopped * 1000:.0f} ms")


if __name__ == "__main__":
    main()
