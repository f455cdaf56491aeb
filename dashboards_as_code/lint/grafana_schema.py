"""Grafana's published dashboard and panel types (`@grafana/schema`), checked with TypeScript through
Node (`tools/grafana-schema/check.js`).

Each dashboard is checked as a whole against the `Dashboard` type, then each panel's `options` against
its plugin's `Options` and `fieldConfig.defaults.custom` against its `FieldConfig`, where the schema
defines them (the dashboard type leaves both open). Answers are cached like the LogQL grammar's.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboards_as_code.checker_cache import ask_node_checker
from dashboards_as_code.definitions.types import SectionsInV2
from dashboards_as_code.errors import DefinitionError
from dashboards_as_code.external_tools import GRAFANA_SCHEMA, NODE, ToolMissingError, require
from dashboards_as_code.kinds.dashboard.schema_v2 import v2_spec

SCHEMA_PACKAGE = "@grafana/schema"
WARM_CHECKER = "DASHBOARDS_AS_CODE_SCHEMA_CHECKER"
"""`127.0.0.1:<port>` of a running `check.js --serve` (started by `watch`): a warm TypeScript answers
in a fifth of the time a fresh Node process takes."""


@dataclass(frozen=True)
class Deviation:
    dashboard: str
    panel: int | None
    """Index in the dashboard's `panels`, when the deviation is inside one."""
    path: str
    """JSON path from the dashboard: `panels[3].options.legend`."""
    message: str


ALLOWED_KEY = "definition"
"""The one deviation allowed on purpose: Grafana's variable editor writes a query variable's
`definition` (the query as shown in the picker) though the schema omits it, and a variable without it
shows an empty query in the editor."""


def _allowed_removed(document: dict[str, Any]) -> dict[str, Any]:
    """`document` without the allowed key (a copy; the caller's is untouched), removed before the
    type check rather than its finding dropped after: TypeScript reports one unknown key per object
    literal, so a tolerated key would hide every other unknown key at the root and on the variable.
    Only a string `definition` on a `query` variable goes; anything else there stays and is checked."""
    templating = document.get("templating")
    if not isinstance(templating, dict) or not isinstance(templating.get("list"), list):
        return document
    variables: list[Any] = templating["list"]
    stripped = [_without_definition(variable) for variable in variables]
    return {**document, "templating": {**templating, "list": stripped}}


def _without_definition(variable: Any) -> Any:
    """The variable without `definition` when it is the allowed case; anything else unchanged."""
    if (
        isinstance(variable, dict)
        and variable.get("type") == "query"
        and isinstance(variable.get(ALLOWED_KEY), str)
    ):
        return {key: value for key, value in variable.items() if key != ALLOWED_KEY}
    return variable


V2 = "v2"
"""The id part, and the path's first word, of a dashboard's schema v2 form in the checker's answers."""
NO_V2_FORM = "v2-form"
"""The path of a dashboard's deviation when it has no v2 form at all (`v2_spec` refused it)."""


def _v2_form(document: dict[str, Any], sections: SectionsInV2) -> dict[str, Any] | str:
    """The dashboard's schema v2 spec, or why it has none (a variable type with no v2 form)."""
    try:
        return v2_spec(document, sections=sections)
    except DefinitionError as error:
        return error.message


def _items(uid: str, document: dict[str, Any], v2: dict[str, Any] | str) -> list[dict[str, Any]]:
    """What the checker type-checks for one dashboard: the classic document, its v2 form (`v2`, or why
    it has none), each panel's options and custom field config."""
    items: list[dict[str, Any]] = [
        {"id": f"{uid}|", "kind": "dashboard", "value": _allowed_removed(document)}
    ]
    if isinstance(v2, dict):  # what a Grafana 13 push sends: checked against the v2 types too
        items.append({"id": f"{uid}|{V2}", "kind": "dashboard-v2", "value": v2})
    for index, panel in enumerate(document.get("panels", [])):
        if "options" in panel:
            value = panel["options"]
            items.append(
                {"id": f"{uid}|{index}|options", "kind": "options", "plugin": panel["type"], "value": value}
            )
        custom = ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("custom")
        if custom is not None:
            items.append({"id": f"{uid}|{index}|fieldConfig.defaults.custom", "kind": "custom",
                          "plugin": panel["type"], "value": custom})  # fmt: skip
    return items


_LONG_TYPE = re.compile(r"'\{[^']{40,}'")


