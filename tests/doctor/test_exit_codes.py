"""`doctor`'s exit code and streams as the command line gives them, over a run whose outcome the test
sets: 0 when all is ok (rules not evaluated yet included), 1 for a panel not ok, a rule in err or a
rule list that could not be read, 2 when nothing could be reached or everything was left out."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

import dashboards_as_code.doctor.run as doctor_run
from dashboards_as_code import cli
from dashboards_as_code.doctor.causes import CauseCode, PanelReport, RuleReport, Status
from dashboards_as_code.doctor.http import SourceError


def _rule(health: str) -> RuleReport:
    return RuleReport("prom", "alerting", "TicketsDown", "g", "r.yml", health, "", 60.0)


class FakeRun:
    """A finished run: its panels, rules and failures as the test sets them."""

    outcome: ClassVar[dict[str, Any]] = {}

    def __init__(self, documents: object, endpoint_for: object, samples: int, skip: dict[str, str]) -> None:
        self.jobs: list[object] = []
        self.on_panel: object = None
        self.reports: list[PanelReport] = FakeRun.outcome.get("reports", [PanelReport("d", "p")])
        self.rules: list[RuleReport] = FakeRun.outcome.get("rules", [])
        self.rule_failures: list[SourceError] = FakeRun.outcome.get("rule_failures", [])
        self.failures: list[SourceError] = [*FakeRun.outcome.get("failures", []), *self.rule_failures]
        self.nothing_reachable: bool = FakeRun.outcome.get("nothing_reachable", False)
        self.nothing_asked: bool = FakeRun.outcome.get("nothing_asked", False)
        self.skipped, self.skipped_sources = 0, list[object]()

    def run(self) -> list[PanelReport]:
        return self.reports


def invoke_doctor(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *args: str,
    run: type[FakeRun] = FakeRun,
    loki: str = "http://l:3100",
    **outcome: Any,
) -> Any:
    """`doctor` through the CLI, its run replaced by `run` (a FakeRun) finishing with `outcome`; the
    project, Prometheus and Loki as settings only (nothing is asked)."""
    monkeypatch.setattr(FakeRun, "outcome", outcome)
    monkeypatch.setattr(doctor_run, "DoctorRun", run)
    monkeypatch.setattr(cli, "_load", lambda _root: SimpleNamespace(project=SimpleNamespace(root=tmp_path)))
    monkeypatch.setenv("PROMETHEUS_URL", "http://p:9090")
    monkeypatch.setenv("LOKI_URL", loki)
    return CliRunner().invoke(cli.app, ["doctor", *args])


def _suspect() -> PanelReport:
    report = PanelReport("d", "p")
    report.add(Status.SUSPECT, [])
    return report


def test_all_ok_exits_0_and_a_rule_not_evaluated_yet_is_ok(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert invoke_doctor(monkeypatch, tmp_path).exit_code == 0
    result = invoke_doctor(monkeypatch, tmp_path, rules=[_rule("unknown")])
    assert result.exit_code == 0, result.output
    assert "1 rule(s) not ok: 1 unknown" in result.output


@pytest.mark.parametrize(
    "outcome",
    [
        {"reports": [_suspect()]},
        {"rules": [_rule("unknown"), _rule("err")]},
        {"rule_failures": [SourceError(CauseCode.BAD_ANSWER, "http://p:9090/api/v1/rules: odd")]},
    ],
    ids=["panel-suspect", "rule-in-err", "rule-list-unreadable"],
)
def test_a_panel_not_ok_or_a_rule_problem_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, outcome: dict[str, Any]
) -> None:
    result = invoke_doctor(monkeypatch, tmp_path, **outcome)
    assert result.exit_code == 1, result.output


def test_nothing_reachable_exits_2_and_names_each_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    failures = [SourceError(CauseCode.UNREACHABLE, "http://p:9090: cannot connect (refused)")]
    result = invoke_doctor(monkeypatch, tmp_path, nothing_reachable=True, failures=failures)
    assert result.exit_code == 2
    assert "error: http://p:9090: cannot connect (refused)" in result.output
    assert "No datasource could be reached: nothing was checked." in result.output
    assert "d / p" not in result.output and "panels, " not in result.output  # no table, no summary
    as_json = invoke_doctor(monkeypatch, tmp_path, "--json", nothing_reachable=True, failures=failures)
    assert as_json.exit_code == 2  # the JSON is printed, the exit code still says nothing was checked


def test_everything_left_out_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = invoke_doctor(monkeypatch, tmp_path, nothing_asked=True)
    assert result.exit_code == 2
    assert "Every datasource the panels use was left out" in result.output


def test_json_is_one_document_and_keeps_the_exit_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = invoke_doctor(monkeypatch, tmp_path, "--json", reports=[_suspect()])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert [panel["status"] for panel in document["panels"]] == ["suspect"]
