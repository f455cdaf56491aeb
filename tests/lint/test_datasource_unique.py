from dashboards_as_code.definitions.datasource import Datasource
from dashboards_as_code.lint.checks.datasource_unique import CHECK
from datasources import DATASOURCES, LOKI, PROMETHEUS
from tests.lint.builders import findings


def test_real_datasources_pass() -> None:
    assert findings(CHECK) == []


def test_duplicate_uid_and_second_default() -> None:
    clone = LOKI.model_copy(update={"name": "Loki 2", "is_default": True})
    result = findings(CHECK, datasources=[*DATASOURCES, clone])
    messages = [f.message for f in result]
    assert "uid 'loki' is also the uid of datasource 'loki' (datasources/)" in messages
    assert any("more than one default datasource" in m and "prometheus" in m for m in messages)


def test_duplicate_name() -> None:
    clone = PROMETHEUS.model_copy(update={"uid": "prometheus-2", "is_default": False})
    (finding,) = findings(CHECK, datasources=[*DATASOURCES, clone])
    assert "name 'Prometheus' is also the name of datasource 'prometheus'" in finding.message
    assert finding.location.datasource == "prometheus-2"


def test_uids_that_differ_only_in_case_collide() -> None:
    clone = LOKI.model_copy(update={"uid": "Loki", "name": "Loki logs"})
    (finding,) = findings(CHECK, datasources=[*DATASOURCES, clone])
    assert finding.location.datasource == "Loki"
    assert "uid 'Loki' and the uid 'loki' of datasource 'loki'" in finding.message
    assert "differ only in case" in finding.message


def test_names_that_differ_only_in_case_collide() -> None:
    clone = PROMETHEUS.model_copy(update={"uid": "prometheus-2", "name": "PROMETHEUS", "is_default": False})
    (finding,) = findings(CHECK, datasources=[*DATASOURCES, clone])
    assert "name 'PROMETHEUS' and the name 'Prometheus' of datasource 'prometheus'" in finding.message


def _second_prometheus(name: str) -> Datasource:
    """Another Prometheus datasource named `name`, built as a definition is (its validators run)."""
    return Datasource.model_validate(
        {**PROMETHEUS.model_dump(), "uid": "prometheus-2", "name": name, "is_default": False}
    )


def test_names_that_differ_only_by_a_trailing_space_collide() -> None:
    """Grafana's `data_source.name` index uses a PAD SPACE collation (utf8mb4_unicode_ci on MySQL):
    `Prometheus ` and `Prometheus` are one name there, so the second push fails on the unique index.
    The check must refuse the pair before that, as it refuses names that differ only in case.
    (A uid cannot end in a space at all: Grafana's uid rule allows letters, digits, '-' and '_'.)"""
    found = findings(CHECK, datasources=[*DATASOURCES, _second_prometheus("Prometheus ")])
    assert [f.location.datasource for f in found] == ["prometheus-2"], "the pair is refused"
    assert "name 'Prometheus ' and the name 'Prometheus' of datasource 'prometheus'" in found[0].message
