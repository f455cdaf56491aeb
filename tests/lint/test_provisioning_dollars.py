from dashboards_as_code.definitions.datasource import DerivedField
from dashboards_as_code.lint.checks.provisioning_dollars import CHECK
from dashboards_as_code.render.formats import Output
from datasources import DATASOURCES, LOKI
from tests.lint.builders import check, context


def test_generated_files_pass(overview) -> None:  # type: ignore[no-untyped-def]
    assert check(CHECK, context(overview)) == []


def test_unescaped_dollar_in_a_rendered_file() -> None:
    lint = context()
    text = b"datasources:\n- jsonData:\n    derivedFields:\n    - url: ${__value.raw}\n"
    lint.outputs = [Output("provisioning/datasources/hand.yaml", text)]
    (finding,) = check(CHECK, lint)
    assert finding.location.file == "provisioning/datasources/hand.yaml"
    assert "datasources[0].jsonData.derivedFields[0].url" in finding.message
    assert "${__value.raw}" in finding.message


def test_malformed_reference() -> None:
    lint = context()
    lint.outputs = [Output("provisioning/x.yaml", b"query: 'a ${b'\n")]
    (finding,) = check(CHECK, lint)
    assert "malformed" in finding.message


def test_escaping_covers_every_model_value(overview) -> None:  # type: ignore[no-untyped-def]
    field = DerivedField(
        name="x", matcher_type="regex", matcher_regex="id=(\\w+)$", url="$HOME/${__value.raw}"
    )
    loki = LOKI.model_copy(
        update={"json_data": LOKI.json_data.model_copy(update={"derived_fields": [field]})}
    )
    assert (
        check(CHECK, context(overview, datasources=[d for d in DATASOURCES if d is not LOKI] + [loki])) == []
    )


def test_a_yml_provisioning_file_is_read_and_a_file_outside_provisioning_is_not() -> None:
    """Grafana reads `*.yaml` and `*.yml` from its provisioning directories and interpolates both; other
    outputs (the Prometheus rules, a README) are never interpolated by Grafana."""
    lint = context()
    text = b"datasources:\n- url: ${GF_URL}\n"
    lint.outputs = [Output("provisioning/datasources/hand.yml", text), Output("prometheus/rules.yml", text)]
    (finding,) = check(CHECK, lint)
    assert finding.location.file == "provisioning/datasources/hand.yml" and "${GF_URL}" in finding.message
