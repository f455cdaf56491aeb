"""The real Alertmanager (tools/bin/alertmanager, built by `make tools`) for tests, on a free port."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.local_http import free_port
from tests.processes import stop


@dataclass(frozen=True)
class Alertmanager:
    url: str
    log: Path

    def post_alerts(self, *labelsets: dict[str, str]) -> None:
        """Alerts as Prometheus sends them (`POST /api/v2/alerts`), firing from now on."""
        body = json.dumps([{"labels": labels} for labels in labelsets]).encode()
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts", body, {"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.read()

    def alerts(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=10) as response:
            found: list[dict[str, Any]] = json.loads(response.read())
        return found

    def groups(self) -> list[dict[str, Any]]:
        """The notification groups (`GET /api/v2/alerts/groups`): one notification each, its `labels`
        the group_by labels' values, its `alerts` those it carries."""
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts/groups", timeout=10) as response:
            found: list[dict[str, Any]] = json.loads(response.read())
        return found


@contextmanager
def running_alertmanager(binary: str, config: Path, workdir: Path, *flags: str) -> Iterator[Alertmanager]:
    """Alertmanager on 127.0.0.1 with `config`, clustering off (one instance), its state in `workdir`,
    with any further command-line `flags` (the compose file's `--enable-feature=...`)."""
    port = free_port()
    log = workdir / "alertmanager.log"
    with log.open("w") as stream:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                *flags,
            ],
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"alertmanager exited with {process.returncode}: {log.read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"alertmanager never became ready: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield Alertmanager(url, log)
    finally:
        stop(process)
