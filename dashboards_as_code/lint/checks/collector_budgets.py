"""collector-budgets: the Collector's spanmetrics connectors that count per tenant keep to the contract's
budgets: no dimension the signal does not declare, the contract's cardinality limit, no stray exemplars.

A spanmetrics connector with a `tenant_id` dimension writes a series per tenant and per value of each
other dimension, and keeps at most `aggregation_cardinality_limit` of them per metric (0, the default:
no limit at all); every later one is folded into one `otel_metric_overflow="true"` series without
tenant_id, which hides those tenants from every panel. The contract budgets what a tenant may cost
(`tenant_budget`) and derives the limit its emitter needs (`cardinality_limit`), but only the
Collector's configuration (`collector_config_file` in config.py) decides what it does. For each
connector with a tenant_id dimension, and each metric it writes (`<namespace>.calls`, and
`<namespace>.duration` unless its histogram is disabled), named in Prometheus as the contract's
names are, it reports, naming the file, the connector and the signal:

- a metric no contract signal declares: it has no budget at all;
- a dimension the signal does not list in its `attributes`: its `dimensions` and the connector's own
  defaults not in `exclude_dimensions` (service.name, span.name, span.kind, status.code, and
  collector.instance.id, default since v0.136.0); each value multiplies every tenant's series;
- no `aggregation_cardinality_limit`, or one below the contract's;
- exemplars enabled on a signal that declares no `exemplar_labels` (they would crowd the latency
  exemplars out of Prometheus' one exemplar buffer).

A value written `${env:NAME:-default}` is read as its default, which is what the compose stack runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dashboards_as_code.contract.model import (
    ContractError,
    Instrument,
    MetricSignal,
    TelemetryContract,
    prometheus_base_name,
    prometheus_label,
)
from dashboards_as_code.defaults import TENANT_LABEL
from dashboards_as_code.errors import Location
from dashboards_as_code.lint import Check, Finding, LintContext

ID = "collector-budgets"

CONNECTOR_TYPES = frozenset({"spanmetrics", "span_metrics"})
"""The connector's type before v0.161.0 and since (the old name is a deprecated alias)."""
DEFAULT_NAMESPACE = "traces.span.metrics"
DEFAULT_DIMENSIONS = ("service.name", "span.name", "span.kind", "status.code", "collector.instance.id")
"""Every series gets these unless excluded; collector.instance.id through a feature gate that is on by
default since v0.136.0 (`connector.spanmetrics.includeCollectorInstanceID`, beta)."""
DEFAULT_HISTOGRAM_UNIT = "ms"
"""Seconds only with the alpha gate `connector.spanmetrics.useSecondAsDefaultMetricsUnit`."""
_ENV = re.compile(r"\$\{(?:env:)?[A-Za-z_][A-Za-z0-9_]*(?::-(?P<default>[^}]*))?\}")


class UnreadableConfigError(ValueError):
    """A part of the configuration this check cannot read: one line, naming the place."""


@dataclass(frozen=True)
class Written:
    """One metric a connector writes: its OTel name and unit, and the attributes of its series."""

    otel_name: str
    unit: str
    instrument: Instrument
    dimensions: tuple[str, ...]
    globs: tuple[str, ...]

    @property
    def prometheus_name(self) -> str:
        try:
            return prometheus_base_name(self.otel_name, self.unit, self.instrument)
        except ContractError as error:
            raise UnreadableConfigError(str(error)) from None


def _value(raw: Any) -> Any:
    """`${env:NAME:-default}` as its default; a reference without one as None; anything else as is."""
    if isinstance(raw, str) and (match := _ENV.fullmatch(raw.strip())):
        return match.group("default")
    return raw


def _mapping(raw: Any, where: str) -> dict[str, Any]:
    value = _value(raw)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UnreadableConfigError(f"{where} is {type(value).__name__}, not a mapping")
    return value


def _flag(raw: Any) -> bool:
    value = _value(raw)
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _limit(raw: Any, where: str) -> int:
    """`aggregation_cardinality_limit` as a number; absent or 0 is the connector's default: no limit."""
    value = _value(raw)
    if value is None:
        return 0
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise UnreadableConfigError(f"{where}: aggregation_cardinality_limit {value!r} is not a whole number")


