from dashboards_as_code.definitions.datasource import DatasourceRef, TracesToLogs
from dashboards_as_code.lint.checks.datasource_refs import CHECK
from datasources import DATASOURCES, JAEGER, LOKI
from tests.lint.builders import board, check, context, document, findings, panel


def test_real_definitions_pass() -> None:
    assert findings(CHECK, board(panel("a"))) == []


def test_unknown_uid_on_panel_and_query() -> None:
    result = findings(CHECK, board(panel("Orphan", datasource=DatasourceRef("prometheus", "prom-old"))))
    assert len(result) == 2  # the panel and its query A
    assert all(f.location.panel == "Orphan" and "'prom-old' is not provisioned" in f.message for f in result)
    assert any(f.message.startswith("query A:") for f in result)


def test_type_mismatch() -> None:
    result = findings(CHECK, board(panel("Wrong", datasource=DatasourceRef("prometheus", "loki"))))
    assert result and "is of type 'loki', not 'prometheus'" in result[0].message


def test_correlation_to_a_missing_datasource() -> None:
    options = JAEGER.json_data.model_copy(
        update={"traces_to_logs": TracesToLogs(datasource_uid="loki-old", query="{}")}
    )
    broken = JAEGER.model_copy(update={"json_data": options})
    (finding,) = findings(CHECK, datasources=[d for d in DATASOURCES if d is not JAEGER] + [broken])
    assert finding.location.datasource == "jaeger"
    assert "tracesToLogsV2 links to datasource uid 'loki-old'" in finding.message


def test_missing_target_datasource_of_a_removed_datasource() -> None:
    result = findings(CHECK, board(panel("a")), datasources=[LOKI, JAEGER])
    assert any("'prometheus' is not provisioned" in f.message for f in result)


def test_a_variable_on_a_datasource_that_is_not_provisioned() -> None:
    """A query variable runs on its own datasource: an unknown one leaves its dropdown empty, and every
    panel filtered by it with nothing to show."""
    definition = board(panel("a"))
    lint = context(definition)
    unknown = {"type": "prometheus", "uid": "prom-old"}
    variable = {"type": "query", "name": "env", "query": "label_values(env)", "datasource": unknown}
    document(lint, definition).setdefault("templating", {}).setdefault("list", []).append(variable)
    (finding,) = check(CHECK, lint)
    assert finding.message.startswith("variable $env: datasource uid 'prom-old' is not provisioned")


def test_a_query_on_its_own_datasource_is_checked_apart_from_its_panel() -> None:
    """A query may name its own datasource (Grafana's Mixed panels, or an edit of one target): a typo
    there leaves that query with no data while the panel's datasource is fine; the finding names the
    query, and the panel itself has none."""
    definition = board(panel("Mixed"))
    lint = context(definition)
    (target,) = [
        t for p in document(lint, definition)["panels"] if p.get("title") == "Mixed" for t in p["targets"]
    ]
    target["datasource"] = {"type": "prometheus", "uid": "promethues"}
    (finding,) = check(CHECK, lint)
    assert finding.location.panel == "Mixed"
    assert finding.message.startswith("query A: datasource uid 'promethues' is not provisioned")


def test_an_unknown_uid_is_named_with_every_uid_grafana_does_have() -> None:
    """The person fixing a typo reads the right uid in the message, from the datasources provisioned."""
    (finding, _) = findings(CHECK, board(panel("Typo", datasource=DatasourceRef("prometheus", "promethues"))))
    known = ", ".join(sorted(d.uid for d in DATASOURCES))
    assert finding.message == f"datasource uid 'promethues' is not provisioned (known: {known})"
    assert "prometheus" in known and "loki" in known


def test_a_variable_of_any_type_that_names_a_datasource_is_checked() -> None:
    """Not only query variables: an ad hoc filter reads its keys from its datasource, and one on a uid
    Grafana does not have offers nothing to filter on."""
    definition = board(panel("a"))
    lint = context(definition)
    variable = {"type": "adhoc", "name": "filters", "datasource": {"type": "prometheus", "uid": "prom-old"}}
    document(lint, definition).setdefault("templating", {}).setdefault("list", []).append(variable)
    (finding,) = check(CHECK, lint)
    assert finding.location.dashboard and finding.location.panel is None
    assert finding.message.startswith("variable $filters: datasource uid 'prom-old' is not provisioned")


def test_a_variable_whose_datasource_is_null_names_none_and_is_no_finding() -> None:
    """grafanalib writes `"datasource": null` for every variable made without one: a custom, constant,
    text box or interval variable, which reads no datasource at all (Grafana's classic model allows a
    null datasource, and such a variable never queries one). It names no datasource, so there is
    nothing to check; a finding would fail the build of a valid dashboard. A variable that does name
    one is still checked (test_a_variable_on_a_datasource_that_is_not_provisioned)."""
    definition = board(panel("a"))
    lint = context(definition)
    custom = {"type": "custom", "name": "colour", "query": "red,green", "datasource": None}
    document(lint, definition).setdefault("templating", {}).setdefault("list", []).append(custom)
    assert check(CHECK, lint) == []


def test_every_query_of_a_panel_is_checked_not_only_the_first() -> None:
    """A panel's second query may name its own datasource (a Mixed panel): a uid Grafana lacks leaves
    that query with no data although the first query and the panel are fine."""
    definition = board(panel("Mixed"))
    lint = context(definition)
    (mixed,) = [p for p in document(lint, definition)["panels"] if p.get("title") == "Mixed"]
    second = {**mixed["targets"][0], "refId": "B", "datasource": {"type": "loki", "uid": "loki-old"}}
    mixed["targets"].append(second)
    (finding,) = check(CHECK, lint)
    assert finding.location.panel == "Mixed"
    assert finding.message.startswith("query B: datasource uid 'loki-old' is not provisioned")
