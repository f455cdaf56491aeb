"""`doctor`'s options and settings as the run receives them: `--samples` (3 by default, 0 to 20), the
datasources an empty URL leaves out and why, and the summary's "where"."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.doctor.test_exit_codes import FakeRun, invoke_doctor


class RecordingRun(FakeRun):
    made: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, documents: object, endpoint_for: object, samples: int, skip: dict[str, str]) -> None:
        super().__init__(documents, endpoint_for, samples, skip)
        RecordingRun.made.append({"samples": samples, "skip": skip})


def _doctor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str, loki: str = "http://l:3100") -> Any:
    monkeypatch.setattr(RecordingRun, "made", [])
    return invoke_doctor(monkeypatch, tmp_path, *args, run=RecordingRun, loki=loki)


def test_three_tenants_are_sampled_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = _doctor(monkeypatch, tmp_path)
    assert result.exit_code == 0, result.output
    assert [made["samples"] for made in RecordingRun.made] == [3]


@pytest.mark.parametrize("samples", [0, 20])
def test_samples_from_0_to_20_are_taken(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, samples: int
) -> None:
    result = _doctor(monkeypatch, tmp_path, "--samples", str(samples))
    assert result.exit_code == 0, result.output
    assert [made["samples"] for made in RecordingRun.made] == [samples]


@pytest.mark.parametrize("samples", [-1, 21])
def test_samples_outside_0_to_20_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, samples: int
) -> None:
    result = _doctor(monkeypatch, tmp_path, "--samples", str(samples))
    assert result.exit_code == 2
    assert "--samples" in result.output
    assert RecordingRun.made == []


def test_an_empty_loki_url_leaves_loki_out_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = _doctor(monkeypatch, tmp_path, loki="")
    assert result.exit_code == 0, result.output
    assert [made["skip"] for made in RecordingRun.made] == [{"loki": "LOKI_URL is empty"}]
    assert "(1 panels, Prometheus at http://p:9090, Loki left out)." in result.output


def test_the_summary_names_each_datasource_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    result = _doctor(monkeypatch, tmp_path)
    assert RecordingRun.made[0]["skip"] == {}
    assert "(1 panels, Prometheus at http://p:9090, Loki at http://l:3100)." in result.output