def _short(message: str) -> str:
    """TypeScript prints whole object types; the property names the message is about are enough."""
    return _LONG_TYPE.sub("'{...}'", message)


def deviations(
    documents: dict[str, dict[str, Any]],
    project_root: Path | None = None,
    *,
    sections_in_v2: Mapping[str, SectionsInV2] | None = None,
) -> list[Deviation]:
    """Every place a dashboard differs from Grafana's types, its v2 form laid out as its definition
    asks (`sections_in_v2`, by uid; rows where absent). Raises ToolMissingError without Node."""
    v2_forms = _v2_forms(documents, sections_in_v2)  # rendered once each
    payload = json.dumps(
        [item for uid, document in documents.items() for item in _items(uid, document, v2_forms[uid])]
    )
    found = ask_node_checker(
        GRAFANA_SCHEMA,
        project_root,
        payload,
        parse=_deviations,
        timeout=120,
        first=lambda: _ask_warm_checker(payload),
    )
    return _without_v2_form(v2_forms) + found


def v2_form_problems(
    documents: dict[str, dict[str, Any]], sections_in_v2: Mapping[str, SectionsInV2] | None = None
) -> list[Deviation]:
    """The dashboards that have no schema v2 form, and why: found in Python, so said without Node too
    (a push to a Grafana 13 that stores v2 would fail on them)."""
    return _without_v2_form(_v2_forms(documents, sections_in_v2))


def _v2_forms(
    documents: dict[str, dict[str, Any]], sections_in_v2: Mapping[str, SectionsInV2] | None
) -> dict[str, dict[str, Any] | str]:
    layouts = sections_in_v2 or {}
    return {uid: _v2_form(document, layouts.get(uid, "rows")) for uid, document in documents.items()}


def _without_v2_form(v2_forms: dict[str, dict[str, Any] | str]) -> list[Deviation]:
    return [
        Deviation(uid, None, NO_V2_FORM, reason)
        for uid, reason in v2_forms.items()
        if isinstance(reason, str)
    ]


def _deviations(answer: str) -> list[Deviation]:
    """The checker's answer read; raises on anything else, so a damaged cache entry is a miss."""
    found = []
    for item in json.loads(answer):
        uid, panel, where = [*str(item["id"]).split("|"), "", ""][:3]
        path = item["path"]
        if not isinstance(path, str):
            raise TypeError("not a schema checker answer")
        if panel == V2:  # the v2 form: its own paths (elements, layout), no classic panel index
            found.append(Deviation(uid, None, f"{V2}.{path}" if path else V2, _short(str(item["message"]))))
            continue
        if panel:
            path = f"panels[{panel}].{where}" + (f".{path}" if path else "")
        index = int(panel) if panel else _panel_index(path)
        found.append(Deviation(uid, index, path, _short(str(item["message"]))))
    return found


def _ask_warm_checker(payload: str) -> str | None:
    """The answer of the warm checker `watch` runs, or None (not set, gone, or too slow: ask Node then)."""
    address = os.environ.get(WARM_CHECKER, "")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return None
    try:
        with socket.create_connection((host, int(port)), timeout=60) as connection:
            connection.sendall(payload.encode())
            connection.shutdown(socket.SHUT_WR)
            answer = b"".join(iter(lambda: connection.recv(65536), b""))
        json.loads(answer)
    except (OSError, ValueError):
        return None
    return answer.decode()


def start_warm_checker(project_root: Path | None = None) -> tuple[subprocess.Popen[str], str] | None:
    """`check.js --serve` and its address, for `watch`; None without Node or the tool. It exits when
    its standard input closes, so it never outlives the watcher that started it."""
    try:
        node, script = require(NODE), require(GRAFANA_SCHEMA, project_root)
    except ToolMissingError:
        return None
    process = subprocess.Popen(
        [node, script, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    if not port.isdigit():
        process.kill()
        return None
    return process, f"127.0.0.1:{port}"


def _panel_index(path: str) -> int | None:
    match = re.match(r"panels\[(\d+)\]", path)
    return int(match.group(1)) if match else None


def pinned_version(project_root: Path | None = None) -> str | None:
    """The `@grafana/schema` version `tools/grafana-schema/package.json` pins, or None without the tool."""
    script = GRAFANA_SCHEMA.path(project_root)
    manifest = Path(script).parent / "package.json" if script else None
    if manifest is None or not manifest.is_file():
        return None
    return str(json.loads(manifest.read_text())["dependencies"][SCHEMA_PACKAGE])
