"""contract-names: declared Prometheus names are the Collector's, and names Prometheus accepts."""

import pytest

from dashboards_as_code.contract import model
from dashboards_as_code.contract.model import MetricSignal, TelemetryContract
from dashboards_as_code.lint.checks import contract_names
from dashboards_as_code.lint.checks.contract_names import CHECK
from telemetry.contract import CONTRACT, SOCKETIO_CONNECTIONS, WHATSAPP_MESSAGES_SENT
from tests.lint.builders import check, context


def test_the_contract_names_what_the_collector_exports() -> None:
    assert check(CHECK, context()) == []


def test_a_typo_in_a_prometheus_name_is_caught() -> None:
    typo = SOCKETIO_CONNECTIONS.model_copy(update={"prometheus_name": "tiktickets_socketio_connection"})
    metrics = tuple(typo if m.key == typo.key else m for m in CONTRACT.metrics)
    (finding,) = check(CHECK, context(contract=CONTRACT.model_copy(update={"metrics": metrics})))
    assert finding.location.file == "telemetry/contract.py"
    assert "'tiktickets_socketio_connection'" in finding.message
    assert "as 'tiktickets_socketio_connections'" in finding.message


def test_a_missing_total_on_a_counter_is_caught() -> None:
    bare = WHATSAPP_MESSAGES_SENT.model_copy(update={"prometheus_name": "tiktickets_whatsapp_messages_sent"})
    metrics = tuple(bare if m.key == bare.key else m for m in CONTRACT.metrics)
    (finding,) = check(CHECK, context(contract=CONTRACT.model_copy(update={"metrics": metrics})))
    assert "as 'tiktickets_whatsapp_messages_sent_total'" in finding.message


def _with(signal: MetricSignal) -> TelemetryContract:
    return CONTRACT.model_copy(
        update={"metrics": tuple(signal if m.key == signal.key else m for m in CONTRACT.metrics)}
    )


def test_a_dashed_otel_name_declared_as_the_collector_exports_it_passes() -> None:
    dashed = SOCKETIO_CONNECTIONS.model_copy(
        update={"otel_name": "my-app.socketio.connections", "prometheus_name": "my_app_socketio_connections"}
    )
    assert check(CHECK, context(contract=_with(dashed))) == []


@pytest.mark.parametrize(
    ("otel", "declared"),
    [("my-app.connections", "my-app_connections"), ("api/v2.connections", "api/v2_connections"),
     ("2fa.connections", "2fa_connections"), ("café.connections", "café_connections")],
)  # fmt: skip
def test_an_invalid_name_is_caught_even_when_the_derivation_agrees_with_it(
    monkeypatch: pytest.MonkeyPatch, otel: str, declared: str
) -> None:
    """`check` derives names with the engine's own function: if that function is wrong, the declared name
    agrees with it, so the name is also held to Prometheus' own syntax."""
    monkeypatch.setattr(contract_names, "prometheus_base_name", lambda name, *_: name.replace(".", "_"))
    signal = SOCKETIO_CONNECTIONS.model_copy(update={"otel_name": otel, "prometheus_name": declared})
    found = [f.message for f in check(CHECK, context(contract=_with(signal))) if signal.key in f.message]
    assert found == [
        f"signal {signal.key}: '{declared}' is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"
    ]


def test_an_invalid_label_is_caught_even_when_the_label_rule_produced_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(model, "prometheus_label", lambda attribute: attribute)
    signal = SOCKETIO_CONNECTIONS.model_copy(update={"attributes": ("tenant.id",)})
    found = [f.message for f in check(CHECK, context(contract=_with(signal))) if signal.key in f.message]
    assert found == [
        f"signal {signal.key}: label 'tenant.id' is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"
    ]
