"""contract-names: each metric signal's declared Prometheus name is the one the Collector derives.

The Collector's Prometheus exporter names a series from the OTel name, unit and instrument kind
(`.` -> `_`, the unit suffix, `_ratio` for a unit-`1` gauge, `_total` for monotonic counters only).
A declared name that differs is a dashboard reading a series nobody writes: "No data" everywhere.
"""

from collections.abc import Iterator

from engine.contract.model import ContractError, prometheus_base_name
from engine.errors import Location
from engine.lint import Check, Finding, LintContext

ID = "contract-names"


def run(context: LintContext) -> Iterator[Finding]:
    project = context.project
    for signal in project.contract.metrics:
        location = Location(file=project.contract_source)
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
