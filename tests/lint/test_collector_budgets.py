"""collector-budgets: a spanmetrics connector that counts per tenant writes only what the contract budgets.

Fixture configurations are written per test from the contract's tenant request counter, so a changed
budget or signal moves the fixtures with it. The connector's defaults are stated here as the
spanmetrics connector documents them (v0.161.0), not read from the check.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import CONFIG
from dashboards_as_code.contract.model import (
    Instrument,
    MetricSignal,
    TelemetryContract,
    prometheus_base_name,
)
from dashboards_as_code.lint import Finding, LintContext
from dashboards_as_code.lint.checks.collector_budgets import CHECK
from telemetry.contract import CONTRACT, TENANT_SPAN_CALLS
from tests.conftest import REPO
from tests.lint.builders import check, context

CONFIG_FILE = "otelcol.yaml"
CONNECTOR = "span_metrics/tenant"
CONNECTOR_DEFAULTS = ("service.name", "span.name", "span.kind", "status.code", "collector.instance.id")
"""The dimensions every spanmetrics series gets unless excluded (collector.instance.id: since v0.136.0)."""
SIGNAL = TENANT_SPAN_CALLS
NAMESPACE = SIGNAL.otel_name.removesuffix(".calls")
"""The connector writes `<namespace>.calls`: the namespace that names this signal's series."""
LIMIT = CONTRACT.cardinality_limit(SIGNAL)


def tenant_connector(**changes: Any) -> dict[str, Any]:
    """A connector that writes exactly the contract's tenant request counter, then `changes`."""
    declared = [a for a in SIGNAL.attributes if a not in CONNECTOR_DEFAULTS]
    connector: dict[str, Any] = {
        "namespace": NAMESPACE,
        "histogram": {"disable": True},
        "dimensions": [{"name": name, "default": "unknown"} for name in declared],
        "exemplars": {"enabled": False},
        "exclude_dimensions": [d for d in CONNECTOR_DEFAULTS if d not in SIGNAL.attributes],
        "aggregation_cardinality_limit": LIMIT,
    }
    return {**connector, **changes}


def collector(*connectors: tuple[str, dict[str, Any]]) -> str:
    return yaml.safe_dump({"connectors": dict(connectors), "service": {"pipelines": {}}}, sort_keys=False)


@cache
def _base() -> LintContext:
    return context()


def run_check(
    root: Path, text: str | None, *, contract: TelemetryContract = CONTRACT, setting: str | None = CONFIG_FILE
) -> list[Finding]:
    """The check on a project whose Collector configuration (at `setting`, under `root`) is `text`."""
    if text is not None and setting is not None:
        (root / setting).write_text(text)
    base = _base()
    project = dataclasses.replace(
        base.project,
        root=root,
        contract=contract,
        config=CONFIG.model_copy(update={"collector_config_file": setting}),
    )
    return check(CHECK, LintContext(dataclasses.replace(base.documents, project=project), base.outputs))


def messages(root: Path, *connectors: tuple[str, dict[str, Any]], **options: Any) -> list[str]:
    found = run_check(root, collector(*connectors), **options)
    assert all(f.location.file == CONFIG_FILE and f.severity == "error" for f in found), found
    return [f.message for f in found]


def test_the_projects_own_collector_keeps_to_the_budgets() -> None:
    assert CONFIG.collector_config_file is not None
    assert check(CHECK, context()) == []


def test_the_projects_own_collector_is_read(tmp_path: Path) -> None:
    """Not an empty pass: the project's file with the tenant connector's limit one short is caught."""
    assert CONFIG.collector_config_file is not None
    document = yaml.safe_load((REPO / CONFIG.collector_config_file).read_text())
    [tenant] = [c for c in document["connectors"].values() if c and c.get("namespace") == NAMESPACE]
    tenant["aggregation_cardinality_limit"] = LIMIT - 1
    [message] = [f.message for f in run_check(tmp_path, yaml.safe_dump(document))]
    assert f"aggregation_cardinality_limit {LIMIT - 1} is below the contract's {LIMIT}" in message


