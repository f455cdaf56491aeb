"""Prometheus causes at their edges, against the small fake of `test_prometheus_cause_details`: the
series whose samples come closest decides, `increase` needs two samples like `rate`, the export
interval advised in milliseconds, and a list of exactly SHOWN_VALUES label values shown whole."""

from __future__ import annotations

from dashboards_as_code.doctor.causes import CauseCode
from dashboards_as_code.doctor.prometheus_diagnosis import SHOWN_VALUES
from tests.doctor.test_prometheus_cause_details import FakePrometheus, _empty


def test_the_series_whose_samples_come_closest_decides_the_spacing() -> None:
    """One series every 20 s already gives rate(x[1m]) a value: a slower one beside it is no cause."""
    api = FakePrometheus({"x": 2}, times=[[0.0, 60.0, 120.0, 180.0], [0.0, 20.0, 40.0, 60.0]])
    [cause] = _empty(api, "rate(x[1m])")
    assert cause.code is CauseCode.NO_MATCH


def test_sparse_samples_advise_an_export_interval_of_a_third_of_the_window() -> None:
    api = FakePrometheus({"x": 1}, times=[[0.0, 30.0, 60.0, 90.0]])
    [cause] = _empty(api, "rate(x[1m])")
    assert cause.code is CauseCode.SPARSE_SAMPLES
    assert cause.detail.startswith("samples of `x` arrive every 30 s; rate over 60s needs at least two")
    assert "set OTEL_METRIC_EXPORT_INTERVAL to <= 20000 (milliseconds: 60s / 3)" in cause.detail
    assert cause.detail.endswith("or widen the window to at least 90s")


def test_increase_needs_two_samples_in_its_window_like_rate() -> None:
    api = FakePrometheus({"x": 1}, times=[[0.0, 30.0, 60.0, 90.0]])
    [cause] = _empty(api, "sum(increase(x[1m]))")
    assert cause.code is CauseCode.SPARSE_SAMPLES
    assert "; increase over 60s needs at least two" in cause.detail


def test_exactly_shown_values_label_values_are_listed_without_an_ellipsis() -> None:
    values = [f"t{i}" for i in range(SHOWN_VALUES)]
    api = FakePrometheus({"x": 3, 'x{tenant_id!=""}': 3}, values=values)
    [cause] = _empty(api, 'x{tenant_id="acme"}')
    assert cause.code is CauseCode.LABEL_MISMATCH
    assert cause.detail == f'no `x` series has tenant_id="acme"; its tenant_id values: {", ".join(values)}'
    api.values = [*values, "t9"]
    [cause] = _empty(api, 'x{tenant_id="acme"}')
    assert cause.detail.endswith(f"{', '.join(values)}, ...")


def test_the_spacing_named_is_that_of_the_closest_series() -> None:
    """Two sparse series, 30 s and 60 s apart: the advice is sized for the 30 s one, which needs least."""
    api = FakePrometheus({"x": 2}, times=[[0.0, 60.0, 120.0, 180.0], [0.0, 30.0, 60.0, 90.0]])
    [cause] = _empty(api, "rate(x[1m])")
    assert cause.code is CauseCode.SPARSE_SAMPLES
    assert cause.detail.startswith("samples of `x` arrive every 30 s;")
    assert cause.detail.endswith("or widen the window to at least 90s")
