"""Every Prometheus series a dashboard may read: the contract's, and those the recording rules write.

Lint rules ask this catalog, not the contract alone, so a panel reading a recorded series is checked
with the same care (known name, unit, tenant label, gauge or counter) as one reading raw series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dashboards_as_code.contract.model import PromType, TelemetryContract
from dashboards_as_code.defaults import ALL_TENANTS, TENANT_LABEL
from dashboards_as_code.definitions.prometheus_rule import RuleGroup, recorded_series


@dataclass(frozen=True)
class SeriesInfo:
    name: str
    prom_type: PromType
    labels: frozenset[str]
    grafana_unit: str
    histogram_unit: str | None = None
    """For (raw or recorded) histogram buckets: the unit of quantiles computed from them."""
    recorded: bool = False
    all_row: bool = False
    """A recording rule also writes its `tenant_id="__all__"` row: what `$tenant` at All selects."""

    @property
    def tenant_scoped(self) -> bool:
        return TENANT_LABEL in self.labels

    @property
    def cumulative(self) -> bool:
        """Counters and raw histogram series: only meaningful through rate()/increase()."""
        return self.prom_type in (PromType.COUNTER, PromType.HISTOGRAM)


def build_catalog(contract: TelemetryContract, groups: Sequence[RuleGroup] = ()) -> dict[str, SeriesInfo]:
    catalog: dict[str, SeriesInfo] = {}
    for signal in contract.metrics:
        for series in signal.series_names:
            bucket = series.endswith("_bucket")
            catalog[series] = SeriesInfo(
                name=series,
                prom_type=signal.prom_type,
                labels=frozenset(signal.series_labels(series)),
                grafana_unit=signal.grafana_unit
                if signal.prom_type is not PromType.HISTOGRAM or series.endswith("_sum")
                else "short",
                histogram_unit=signal.grafana_unit if bucket else None,
            )
    twinned = {
        rule.record
        for group in groups
        for rule in group.recording
        if rule.labels.get(TENANT_LABEL) == ALL_TENANTS
    }
    for name, rule in recorded_series(list(groups)).items():
        catalog[name] = SeriesInfo(
            name=name,
            prom_type=PromType.GAUGE,
            labels=rule.series_labels,
            grafana_unit=rule.grafana_unit,
            histogram_unit=rule.histogram_unit,
            recorded=True,
            all_row=name in twinned,
        )
    return catalog
