"""The Loki and Grafana stand-ins of `make stack`, each in its own process until SIGTERM or SIGINT.

    python -m monitoring.stand_ins loki --port 3100
    python -m monitoring.stand_ins grafana --port 3001

Loki and Grafana are AGPL and are not built or run here. These are the test servers of this
repository (tests/loki_server, tests/grafana_server), which speak the parts of those HTTP APIs this
project uses; they are NOT Loki and NOT Grafana:
- the Loki stand-in takes OTLP logs on `/otlp/v1/logs` as Loki's documented OTLP mapping stores them
  and answers `query_range`, `labels` and `label/<name>/values` for the LogQL subset the dashboards
  use; it keeps the last `--retention` seconds in memory and nothing on disk;
- the Grafana stand-in answers the HTTP API `push`, `diff` and `pull` call (folders, dashboards with
  versions, datasources, search, health), with the users and tokens of tests/grafana_server; it has no
  UI, draws no panel, and starts empty (nothing is provisioned into it).
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from types import FrameType

from tests.grafana_server.server import FakeGrafana
from tests.loki_server.server import loki_server

LOKI_RETENTION_SECONDS = 3 * 3600
"""The default of `--retention` (`make stack` passes its own): memory stays bounded on a long run."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m monitoring.stand_ins", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("kind", choices=("loki", "grafana"))
    parser.add_argument("--port", type=int, required=True, help="127.0.0.1 port to listen on")
    parser.add_argument(
        "--retention", type=float, default=LOKI_RETENTION_SECONDS, help="seconds of logs kept"
    )
    options = parser.parse_args(argv)
    stopped = threading.Event()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopped.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    if options.kind == "loki":
        with loki_server(port=options.port) as (_url, store):
            while not stopped.wait(60):
                store.forget_before(time.time_ns() - int(options.retention * 1e9))
    else:
        with FakeGrafana(port=options.port):
            stopped.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
