"""Cortex from monitoring/cortex/cortex.yaml, one process on loopback ports chosen at run time.

The committed configuration, with only its `${NAME:default}` values set: its own data directory, its
rule evaluation and ruler polling each second (a test waits seconds, not the compose stack's minute),
and an Alertmanager address where nothing listens, so no alert leaves the test. `ruler_local_dir`
switches the ruler's storage to a directory it reads rule files from (`-ruler-storage.backend=local`),
the layout `build` writes for it; without it the ruler keeps what its API is given, on the filesystem.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from monitoring.scaled_topology import CORTEX_CONFIG, cortex_environment
from monitoring.tools import CORTEX
from tests.e2e.test_hub import wait_healthy
from tests.local_http import free_port
from tests.processes import stop
from tests.tooling import require_tool

READY_SECONDS = 60


def environment_for_tests(workdir: Path, http: int) -> dict[str, str]:
    """Rules evaluated and polled each second; an Alertmanager address where nothing listens."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    each_second = {"CORTEX_RULE_EVALUATION_INTERVAL": "1s", "CORTEX_RULE_POLL_INTERVAL": "1s"}
    return {**os.environ, **cortex_environment(workdir / "cortex", http, nowhere, **each_second)}


@contextlib.contextmanager
def running_cortex(workdir: Path, *, ruler_local_dir: Path | None = None) -> Iterator[str]:
    """Cortex's base URL once it is ready; stopped (and waited for) when the block ends."""
    binary = require_tool(CORTEX)
    http = free_port()
    command = [binary, f"-config.file={CORTEX_CONFIG}", "-config.expand-env=true"]
    if ruler_local_dir is not None:
        command += ["-ruler-storage.backend=local", f"-ruler-storage.local.directory={ruler_local_dir}"]
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "cortex.log"
    with log.open("w") as output:  # started in its own folder: nothing lands in the checkout
        process = subprocess.Popen(
            command,
            env=environment_for_tests(workdir, http),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    try:
        base = f"http://127.0.0.1:{http}"
        wait_healthy(f"{base}/ready", process, log, timeout=READY_SECONDS)
        yield base
    finally:
        stop(process)