def test_a_connector_as_the_contract_budgets_it_passes(tmp_path: Path) -> None:
    assert messages(tmp_path, (CONNECTOR, tenant_connector())) == []
    # Above the contract's limit is more room, not a fault.
    assert messages(tmp_path, (CONNECTOR, tenant_connector(aggregation_cardinality_limit=LIMIT + 1))) == []


def test_a_finding_names_the_file_the_connector_and_the_signal(tmp_path: Path) -> None:
    [finding] = run_check(tmp_path, collector((CONNECTOR, tenant_connector(aggregation_cardinality_limit=1))))
    assert str(finding).startswith(f"{CONFIG_FILE}: connector {CONNECTOR}, signal {SIGNAL.key} ")
    assert f"(`{SIGNAL.prometheus_name}`)" in finding.message


def test_a_dimension_the_signal_does_not_declare_is_caught(tmp_path: Path) -> None:
    connector = tenant_connector()
    connector["dimensions"] = [*connector["dimensions"], {"name": "http.route"}]
    [message] = messages(tmp_path, (CONNECTOR, connector))
    assert "dimension(s) `http.route` are not among the signal's attributes" in message


@pytest.mark.parametrize("default", [d for d in CONNECTOR_DEFAULTS if d not in SIGNAL.attributes])
def test_a_default_dimension_left_in_is_caught(tmp_path: Path, default: str) -> None:
    """span.name (one series per span name) and collector.instance.id (new series at every Collector
    start) come with every series unless `exclude_dimensions` names them."""
    connector = tenant_connector()
    connector["exclude_dimensions"] = [d for d in connector["exclude_dimensions"] if d != default]
    [message] = messages(tmp_path, (CONNECTOR, connector))
    assert f"dimension(s) `{default}` are not among" in message


def test_a_glob_dimension_is_caught(tmp_path: Path) -> None:
    connector = tenant_connector()
    connector["dimensions"] = [*connector["dimensions"], {"glob": "http.*"}]
    [message] = messages(tmp_path, (CONNECTOR, connector))
    assert "dimension glob(s) `http.*`" in message


def test_no_cardinality_limit_is_caught_with_the_contracts(tmp_path: Path) -> None:
    connector = tenant_connector()
    del connector["aggregation_cardinality_limit"]
    [message] = messages(tmp_path, (CONNECTOR, connector))
    assert (
        "no aggregation_cardinality_limit" in message and f"aggregation_cardinality_limit: {LIMIT}" in message
    )
    # 0 is the connector's own way of saying no limit.
    zero = messages(tmp_path, (CONNECTOR, tenant_connector(aggregation_cardinality_limit=0)))
    assert zero == [message]


def test_a_limit_below_the_contracts_is_caught(tmp_path: Path) -> None:
    [message] = messages(tmp_path, (CONNECTOR, tenant_connector(aggregation_cardinality_limit=LIMIT - 1)))
    assert f"aggregation_cardinality_limit {LIMIT - 1} is below the contract's {LIMIT}" in message


def test_a_limit_from_the_environment_is_read_at_its_default(tmp_path: Path) -> None:
    connector = tenant_connector(aggregation_cardinality_limit="${env:TENANT_LIMIT:-2000}")
    [message] = messages(tmp_path, (CONNECTOR, connector))
    assert f"aggregation_cardinality_limit 2000 is below the contract's {LIMIT}" in message


def test_exemplars_on_a_signal_without_exemplar_labels_are_caught(tmp_path: Path) -> None:
    assert not SIGNAL.exemplar_labels
    [message] = messages(tmp_path, (CONNECTOR, tenant_connector(exemplars={"enabled": True})))
    assert "exemplars are enabled, but the signal declares no exemplar_labels" in message


def test_exemplars_on_a_signal_that_declares_them_pass(tmp_path: Path) -> None:
    with_exemplars = SIGNAL.model_copy(update={"exemplar_labels": ("trace_id", "span_id")})
    assert (
        messages(
            tmp_path,
            (CONNECTOR, tenant_connector(exemplars={"enabled": True})),
            contract=_with(with_exemplars),
        )
        == []
    )


