"""Which values of a dashboard variable `doctor` tries, for the forms a variable takes in Grafana's JSON.

The Overview's `$tenant` is a query variable with All, stored as an object; these tests change its
form and judge by what reaches Prometheus: a tenant is "tried" when some query selects it alone.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render.documents import Documents, build_documents
from tests.conftest import REPO
from tests.doctor.hostile_sources import Reply, success
from tests.doctor.test_what_doctor_asks import (
    TENANTS,
    _one_tenant_panel,
    _queries_sent,
    _tenant_regexes,
    _with_board,
)

VALUES = "/api/v1/label/tenant_id/values"


@pytest.fixture(scope="module")
def documents() -> Documents:
    return build_documents(load_project(REPO))


def _tried(sent: list[str], tenants: list[str]) -> list[str]:
    """The tenants some query sent selects, through a `tenant_id=~` matcher other than `.*`."""
    regexes = {value for q in sent if "tenant_id" in q for value in _tenant_regexes(q)} - {".*"}
    return [t for t in tenants if any(re.fullmatch(r, t) for r in regexes)]


def _alone(sent: list[str], tenant: str, others: list[str]) -> bool:
    """Some query selects `tenant` and none of `others` with one matcher."""
    regexes = {value for q in sent if "tenant_id" in q for value in _tenant_regexes(q)} - {".*"}
    return any(re.fullmatch(r, tenant) and not any(re.fullmatch(r, o) for o in others) for r in regexes)


def test_a_variable_query_stored_as_a_plain_string_is_sampled_too(documents: Documents) -> None:
    """Dashboards saved by older Grafana (and many hand-written ones) store the variable's query as a
    string, not as an object: Grafana still runs it, so doctor must sample its values the same way."""
    real = ["tenant-a", "tenant-b"]

    def string_query(document: dict[str, Any]) -> None:
        _one_tenant_panel(document)
        [variable] = document["templating"]["list"]
        variable["query"] = variable["query"]["query"]
        assert isinstance(variable["query"], str) and variable["query"].startswith("label_values(")

    sent = _queries_sent(_with_board(documents, string_query), {VALUES: Reply(success(real))}, samples=2)
    assert _tried(sent, real) == real, sent


def test_a_multi_value_variable_without_all_escapes_each_sampled_value(documents: Documents) -> None:
    """Grafana regex-escapes the values of a multi-value variable, All or not (they land in `=~`):
    each sampled tenant must reach Prometheus as a regex that selects that tenant and no other."""

    def multi_without_all(document: dict[str, Any]) -> None:
        _one_tenant_panel(document)
        [variable] = document["templating"]["list"]
        variable.update(multi=True, includeAll=False)
        variable.pop("current", None)

    # The first value is the one the dashboard opens on; each of the others is one sample: the opening
    # value, already tried, must not take a sample's place (as an escaped and an unescaped copy).
    answers = {VALUES: Reply(success(TENANTS))}
    sent = _queries_sent(_with_board(documents, multi_without_all), answers, samples=len(TENANTS) - 1)
    near = ["acme.io eu", "ab", "abc", "xx[1]", "backslash"]
    for tenant in sorted(TENANTS):
        others = [t for t in [*TENANTS, *near] if t != tenant]
        assert _alone(sent, tenant, others), (tenant, sorted(sent))


def test_a_multi_value_variable_saved_with_nothing_selected_is_diagnosed_at_its_first_value(
    documents: Documents,
) -> None:
    """A dashboard saved with `$tenant`'s selection cleared (`current.value: []`) opens, in Grafana, on
    the first tenant: doctor must diagnose it there too (and not stop with a traceback on the empty list)."""

    def nothing_selected(document: dict[str, Any]) -> None:
        _one_tenant_panel(document)
        [variable] = document["templating"]["list"]
        variable.update(multi=True, includeAll=False, current={"text": [], "value": []})

    answers = {VALUES: Reply(success(TENANTS))}
    sent = _queries_sent(_with_board(documents, nothing_selected), answers, samples=0)
    assert _tried(sent, sorted(TENANTS)) == [sorted(TENANTS)[0]], sent


def test_a_custom_variable_sends_each_options_value_not_its_label(documents: Documents) -> None:
    """A custom variable's options have a label shown in the picker (`text`) and a `value` sent in the
    query: Grafana sends the value, so the tenant tried is `acme`, never "Acme Corp"."""
    options = [("All", "__all__"), ("Acme Corp", "acme"), ("Globex Inc", "globex")]

    def custom(document: dict[str, Any]) -> None:
        _one_tenant_panel(document)
        [variable] = document["templating"]["list"]
        variable.update(
            type="custom",
            query=",".join(f"{text} : {value}" for text, value in options[1:]),
            options=[{"text": text, "value": value, "selected": False} for text, value in options],
        )

    sent = _queries_sent(_with_board(documents, custom), samples=len(options))
    assert _tried(sent, ["acme", "globex"]) == ["acme", "globex"], sent
    assert not _tried(sent, ["Acme Corp", "Globex Inc"]), sent
