from datasources import DATASOURCES, LOKI
from machinery.datasource_model import DerivedField
from machinery.lint.rules.provisioning_dollars import RULE
from machinery.render import Output
from tests.lint.builders import check, context


def test_generated_files_pass(overview) -> None:  # type: ignore[no-untyped-def]
    assert check(RULE, context(overview)) == []


def test_unescaped_dollar_in_a_rendered_file() -> None:
    lint = context()
    text = b"datasources:\n- jsonData:\n    derivedFields:\n    - url: ${__value.raw}\n"
    lint.__dict__["outputs"] = [Output("provisioning/datasources/hand.yaml", text)]
    (finding,) = check(RULE, lint)
    assert finding.location.file == "provisioning/datasources/hand.yaml"
    assert "datasources[0].jsonData.derivedFields[0].url" in finding.message
    assert "${__value.raw}" in finding.message


def test_malformed_reference() -> None:
    lint = context()
    lint.__dict__["outputs"] = [Output("provisioning/x.yaml", b"query: 'a ${b'\n")]
    (finding,) = check(RULE, lint)
    assert "malformed" in finding.message


def test_escaping_covers_every_model_value(overview) -> None:  # type: ignore[no-untyped-def]
    field = DerivedField(
        name="x", matcher_type="regex", matcher_regex="id=(\\w+)$", url="$HOME/${__value.raw}"
    )
    loki = LOKI.model_copy(
        update={"json_data": LOKI.json_data.model_copy(update={"derived_fields": [field]})}
    )
    assert (
        check(RULE, context(overview, datasources=[d for d in DATASOURCES if d is not LOKI] + [loki])) == []
    )
