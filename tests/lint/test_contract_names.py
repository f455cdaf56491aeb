from engine.lint.checks.contract_names import CHECK
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
