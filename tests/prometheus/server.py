"""Start Debian's Prometheus on 127.0.0.1 for a test, and talk to its HTTP API."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.processes import stop

LISTENING = re.compile(r'msg="Listening on".*?address=127\.0\.0\.1:(\d+)')
"""Prometheus 2 logs `msg="Listening on" address=...`, Prometheus 3 puts `component=web` between."""


@dataclass
class Prometheus:
    """Prometheus' HTTP API at `url`: Prometheus itself, or Cortex's (`<cortex>/prometheus`, with its
    tenant in `headers`)."""

    url: str
    log: Path
    headers: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        request = urllib.request.Request(f"{self.url}{path}?{query}", headers=self.headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        if body.get("status") != "success":
            raise AssertionError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return list(self.get("/api/v1/query", **params)["result"])

    def query_range(self, expr: str, start: float, end: float, step: str) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=step)
        return list(data["result"])

    def exemplars(self, expr: str, start: float, end: float) -> list[dict[str, Any]]:
        return list(self.get("/api/v1/query_exemplars", query=expr, start=f"{start:.3f}", end=f"{end:.3f}"))

    def wait_for(self, expr: str, minimum: float, timeout: float = 60) -> None:
        """Poll until `expr` returns a value >= minimum (never a blind sleep). Until its storage is
        ready Prometheus answers 503 (seen on a loaded machine right after it logs its port): not yet."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                result = self.query(expr)
            except urllib.error.HTTPError as error:
                if error.code != 503:
                    raise
                result = []
            if result and float(result[0]["value"][1]) >= minimum:
                return
            time.sleep(0.25)
        raise AssertionError(
            f"Prometheus never returned {expr} >= {minimum}; log: {self.log.read_text()[-2000:]}"
        )


COMPOSE_FILE = Path(__file__).resolve().parents[2] / "monitoring" / "docker-compose.observability.yml"


def stack_features(*, exemplar_storage: bool = True) -> list[str]:
    """The feature flags the compose stack starts Prometheus with (the tests run what it runs), without
    exemplar storage for a scenario that turns it off."""
    command = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["prometheus"]["command"]
    features = [
        flag.removeprefix("--enable-feature=") for flag in command if flag.startswith("--enable-feature=")
    ]
    return [f for f in features if exemplar_storage or f != "exemplar-storage"]


SCRAPE_INTERVAL_S = 1
"""How often the tests' Prometheus scrapes: each second, so a scenario sees its data within seconds."""


@contextmanager
def running_prometheus(
    binary: str,
    workdir: Path,
    scrape_target: str,
    rule_files: Sequence[Path] = (),
    *,
    exemplar_storage: bool = True,
    scrape: dict[str, Any] | None = None,
) -> Iterator[Prometheus]:
    """`scrape` overrides keys of the scrape config (honor_labels, metric_relabel_configs) for a scenario."""
    config = {
        "global": {"scrape_interval": f"{SCRAPE_INTERVAL_S}s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {
                # As the compose stack scrapes the Collector: keep the exporter's job/instance.
                "job_name": "otel-collector",
                "honor_labels": True,
                "static_configs": [{"targets": [scrape_target]}],
                **(scrape or {}),
            }
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = workdir / "prometheus.log"
    with log.open("w") as stream:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                "--web.listen-address=127.0.0.1:0",
                *(
                    f"--enable-feature={feature}"
                    for feature in stack_features(exemplar_storage=exemplar_storage)
                ),
                "--web.enable-lifecycle",
            ],
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(
                    f"prometheus exited with {process.returncode}: {log.read_text()[-2000:]}"
                )
            match = LISTENING.search(log.read_text())
            port = match.group(1) if match else None
            time.sleep(0.05)
        if port is None:
            raise AssertionError(f"prometheus did not report its port: {log.read_text()[-2000:]}")
        yield Prometheus(f"http://127.0.0.1:{port}", log)
    finally:
        stop(process)
