"""datasource-refs: every datasource a panel, query or variable names is provisioned, with that type.

A reference to a uid Grafana does not have shows "Datasource ... was not found" on the panel.
"""

from collections.abc import Iterator
from typing import Any

from dashboards_as_code.errors import Location
from dashboards_as_code.lint import Check, Finding, LintContext, where

ID = "datasource-refs"


def _problem(ref: Any, types: dict[str, str]) -> str | None:
    if not isinstance(ref, dict):
        return f"datasource {ref!r} is not a {{type, uid}} reference"
    uid, kind = ref.get("uid"), ref.get("type")
    if uid not in types:
        return f"datasource uid {uid!r} is not provisioned (known: {', '.join(sorted(types))})"
    if kind != types[uid]:
        return f"datasource {uid!r} is of type {types[uid]!r}, not {kind!r}"
    return None


def run(context: LintContext) -> Iterator[Finding]:
    types = {d.uid: d.type for d in context.project.datasources}
    for board, panel in context.panels():
        if panel.get("type") == "row":
            continue
        problem = _problem(panel.get("datasource"), types)
        if problem:
            yield Finding(where(board, panel), ID, problem)
        for target in panel.get("targets", []):
            problem = _problem(target.get("datasource"), types)
            if problem:
                yield Finding(where(board, panel), ID, f"query {target.get('refId')}: {problem}")
    for board in context.dashboards:
        for variable in board.document.get("templating", {}).get("list", []):
            if variable.get("datasource") is not None:  # null: a variable that reads no datasource
                problem = _problem(variable["datasource"], types)
                if problem:
                    yield Finding(where(board), ID, f"variable ${variable.get('name')}: {problem}")
    for datasource in context.project.datasources:
        for field, uid in datasource.links():
            if uid not in types:
                yield Finding(
                    Location(file=context.project.source_of(datasource), datasource=datasource.uid),
                    ID,
                    f"{field} links to datasource uid {uid!r}, which is not provisioned",
                )


CHECK = Check(ID, __doc__ or "", run)
