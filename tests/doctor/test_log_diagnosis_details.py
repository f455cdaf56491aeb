"""Sweep k4 (issue 27): what `doctor` says of an empty log panel, row by row, against a fake Loki.

Each row is a situation the on-call person meets (a field made by label_format next to one nobody
sends, a field dropped by an earlier line filter, a selector written with spaces or an escaped quote,
a value no stream has) and what doctor must say: the cause code, its words, and the query to paste
into Explore. Then what the Loki client asks: the dashboard's window, not the last hour, and the
probe on the labels endpoint. And the grammar's first parse error, not its last.
"""

from __future__ import annotations

import pytest

from dashboards_as_code.doctor import loki_diagnosis
from dashboards_as_code.doctor.causes import Cause, CauseCode, Status
from dashboards_as_code.doctor.loki_api import LokiApi
from dashboards_as_code.doctor.loki_diagnosis import LokiDoctor
from dashboards_as_code.external_tools import LOGQL, ToolMissingError
from dashboards_as_code.logql.grammar import LogPipeline, log_pipeline
from tests.doctor.test_report_and_cause_details import FakeEndpoint, FakeLoki
from tests.tooling import require_tool

SELECTOR = '{service_name="b"}'


@pytest.fixture(autouse=True)
def _grammar() -> None:
    require_tool(LOGQL)


def _loki(api: FakeLoki, expr: str) -> tuple[Status, list[Cause]]:
    return LokiDoctor(api, "the last 6 h").diagnose(expr)  # type: ignore[arg-type]


MADE = f'{SELECTOR} | label_format level="{{{{.severity_text}}}}"'
FILTERED = f'{SELECTOR} |= "pay"'


@pytest.mark.parametrize(
    ("expr", "lines", "code", "detail", "query"),
    [
        pytest.param(
            # `level` is made by label_format, so it is skipped; `trace_id` after it is still looked for.
            f'{MADE} | level="x" or trace_id="abc"',
            {SELECTOR: 3, MADE: 3},
            CauseCode.LOKI_FIELD_MISSING,
            f"no line of {SELECTOR} in the last 6 h carries `trace_id` (structured metadata from the log "
            "record's attributes): the emitter does not set it, or the Collector drops it",
            MADE,
            id="a-made-field-then-a-missing-one",
        ),
        pytest.param(
            # The stream's lines carry trace_id, but none of those the line filter lets through does.
            f'{FILTERED} | trace_id="abc"',
            {SELECTOR: 3, FILTERED: 2, f'{SELECTOR} | trace_id!=""': 1},
            CauseCode.LOKI_FIELD_MISSING,
            f"no line of {SELECTOR} in the last 6 h carries `trace_id` (structured metadata from the log "
            "record's attributes): the emitter does not set it, or the Collector drops it",
            FILTERED,
            id="the-field-is-looked-for-on-the-lines-reaching-the-stage",
        ),
        pytest.param(
            # The lines reaching the stage carry the field: nothing passes its value.
            f'{FILTERED} | trace_id="abc"',
            {SELECTOR: 3, FILTERED: 2, f'{FILTERED} | trace_id!=""': 2},
            CauseCode.LOKI_NO_LINES,
            f'{SELECTOR} has lines in the last 6 h, but none passes `| trace_id="abc"`',
            FILTERED,
            id="the-field-is-there-its-value-is-not",
        ),
        pytest.param(
            # A selector written with spaces is read as one written without.
            '{ tenant_id = "acme" }',
            {},
            CauseCode.LOKI_LABEL_NOT_INDEXED,
            "the selector uses `tenant_id`, which Loki does not index (indexed: deployment_environment, "
            "service_name): for OTLP "
            "logs only listed resource attributes become labels; filter structured metadata with "
            '`| tenant_id="acme"` instead',
            '{deployment_environment=~".+"}',  # the first indexed label
            id="a-selector-with-spaces",
        ),
        pytest.param(
            # The value no stream has is quoted as written, its escaped quote included.
            r'{service_name="a\"b"}',
            {},
            CauseCode.LOKI_NO_STREAM,
            r'no stream has service_name="a\"b" in the last 6 h; its values: a, c',
            '{service_name=~".+"}',
            id="a-value-with-an-escaped-quote",
        ),
        pytest.param(
            # Only the matcher on a value nobody has is blamed, and its Explore query lists that label.
            '{deployment_environment="prod", service_name="x"}',
            {},
            CauseCode.LOKI_NO_STREAM,
            'no stream has service_name="x" in the last 6 h; its values: a, c',
            '{service_name=~".+"}',
            id="the-second-label-of-two-has-no-such-value",
        ),
    ],
)
def test_what_an_empty_log_panel_is_blamed_on(
    expr: str, lines: dict[str, int], code: CauseCode, detail: str, query: str
) -> None:
    indexed = ["deployment_environment", "service_name"]
    api = FakeLoki(lines, indexed, {"service_name": ["a", "c"], "deployment_environment": ["prod"]})
    status, [cause] = _loki(api, expr)
    assert status is Status.EMPTY
    assert (cause.code, cause.detail, cause.query) == (code, detail, query)


