"""How `doctor` reads Loki's query_range answer: one entry per line (not per stream), each with its
stream's labels; a line's time must be Unix nanoseconds as a string of digits, or the answer is bad."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dashboards_as_code.doctor.loki_api import STREAMS, LokiApi
from tests.doctor.test_report_and_cause_details import FakeEndpoint


def _streams(*streams: dict[str, Any]) -> dict[str, Any]:
    return {"resultType": "streams", "result": list(streams)}


def test_each_line_is_one_entry_with_its_streams_labels() -> None:
    answer = _streams(
        {
            "stream": {"service_name": "a"},
            "values": [["1800000000000000000", "x"], ["1799999999000000000", "y"]],
        },
        {"stream": {"service_name": "b"}, "values": [["1800000000000000000", "z"]]},
    )
    api = LokiApi(FakeEndpoint({"/loki/api/v1/query_range": answer}), 3600)  # type: ignore[arg-type]
    assert api.lines('{service_name=~"a|b"}') == [
        {"service_name": "a"},
        {"service_name": "a"},
        {"service_name": "b"},
    ]


@pytest.mark.parametrize("time", ["1.8e18", "-1800000000000000000", "1800000000.5", " 1800000000000000000"])
def test_a_line_time_that_is_not_a_string_of_digits_is_a_bad_answer(time: str) -> None:
    with pytest.raises(ValidationError, match="nanoseconds"):
        STREAMS.model.validate_python(_streams({"stream": {}, "values": [[time, "x"]]}))
