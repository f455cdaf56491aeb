from datasources import DATASOURCES, LOKI, PROMETHEUS
from engine.lint.checks.datasource_unique import CHECK
from tests.lint.builders import findings


def test_real_datasources_pass() -> None:
    assert findings(CHECK) == []


def test_duplicate_uid_and_second_default() -> None:
    clone = LOKI.model_copy(update={"name": "Loki 2", "is_default": True})
    result = findings(CHECK, datasources=[*DATASOURCES, clone])
    messages = [f.message for f in result]
    assert "uid 'loki' is used by more than one datasource" in messages
    assert any("more than one default datasource" in m and "prometheus" in m for m in messages)


def test_duplicate_name() -> None:
    clone = PROMETHEUS.model_copy(update={"uid": "prometheus-2", "is_default": False})
    (finding,) = findings(CHECK, datasources=[*DATASOURCES, clone])
    assert "name 'Prometheus'" in finding.message
