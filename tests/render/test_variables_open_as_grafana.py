"""Dashboard variables open where Grafana opens them: as rendered, and with any saved selection.

Grafana (11+, dashboards on grafana/scenes) decides the value a variable opens on in
`MultiValueVariable.getStateUpdateGivenNewOptions` (packages/scenes/src/variables/variants/
MultiValueVariable.ts), once the query has returned its options; a dashboard's `includeAll` becomes
both `includeAll` and `defaultToAll` there. `grafana_opens_on` below restates that function, and
every variable the engine renders (each dashboard's own, plus a QueryVariable of each shape: multi
on/off, All on/off, custom All value or none) is held to it, saved with 0, 1 or 2 values:
- no options: All where there is All, else nothing;
- a saved All (`$__all`, or a list starting with it): All if the variable has All, else the first option;
- multi: the saved values that are still options, in the saved order; none left: All if the variable
  has All, else the first option;
- single: the saved value if it is an option; else All if the variable has All, else the first option.
Doctor diagnoses one selection, so of several values it takes the first selected (as the picker
lists them), regex-escaped where Grafana escapes it (multi or All-able: the value lands in `=~`).

Not held here: a variable with All saved on one of its real values opens there in Grafana, while
`opening_value` reads every All-able variable as opening on All (its docstring says so). The engine
renders every All-able variable saved on All, so doctor never meets that case.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.grafana_math import opening_value, regex_escape
from dashboards_as_code.panels.grafanalib_ext import QueryVariable
from dashboards_as_code.render.documents import build_documents
from datasources import PROMETHEUS
from tests.conftest import REPO

ALL_VALUE = "$__all"
ALL_TEXT = "All"
VALUES = ["acme", "a+b", "globex"]
"""Values a variable's query may return: one needs regex escaping, as real tenant names may."""


def fixture_variables() -> list[dict[str, Any]]:
    """A query variable of every shape QueryVariable renders."""
    return [
        QueryVariable(
            name="tenant",
            label="Tenant",
            query="label_values(up, tenant)",
            datasource=PROMETHEUS.ref,
            multi=multi,
            include_all=include_all,
            all_value=all_value,
        ).to_json_data()
        for multi in (True, False)
        for include_all in (True, False)
        for all_value in (".*", "__all__", None)
    ]


@functools.cache
def rendered_variables() -> tuple[dict[str, Any], ...]:
    """Every variable of every rendered dashboard, then the fixture's."""
    documents = build_documents(load_project(REPO))
    own = [v for d in documents.dashboards for v in (d.document.get("templating") or {}).get("list", [])]
    assert own, "the project renders no variable: this test would hold nothing"
    return (*own, *fixture_variables())


def _is_all(value: Any) -> bool:
    """scenes' `hasAllValue`: the value is `$__all`, or a list whose first value is."""
    return value == ALL_VALUE or (isinstance(value, list) and bool(value) and value[0] == ALL_VALUE)


def grafana_state(variable: dict[str, Any], options: list[str]) -> str | list[str]:
    """The value Grafana opens `variable` on, given its query's `options` (scenes' rules, module doc)."""
    include_all, multi = bool(variable.get("includeAll")), bool(variable.get("multi"))
    saved = (variable.get("current") or {}).get("value")
    first: str | list[str] = [options[0]] if multi and options else (options[0] if options else "")
    if not options:
        return ALL_VALUE if include_all else ([] if multi else "")
    if _is_all(saved):
        return ALL_VALUE if include_all else first
    if multi:
        selected = saved if isinstance(saved, list) else [] if saved is None else [saved]
        valid = [value for value in selected if value in options]
        return valid or (ALL_VALUE if include_all else first)
    return saved if saved in options else (ALL_VALUE if include_all else first)


def grafana_opens_on(variable: dict[str, Any], options: list[str]) -> str:
    """What a query gets from that opening state, as doctor reads it: one value (the first selected)."""
    state = grafana_state(variable, options)
    if _is_all(state):
        return str(variable.get("allValue") or ".*")  # an empty custom All value is none (Grafana)
    chosen = state[0] if isinstance(state, list) and state else state if isinstance(state, str) else ""
    escaped = variable.get("multi") or variable.get("includeAll")
    return regex_escape(chosen) if chosen and escaped else chosen


@pytest.mark.parametrize(
    "variable", rendered_variables(), ids=lambda v: f"{v['name']}-{v['multi']}-{v['includeAll']}"
)
def test_a_rendered_variable_saves_what_grafana_opens_on(variable: dict[str, Any]) -> None:
    """As rendered (nothing chosen by a user yet): an All-able variable is saved on All, in the shape
    Grafana saves for its kind (a list for multi-value, a string for single), and one without All has
    no saved value, so Grafana opens it on the first value its query returns. No options are saved:
    the query fills them when the dashboard opens (refresh 1 or 2), so none can be stale."""
    assert variable["type"] == "query"
    assert variable["options"] == []
    assert variable["refresh"] in (1, 2)
    multi = bool(variable["multi"])
    if variable["includeAll"]:
        shaped = [ALL_VALUE] if multi else ALL_VALUE
        assert variable["current"] == {
            "selected": True,
            "text": [ALL_TEXT] if multi else ALL_TEXT,
            "value": shaped,
        }
        assert grafana_state(variable, VALUES) == ALL_VALUE or grafana_state(variable, VALUES) == [ALL_VALUE]
    else:
        assert "current" not in variable
        assert grafana_state(variable, VALUES) == ([VALUES[0]] if multi else VALUES[0])
    assert opening_value(variable, VALUES) == grafana_opens_on(variable, VALUES)


SAVED = st.sampled_from([*VALUES, "gone", ALL_VALUE])


@st.composite
def saved_current(draw: st.DrawFn, multi: bool) -> dict[str, Any] | None:
    """A `current` as Grafana saves it for a variable of this kind: 0, 1 or 2 values (a list for
    multi-value), or none at all (`null`, or no key)."""
    count = draw(st.integers(min_value=0, max_value=2 if multi else 1))
    values = draw(st.lists(SAVED, min_size=count, max_size=count, unique=True))
    if draw(st.booleans()) and not values:
        return None
    if multi:
        return {"selected": True, "text": values, "value": values}
    value = values[0] if values else ""
    return {"selected": True, "text": value, "value": value}


@settings(max_examples=300, derandomize=True, deadline=None)
@given(data=st.data())
def test_a_variable_with_any_saved_selection_opens_where_grafana_opens_it(data: st.DataObject) -> None:
    """Every rendered variable, saved with any selection, against any order and subset of the values
    its query returns: doctor's opening value is Grafana's (two saved values open on the first still
    there, a saved value gone opens on the default, a saved All without All on the first value)."""
    variable = dict(data.draw(st.sampled_from(rendered_variables())))
    current = data.draw(saved_current(bool(variable["multi"])))
    if current is None:
        variable.pop("current", None)
    else:
        variable["current"] = current
    options = data.draw(st.lists(st.sampled_from(VALUES), unique=True, max_size=len(VALUES)))
    state = grafana_state(variable, options)
    assume(not variable["includeAll"] or _is_all(state))  # the case this module does not hold (see above)
    assert opening_value(variable, options) == grafana_opens_on(variable, options), (
        variable.get("current"),
        options,
    )