def test_lines_that_arrive_while_doctor_asks_are_said_to_be_none_of_the_stream() -> None:
    """The whole query came back empty, yet every stage lets lines through when asked next (lines
    arrived in between): the cause is "no line" for the selector, not "no stream"."""
    expr = f'{SELECTOR} |= "pay"'

    class Arriving(FakeLoki):
        def lines(self, query: str) -> list[dict[str, str]]:
            first = query not in self.asked
            found = super().lines(query)
            return [] if query == expr and first else found

    status, [cause] = _loki(Arriving({SELECTOR: 2, expr: 2}, ["service_name"]), expr)
    assert status is Status.EMPTY
    assert cause == Cause(CauseCode.LOKI_NO_LINES, f"no line of {SELECTOR} in the last 6 h", SELECTOR)


def test_without_the_logql_grammar_a_log_panel_is_a_query_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(expr: str) -> LogPipeline:
        raise ToolMissingError(LOGQL)

    monkeypatch.setattr(loki_diagnosis, "log_pipeline", missing)
    status, [cause] = _loki(FakeLoki({}, []), SELECTOR)
    assert status is Status.ERROR and cause.code is CauseCode.QUERY_ERROR
    assert "is not installed" in cause.detail and cause.query == SELECTOR


@pytest.mark.parametrize("range_s", [300, 21600, 7 * 86400])
def test_loki_is_asked_over_the_dashboards_range_not_the_last_hour(range_s: int) -> None:
    endpoint = FakeEndpoint(
        {
            "/loki/api/v1/query_range": {"resultType": "streams", "result": []},
            "/loki/api/v1/labels": ["service_name"],
            "/loki/api/v1/label/service_name/values": ["a"],
        }
    )
    api = LokiApi(endpoint, range_s)  # type: ignore[arg-type]
    api.lines(SELECTOR)
    assert api.labels == ["service_name"]
    assert api.label_values("service_name") == ["a"]
    for _, params in endpoint.asked:
        assert int(params["end"]) - int(params["start"]) == range_s * 10**9


def test_the_probe_asks_lokis_labels_endpoint_over_the_window() -> None:
    """The probe must be an API call that needs the credentials (`/ready` answers anyone, in text)."""
    endpoint = FakeEndpoint({"/loki/api/v1/labels": []})
    LokiApi(endpoint, 600).probe()  # type: ignore[arg-type]
    [(path, params)] = endpoint.asked
    assert path == "/loki/api/v1/labels"
    assert int(params["end"]) - int(params["start"]) == 600 * 10**9


def test_a_query_that_does_not_parse_names_its_first_error() -> None:
    """`{a=} | b=` has two errors (characters 3 and 9): the user is sent to the first."""
    with pytest.raises(ValueError, match="does not parse at character 3:"):
        log_pipeline("{a=} | b=")
