"""Any text a definition holds reaches Grafana as written, through every file and request that carries it.

Titles, descriptions, queries, legends and labels may hold unicode, quotes, `$`, `{}`, backslashes and
leading or trailing spaces. Two rules (shared/reference/grafana.md, trap 1):
- dashboard JSON is not interpolated: the file provisioning loads, the body push sends and the JSON
  pull prints carry each text exactly, with every `$` single;
- provisioning YAML is env-interpolated: each `$` is written `$$`, once, so that what Grafana stores
  after its expansion (`provisioning_escape.expand`) is the text itself.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboards_as_code import kinds
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.types import Folder
from dashboards_as_code.kinds.comparable import comparable_dashboard, mark_dashboard
from dashboards_as_code.kinds.dashboard import dashboard_document
from dashboards_as_code.panels.grafanalib_ext import QueryVariable
from dashboards_as_code.panels.style import Row, dashboard, prom, timeseries
from dashboards_as_code.queries import PromQL
from dashboards_as_code.render.documents import Documents, build_documents
from dashboards_as_code.render.formats import dump_json
from dashboards_as_code.render.provisioning_escape import expand
from datasources import PROMETHEUS
from tests.conftest import REPO

TEXT = st.lists(
    st.sampled_from([*"ab $${}\"'\\`.:=~", "é", "ß", "日本", "🚀", "\u00a0", "\t", "__value.raw", "${x}"]),
    min_size=1,
    max_size=12,
).map("".join)
"""A text with what breaks escaping: `$` (alone, doubled, before a name or a brace), quotes, a backslash,
non-ASCII, spaces at either end."""

FIELDS = (
    "title",
    "description",
    "row",
    "panel",
    "panel_description",
    "expr",
    "legend",
    "label",
    "query",
    "tag",
)


def fixture_dashboard(texts: dict[str, str]) -> dict[str, Any]:
    """A dashboard made with the engine's own helpers, each text in its field (`FIELDS`), rendered."""
    ref = PROMETHEUS.ref
    panel = timeseries(
        texts["panel"],
        description=texts["panel_description"],
        unit="short",
        datasource=ref,
        targets=[prom(PromQL(texts["expr"], ()), legend=texts["legend"])],
    )
    variable = QueryVariable(name="tenant", label=texts["label"], query=texts["query"], datasource=ref)
    definition = dashboard(
        uid="texts",
        title=texts["title"],
        folder=Folder(uid="texts", title="Texts"),
        description=texts["description"],
        rows=[Row(texts["row"], [panel])],
        variables=[variable],
        tags=[texts["tag"]],
    )
    return dashboard_document(definition)


def texts_in(document: dict[str, Any]) -> dict[str, Any]:
    """Each fixture text where the dashboard JSON carries it."""
    row, panel = document["panels"]
    (target,) = panel["targets"]
    (variable,) = document["templating"]["list"]
    return {
        "title": document["title"],
        "description": document["description"],
        "row": row["title"],
        "panel": panel["title"],
        "panel_description": panel["description"],
        "expr": target["expr"],
        "legend": target["legendFormat"],
        "label": variable["label"],
        "query": variable["query"]["query"],
        "definition": variable["definition"],
        "tags": document["tags"],
    }


def expected(texts: dict[str, str]) -> dict[str, Any]:
    return {
        **{name: texts[name] for name in FIELDS if name != "tag"},
        "definition": texts["query"],
        "tags": sorted({"dashboards-as-code", texts["tag"]}),
    }


@settings(max_examples=40, derandomize=True, deadline=None)
@given(texts=st.fixed_dictionaries(dict.fromkeys(FIELDS, TEXT)))
def test_every_text_reaches_the_dashboard_json_grafana_reads_as_written(texts: dict[str, str]) -> None:
    """Rendered, written to the provisioning file and loaded as Grafana loads it; sent by push (our
    markers added, read back by diff without them); printed by pull: each text is the one defined."""
    rendered = fixture_dashboard(texts)
    assert texts_in(rendered) == expected(texts)
    provisioned = json.loads(dump_json(rendered))
    assert texts_in(provisioned) == expected(texts)
    pushed = json.loads(json.dumps(mark_dashboard(comparable_dashboard(rendered), "project")))
    assert texts_in(comparable_dashboard(pushed)) == expected(texts)
    pulled = json.loads(dump_json(comparable_dashboard(pushed)))
    assert texts_in(pulled) == expected(texts)


@functools.cache
def _documents() -> Documents:
    return build_documents(load_project(REPO))


def provisioning_yaml(documents: Documents) -> Iterator[tuple[str, Any, Any]]:
    """Each provisioning YAML file `build` writes, as (kind, the kind's rendered document, the file
    loaded as YAML): every kind's outputs, so a kind that starts writing one is held too."""
    base = documents.project.config.provisioning_dir
    for kind in kinds.registry():
        for output in kind.outputs(documents):
            if output.path.startswith(f"{base}/") and output.path.endswith((".yaml", ".yml")):
                yield kind.name, documents.by_kind[kind.name], yaml.safe_load(output.content)


def expanded(node: Any) -> Any:
    """What Grafana stores for a loaded provisioning YAML document: every string value expanded."""
    if isinstance(node, str):
        return expand(node)
    if isinstance(node, dict):
        return {key: expanded(value) for key, value in node.items()}
    if isinstance(node, list):
        return [expanded(value) for value in node]
    return node


def string_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, str):
        yield path
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from string_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from string_paths(value, (*path, index))


def test_the_projects_provisioning_yaml_is_stored_by_grafana_as_defined() -> None:
    """Every string of every provisioning YAML file `build` writes (derived links with `${__value.raw}`,
    regexes ending in `$`), after Grafana's expansion, is the string of the document it came from."""
    held = []
    for name, document, loaded in provisioning_yaml(_documents()):
        assert expanded(loaded) == document, name
        held.append(name)
    assert {"datasource", "folder"} <= set(held)


def _yaml_kinds() -> list[str]:
    return sorted({name for name, _document, _loaded in provisioning_yaml(_documents())})


@settings(max_examples=40, derandomize=True, deadline=None)
@given(data=st.data())
def test_any_text_in_any_provisioning_yaml_string_is_stored_as_written(data: st.DataObject) -> None:
    """The same, with one string of a real provisioning document (a datasource's name or URL, a
    derived field's link, a folder's title...) replaced by any text."""
    name = data.draw(st.sampled_from(_yaml_kinds()))
    documents = _documents()
    document = copy.deepcopy(documents.by_kind[name])
    path = data.draw(st.sampled_from(list(string_paths(document))))
    text = data.draw(TEXT)
    node: Any = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = text
    changed = replace(documents, by_kind={**documents.by_kind, name: document})
    for kind, rendered, loaded in provisioning_yaml(changed):
        if kind == name:
            assert expanded(loaded) == rendered, (path, text)