def _dimensions(raw: Any, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(names, globs) of a `dimensions` list: each entry has a `name` (with an optional default) or a
    `glob` that adds every span attribute it matches."""
    entries = _value(raw) or []
    if not isinstance(entries, list):
        raise UnreadableConfigError(f"{where} is {type(entries).__name__}, not a list")
    names: list[str] = []
    globs: list[str] = []
    for entry in entries:
        if not isinstance(entry, dict) or not (entry.get("name") or entry.get("glob")):
            raise UnreadableConfigError(f"{where}: {entry!r} has neither a name nor a glob")
        if entry.get("name"):
            names.append(str(entry["name"]))
        else:
            globs.append(str(entry["glob"]))
    return tuple(names), tuple(globs)


def _written(name: str, config: dict[str, Any]) -> list[Written]:
    """The metrics connector `name` writes per tenant, or none if it has no tenant_id dimension."""
    where = f"connector {name}"
    names, globs = _dimensions(config.get("dimensions"), f"{where}: dimensions")
    calls, call_globs = _dimensions(config.get("calls_dimensions"), f"{where}: calls_dimensions")
    if TENANT_LABEL not in {prometheus_label(d) for d in (*names, *calls)}:
        return []
    excluded = _value(config.get("exclude_dimensions")) or []
    if not isinstance(excluded, list):
        raise UnreadableConfigError(f"{where}: exclude_dimensions is {type(excluded).__name__}, not a list")
    common = tuple(d for d in DEFAULT_DIMENSIONS if d not in excluded) + names
    namespace = str(_value(config.get("namespace")) or DEFAULT_NAMESPACE)
    written = [Written(f"{namespace}.calls", "", Instrument.COUNTER, common + calls, globs + call_globs)]
    histogram = _mapping(config.get("histogram"), f"{where}: histogram")
    if not _flag(histogram.get("disable")):
        unit = str(_value(histogram.get("unit")) or DEFAULT_HISTOGRAM_UNIT)
        written.append(Written(f"{namespace}.duration", unit, Instrument.HISTOGRAM, common, globs))
    return written


def _signal(contract: TelemetryContract, prometheus_name: str) -> MetricSignal | None:
    return next((s for s in contract.metrics if s.prometheus_name == prometheus_name), None)


def problems(contract: TelemetryContract, name: str, config: dict[str, Any]) -> Iterator[str]:
    """What connector `name` (its configuration `config`) does that the contract's budgets do not allow."""
    where = f"connector {name}"
    written = _written(name, config)
    if not written:
        return
    limit = _limit(config.get("aggregation_cardinality_limit"), where)
    exemplars = _flag(_mapping(config.get("exemplars"), f"{where}: exemplars").get("enabled"))
    for metric in written:
        series = metric.prometheus_name
        signal = _signal(contract, series)
        if signal is None:
            yield (
                f"{where} writes `{series}` per tenant, but no contract signal declares it, so it has no "
                "tenant budget: declare it in the contract with its tenant_budget, or stop the connector "
                "writing it (drop the tenant_id dimension, or disable its histogram)"
            )
            continue
        about = f"{where}, signal {signal.key} (`{series}`)"
        undeclared = [d for d in metric.dimensions if d not in signal.attributes]
        if undeclared:
            yield (
                f"{about}: dimension(s) {', '.join(f'`{d}`' for d in undeclared)} are not among the "
                f"signal's attributes ({', '.join(signal.attributes)}): each value multiplies every "
                "tenant's series past its budget; exclude them (`exclude_dimensions`) or declare them "
                "in the contract with a budget that counts them"
            )
        if metric.globs:
            yield (
                f"{about}: dimension glob(s) {', '.join(f'`{g}`' for g in metric.globs)} add every span "
                "attribute they match, which no budget can count: name each dimension instead"
            )
        if signal.tenant_budget is not None:
            needed = contract.cardinality_limit(signal)
            if limit == 0:
                yield (
                    f"{about}: no aggregation_cardinality_limit, so the connector keeps every tenant's "
                    f"series without bound; set aggregation_cardinality_limit: {needed}, the contract's "
                    "limit for this signal"
                )
            elif limit < needed:
                yield (
                    f"{about}: aggregation_cardinality_limit {limit} is below the contract's {needed}: "
                    "the tenants past it are folded into one otel_metric_overflow series and vanish "
                    f"from the dashboards; set it to {needed}"
                )
        if exemplars and not signal.exemplar_labels:
            yield (
                f"{about}: exemplars are enabled, but the signal declares no exemplar_labels: no panel "
                "reads them, and they crowd the latency exemplars out of Prometheus' exemplar buffer; "
                "set exemplars.enabled: false"
            )


def spanmetrics_connectors(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, configuration) of every spanmetrics connector in a Collector configuration."""
    if not isinstance(document, dict):
        raise UnreadableConfigError(f"the configuration is {type(document).__name__}, not a mapping")
    for name, config in _mapping(document.get("connectors"), "connectors").items():
        if str(name).split("/")[0] in CONNECTOR_TYPES:
            yield str(name), _mapping(config, f"connector {name}")


def run(context: LintContext) -> Iterator[Finding]:
    relative = context.project.config.collector_config_file
    if relative is None:
        return
    location = Location(file=relative)
    try:
        text = (Path(context.project.root) / relative).read_text(encoding="utf-8")
    except OSError as error:  # a copy of the definitions without the stack: nothing to compare with
        message = f"cannot read {relative} ({error.strerror}): the Collector is not held to the budgets"
        yield Finding(location, ID, message, "warning")
        return
    except UnicodeDecodeError as error:
        yield Finding(location, ID, f"{relative} is not UTF-8 text ({error.reason} at byte {error.start})")
        return
    try:
        for name, config in spanmetrics_connectors(yaml.safe_load(text)):
            yield from (
                Finding(location, ID, message) for message in problems(context.project.contract, name, config)
            )
    except yaml.YAMLError as error:
        yield Finding(location, ID, f"{relative} is not YAML: {' '.join(str(error).split())}")
    except UnreadableConfigError as problem:
        yield Finding(location, ID, f"cannot check {relative}: {problem}")


CHECK = Check(ID, __doc__ or "", run)
