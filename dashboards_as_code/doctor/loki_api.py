"""The read-only slice of Loki's HTTP API that `doctor` asks.

Every answer is validated at this edge against the shape the API documents (the pydantic models
below); see grafana.com/docs/loki/latest/reference/loki-http-api/.
"""

from __future__ import annotations

import time
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, TypeAdapter

from dashboards_as_code.doctor.http import Answer, Endpoint, null_as_empty

LINE_LIMIT = 100
"""Lines asked for per query: enough to say "some", cheap on a busy stream."""


def _nanoseconds(text: str) -> str:
    """Loki writes each line's time as a string of Unix nanoseconds."""
    if not text.isdigit():
        raise ValueError("a timestamp in nanoseconds is a string of digits")
    return text


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Stream(_Model):
    stream: dict[str, str]
    """Its labels: index labels, and (without the categorize-labels header) structured metadata."""
    values: list[tuple[Annotated[str, AfterValidator(_nanoseconds)], str]]


class StreamsData(_Model):
    resultType: Literal["streams"]  # noqa: N815  (the API's name)
    result: list[Stream]


NAMES = Answer(TypeAdapter(Annotated[list[str], BeforeValidator(null_as_empty)]), "a list of strings")
STREAMS = Answer(TypeAdapter(StreamsData), 'an object with resultType "streams" and result')


class LokiApi:
    def __init__(self, endpoint: Endpoint, range_s: float) -> None:
        self.endpoint = endpoint
        self.end = time.time()
        self.start = self.end - range_s

    def _window(self) -> dict[str, str]:
        return {"start": str(int(self.start * 1e9)), "end": str(int(self.end * 1e9))}

    def probe(self) -> None:
        """SourceError unless this is a Loki API that answers with these credentials."""
        self.endpoint.get("/loki/api/v1/labels", NAMES, self._window())

    def lines(self, query: str) -> list[dict[str, str]]:
        """The labels (stream labels and structured metadata together) of each line returned, newest first."""
        data = self.endpoint.get(
            "/loki/api/v1/query_range",
            STREAMS,
            {"query": query, "limit": str(LINE_LIMIT), "direction": "backward", **self._window()},
        )
        return [dict(stream.stream) for stream in data.result for _ in stream.values]

    @cached_property
    def labels(self) -> list[str]:
        names: list[str] = self.endpoint.get("/loki/api/v1/labels", NAMES, self._window())
        return sorted(names)

    def label_values(self, label: str) -> list[str]:
        values: list[str] = self.endpoint.get(f"/loki/api/v1/label/{label}/values", NAMES, self._window())
        return sorted(values)