@pytest.mark.parametrize(("unit", "word"), [(None, "milliseconds"), ("s", "seconds")])
def test_a_tenant_histogram_without_a_signal_is_caught(tmp_path: Path, unit: str | None, word: str) -> None:
    """The connector's duration histogram is in milliseconds unless `histogram.unit: s`."""
    histogram = {"unit": unit} if unit else {}
    [message] = messages(tmp_path, (CONNECTOR, tenant_connector(histogram=histogram)))
    series = prometheus_base_name(
        f"{NAMESPACE}.duration", {"milliseconds": "ms", "seconds": "s"}[word], Instrument.HISTOGRAM
    )
    assert series.endswith(f"_duration_{word}")
    assert (
        f"connector {CONNECTOR} writes `{series}` per tenant, but no contract signal declares it" in message
    )


def test_a_tenant_connector_whose_namespace_names_no_signal_is_caught(tmp_path: Path) -> None:
    [message] = messages(tmp_path, (CONNECTOR, tenant_connector(namespace="billing.span.metrics")))
    assert (
        "writes `billing_span_metrics_calls_total` per tenant, but no contract signal declares it" in message
    )


def test_a_connector_without_tenant_id_is_not_held_to_a_tenant_budget(tmp_path: Path) -> None:
    """The route-level connector: its own dimensions, exemplars on, no limit, no tenant_id."""
    routes = {"dimensions": [{"name": "http.route"}], "exemplars": {"enabled": True}}
    assert messages(tmp_path, ("span_metrics", routes), (CONNECTOR, tenant_connector())) == []


def test_the_connectors_old_type_name_is_checked_too(tmp_path: Path) -> None:
    [message] = messages(tmp_path, ("spanmetrics/tenant", tenant_connector(aggregation_cardinality_limit=1)))
    assert message.startswith("connector spanmetrics/tenant, signal")


def test_no_setting_means_no_check(tmp_path: Path) -> None:
    assert run_check(tmp_path, None, setting=None) == []


def test_a_missing_file_is_a_warning_naming_it(tmp_path: Path) -> None:
    [finding] = run_check(tmp_path, None, setting="absent.yaml")
    assert finding.severity == "warning" and finding.location.file == "absent.yaml"
    assert finding.message.startswith("cannot read absent.yaml (No such file or directory)")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("connectors: [unclosed\n", "otelcol.yaml is not YAML: "),
        ("- a list\n", "cannot check otelcol.yaml: the configuration is list, not a mapping"),
        (
            f"connectors:\n  {CONNECTOR}:\n    dimensions: tenant_id\n",
            f"cannot check otelcol.yaml: connector {CONNECTOR}: dimensions is str, not a list",
        ),
        (
            f"connectors:\n  {CONNECTOR}:\n    dimensions: [{{name: tenant_id}}]\n"
            "    aggregation_cardinality_limit: lots\n",
            f"cannot check otelcol.yaml: connector {CONNECTOR}: aggregation_cardinality_limit 'lots' is not",
        ),
    ],
    ids=["not-yaml", "not-a-mapping", "dimensions-not-a-list", "limit-not-a-number"],
)
def test_a_configuration_it_cannot_read_is_one_line_naming_the_file(
    tmp_path: Path, text: str, says: str
) -> None:
    [finding] = run_check(tmp_path, text)
    assert finding.severity == "error" and finding.message.startswith(says), finding.message
    assert "\n" not in finding.message


def _with(signal: MetricSignal) -> TelemetryContract:
    return CONTRACT.model_copy(
        update={"metrics": tuple(signal if m.key == signal.key else m for m in CONTRACT.metrics)}
    )


def test_the_collector_file_is_a_plain_path_inside_the_project() -> None:
    with pytest.raises(ValueError, match="plain relative path inside the project"):
        CONFIG.model_validate({**CONFIG.model_dump(), "collector_config_file": "../otelcol.yaml"})
