"""contract-names: each metric signal's declared Prometheus name is the one the Collector derives,
and is a name Prometheus accepts.

The Collector's Prometheus exporter names a series from the OTel name, unit and instrument kind
(each character outside `[a-zA-Z0-9:]` -> `_`, the unit suffix, `_ratio` for a unit-`1` gauge,
`_total` for monotonic counters only). A declared name that differs is a dashboard reading a series
nobody writes: "No data" everywhere. The derivation is this engine's own code, so agreeing with it
proves nothing about Prometheus: the declared name and every label are also held to Prometheus'
own name syntax, which a derivation bug (a `-` or `/` left in) cannot satisfy.
"""

from collections.abc import Iterator

from dashboards_as_code.contract.model import (
    PROMETHEUS_LABEL_NAME,
    PROMETHEUS_METRIC_NAME,
    ContractError,
    MetricSignal,
    prometheus_base_name,
)
from dashboards_as_code.errors import Location
from dashboards_as_code.lint import Check, Finding, LintContext

ID = "contract-names"


def _syntax_errors(signal: MetricSignal) -> Iterator[str]:
    """What Prometheus would refuse in the signal's names, independent of how they were derived."""
    for series in signal.series_names:
        if not PROMETHEUS_METRIC_NAME.fullmatch(series):
            yield f"{series!r} is not a Prometheus metric name ({PROMETHEUS_METRIC_NAME.pattern})"
    for label in signal.labels:
        if not PROMETHEUS_LABEL_NAME.fullmatch(label):
            yield f"label {label!r} is not a Prometheus label name ({PROMETHEUS_LABEL_NAME.pattern})"


def run(context: LintContext) -> Iterator[Finding]:
    project = context.project
    for signal in project.contract.metrics:
        location = Location(file=project.contract_source)
        for error in _syntax_errors(signal):
            yield Finding(location, ID, f"signal {signal.key}: {error}")
        try:
            derived = prometheus_base_name(signal.otel_name, signal.unit, signal.instrument)
        except ContractError as error:
            yield Finding(location, ID, f"signal {signal.key}: {error}")
            continue
        if signal.prometheus_name != derived:
            yield Finding(
                location,
                ID,
                f"signal {signal.key}: prometheus_name {signal.prometheus_name!r}, but the Collector exports "
                f"{signal.otel_name!r} ({signal.instrument.value}, unit {signal.unit!r}) as {derived!r}",
            )


CHECK = Check(ID, __doc__ or "", run)
