"""Sweep k4 (issue 27): `doctor` with one backend down and the other up, as `doctor --help` says it:
"a datasource that is down or answers nonsense marks only its own panels error". The panels of the
one that answered are still shown (table or lines, and the summary), the failure is an `error:` line
on stderr, stdout under `--json` is the JSON alone, and a Loki that answers its probe counts as
reached on its own. A query refused mid-run (403) does not take its datasource down: only one that
stops answering does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dashboards_as_code.doctor.causes import Cause, CauseCode, PanelReport, Skipped, Status
from dashboards_as_code.doctor.http import Answer, Endpoint, SourceError
from dashboards_as_code.doctor.loki_api import NAMES
from dashboards_as_code.doctor.prometheus_api import PrometheusApi
from dashboards_as_code.doctor.run import DoctorRun, Reached
from tests.doctor.test_exit_codes import FakeRun, invoke_doctor

LOKI_DOWN = SourceError(CauseCode.UNREACHABLE, "http://l:3100/loki/api/v1/labels: cannot connect (refused)")


class FakeRunWithNotes(FakeRun):
    """FakeRun, with the datasources left out as the test sets them."""

    def __init__(self, documents: object, endpoint_for: object, samples: int, skip: dict[str, str]) -> None:
        super().__init__(documents, endpoint_for, samples, skip)
        self.skipped_sources = FakeRun.outcome.get("skipped_sources", [])


def _doctor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str, **outcome: Any) -> Any:
    return invoke_doctor(monkeypatch, tmp_path, *args, run=FakeRunWithNotes, **outcome)


def _panels() -> list[PanelReport]:
    ok = PanelReport("tenant-overview", "Request rate")
    logs = PanelReport("tenant-overview", "Error logs")
    logs.add(Status.ERROR, [Cause(LOKI_DOWN.code, LOKI_DOWN.detail, '{service_name="b"}')])
    return [ok, logs]


def test_with_loki_down_and_prometheus_up_the_panels_are_shown_and_the_failure_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = _doctor(monkeypatch, tmp_path, reports=_panels(), failures=[LOKI_DOWN], nothing_reachable=False)
    assert result.exit_code == 1, result.output
    assert "ok       tenant-overview / Request rate" in result.stdout
    assert "error    tenant-overview / Error logs" in result.stdout
    assert (
        "1 ok, 0 suspect, 0 empty, 1 error (2 panels, Prometheus at http://p:9090, Loki at " in result.stdout
    )
    assert f"error: {LOKI_DOWN.detail}" in result.stderr
    assert "error: " not in result.stdout and "No datasource could be reached" not in result.output


def test_under_json_stdout_is_the_document_alone_and_notes_and_errors_go_to_stderr(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    left_out = [Skipped("loki", "LOKI_URL is empty", ("tenant-overview / Error logs",))]
    result = _doctor(monkeypatch, tmp_path, "--json", failures=[LOKI_DOWN], skipped_sources=left_out)
    document = json.loads(result.stdout)  # nothing else on stdout
    assert document["skipped"] == [s.as_json() for s in left_out]
    assert "note: Loki left out (LOKI_URL is empty): 1 panel(s) not checked" in result.stderr
    assert f"error: {LOKI_DOWN.detail}" in result.stderr


class _Source:
    """A datasource that answers its probe, or refuses every request with `refusal`."""

    def __init__(self, refusal: SourceError | None = None) -> None:
        self.refusal = refusal

    def get(self, path: str, answer: Answer[Any], params: dict[str, str] | None = None) -> Any:
        if self.refusal is not None:
            raise self.refusal
        return answer.model.validate_python(["service_name"])


@pytest.mark.parametrize("kind", ["loki", "prometheus"])
@pytest.mark.parametrize(
    ("refusal", "answered"),
    [
        (None, True),
        (SourceError(CauseCode.UNAUTHORIZED, "http://l:3100: 403 Forbidden"), False),
        (LOKI_DOWN, False),
    ],
    ids=["answers", "refuses", "down"],
)
def test_a_datasource_that_answers_its_probe_is_reached_by_itself(
    monkeypatch: pytest.MonkeyPatch, kind: str, refusal: SourceError | None, answered: bool
) -> None:
    """Either backend alone, up, makes a run that checked something (so not exit 2)."""
    monkeypatch.setattr(PrometheusApi, "probe", lambda api: api.endpoint.get("/api/v1/labels", NAMES))
    run = DoctorRun(None, lambda kind, uid: _Source(refusal))  # type: ignore[arg-type, return-value]
    reached = run._reach(kind, "uid")
    assert (reached.answered, reached.failure) == (answered, refusal)
    assert run.nothing_reachable is not answered


def test_a_query_refused_mid_run_does_not_take_its_datasource_down() -> None:
    """Only a datasource that stops answering is marked down; a 403 on one query is that query's cause."""
    reached = Reached(Endpoint("http://l:3100", "loki", 5), answered=True)
    reached.learn([Cause(CauseCode.UNAUTHORIZED, "http://l:3100: 403 Forbidden")])
    assert reached.failure is None
