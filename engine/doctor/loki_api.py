"""The read-only slice of Loki's HTTP API that `doctor` asks.

See grafana.com/docs/loki/latest/reference/loki-http-api/.
"""

from __future__ import annotations

import time
from functools import cached_property

from engine.doctor.http import Endpoint, SourceError

LINE_LIMIT = 100
"""Lines asked for per query: enough to say "some", cheap on a busy stream."""


class LokiApi:
    def __init__(self, endpoint: Endpoint, range_s: float) -> None:
        self.endpoint = endpoint
        self.end = time.time()
        self.start = self.end - range_s

    def _window(self) -> dict[str, str]:
        return {"start": str(int(self.start * 1e9)), "end": str(int(self.end * 1e9))}

    def probe(self) -> None:
        labels = self.endpoint.get("/loki/api/v1/labels", self._window())
        if labels is not None and not isinstance(labels, list):
            raise SourceError(self.endpoint.not_this_api(), f"{self.endpoint.shown} is not a Loki API")

    def lines(self, query: str) -> list[dict[str, str]]:
        """The labels (stream labels and structured metadata together) of each line returned, newest first."""
        data = self.endpoint.get(
            "/loki/api/v1/query_range",
            {"query": query, "limit": str(LINE_LIMIT), "direction": "backward", **self._window()},
        )
        if data.get("resultType") != "streams":
            raise SourceError(
                self.endpoint.not_this_api(), f"{query}: Loki answered {data.get('resultType')!r}"
            )
        return [dict(stream["stream"]) for stream in data["result"] for _ in stream["values"]]

    @cached_property
    def labels(self) -> list[str]:
        return sorted(self.endpoint.get("/loki/api/v1/labels", self._window()) or [])

    def label_values(self, label: str) -> list[str]:
        return sorted(self.endpoint.get(f"/loki/api/v1/label/{label}/values", self._window()) or [])
