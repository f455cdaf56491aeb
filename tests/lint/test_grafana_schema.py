"""grafana-schema: the generated dashboards conform to @grafana/schema; planted deviations are caught."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config import CONFIG
from dashboards_as_code.definitions.types import DashboardDefinition, SectionsInV2
from dashboards_as_code.external_tools import GRAFANA_SCHEMA, ToolMissingError
from dashboards_as_code.kinds.dashboard.schema_v2 import v2_spec
from dashboards_as_code.lint import Finding
from dashboards_as_code.lint import grafana_schema as grafana_schema_module
from dashboards_as_code.lint.checks import grafana_schema
from dashboards_as_code.lint.checks.grafana_schema import CHECK, NO_V2_FORM_SAID
from dashboards_as_code.lint.grafana_schema import WARM_CHECKER, Deviation, deviations, start_warm_checker
from tests.conftest import REPO
from tests.lint.builders import check, context, document
from tests.lint.test_tenant_all_row import old_recipe, tenant_board
from tests.tooling import require_tool


@pytest.fixture(autouse=True)
def _schema() -> None:
    require_tool(GRAFANA_SCHEMA)


def planted(overview: DashboardDefinition, change: Callable[[dict[str, Any]], None]) -> list[Finding]:
    lint = context(overview)
    change(document(lint, overview))
    return check(CHECK, lint)


def _panel(board: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(p for p in board["panels"] if p["type"] == kind)


def _first(overview: DashboardDefinition, kind: str) -> tuple[int, str]:
    """Where the first panel of `kind` sits in the rendered Overview, and its title: what a finding names."""
    board = document(context(overview), overview)
    return next((i, p["title"]) for i, p in enumerate(board["panels"]) if p["type"] == kind)


def test_the_generated_dashboards_conform(overview: DashboardDefinition) -> None:
    assert check(CHECK, context(overview)) == []


def test_an_unknown_option_key(overview: DashboardDefinition) -> None:
    index, title = _first(overview, "timeseries")
    (finding,) = planted(overview, lambda board: _panel(board, "timeseries")["options"].update(legendd=True))
    assert finding.location.panel == title
    assert finding.message.startswith(f"`panels[{index}].options.legendd`: ")
    assert "may only specify known properties" in finding.message


def test_a_wrong_enum_value(overview: DashboardDefinition) -> None:
    def grid(board: dict[str, Any]) -> None:
        _panel(board, "timeseries")["options"]["legend"]["displayMode"] = "grid"

    index, _ = _first(overview, "timeseries")
    (finding,) = planted(overview, grid)
    assert f"`panels[{index}].options.legend.displayMode`" in finding.message
    assert '"grid"' in finding.message and '"list" | "table" | "hidden"' in finding.message


def test_a_missing_required_option(overview: DashboardDefinition) -> None:
    index, title = _first(overview, "logs")
    (finding,) = planted(overview, lambda board: _panel(board, "logs")["options"].pop("showLogContextToggle"))
    assert finding.location.panel == title
    assert (
        f"`panels[{index}].options`" in finding.message
        and "'showLogContextToggle' is missing" in finding.message
    )


def test_empty_options_are_checked_too(overview: DashboardDefinition) -> None:
    """`options: {}` is no option set: Grafana's timeseries Options require `legend` and `tooltip`,
    so an empty object is still checked against the plugin's type and reported."""

    def emptied(board: dict[str, Any]) -> None:
        _panel(board, "timeseries")["options"] = {}

    board = document(context(overview), overview)
    index = board["panels"].index(_panel(board, "timeseries"))
    (finding,) = planted(overview, emptied)
    assert finding.location.panel == _panel(board, "timeseries")["title"]
    assert finding.message.startswith(f"`panels[{index}].options`"), finding.message
    assert "legend" in finding.message and "tooltip" in finding.message, finding.message


def test_a_null_where_the_schema_wants_a_number(overview: DashboardDefinition) -> None:
    def null_decimals(board: dict[str, Any]) -> None:
        _panel(board, "stat")["fieldConfig"]["defaults"]["decimals"] = None

    _, title = _first(overview, "stat")
    (finding,) = planted(overview, null_decimals)
    assert finding.location.panel == title
    assert "fieldConfig.defaults.decimals`" in finding.message and "'null'" in finding.message


def test_a_field_config_against_the_plugins_own_type(overview: DashboardDefinition) -> None:
    def bad(board: dict[str, Any]) -> None:
        _panel(board, "timeseries")["fieldConfig"]["defaults"]["custom"]["drawStyle"] = "dots"

    index, _ = _first(overview, "timeseries")
    (finding,) = planted(overview, bad)
    assert f"`panels[{index}].fieldConfig.defaults.custom.drawStyle`" in finding.message


def test_an_empty_field_config_is_checked_too(overview: DashboardDefinition) -> None:
    """`custom: {}` is a value like any other: a table's FieldConfig requires align, cellOptions and
    inspect (@grafana/schema's TableFieldOptions), so an empty one is reported, not skipped."""

    def empty_table(board: dict[str, Any]) -> None:
        panel = _panel(board, "stat")
        panel["type"] = "table"
        panel.pop("options", None)
        panel["fieldConfig"]["defaults"]["custom"] = {}

    index, title = _first(overview, "stat")
    (finding,) = planted(overview, empty_table)
    assert finding.location.panel == title
    assert finding.message.startswith(f"`panels[{index}].fieldConfig.defaults.custom`"), finding.message
    assert all(key in finding.message for key in ("align", "cellOptions", "inspect")), finding.message


@pytest.mark.parametrize(("ci", "severity"), [("true", "error"), ("false", "warning")])
def test_without_node(
    overview: DashboardDefinition, monkeypatch: pytest.MonkeyPatch, ci: str, severity: str
) -> None:
    def missing(*_: object, **__: object) -> object:
        raise ToolMissingError(GRAFANA_SCHEMA)

    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(grafana_schema, "deviations", missing)
    (finding,) = check(CHECK, context(overview))
    assert finding.severity == severity and finding.tool_missing
    assert "npm ci in tools/grafana-schema" in finding.message


def _pinned_schema_version() -> int:
    """The schemaVersion Grafana's own schema package (the version pinned in tools/grafana-schema) gives
    a new dashboard: read from the package, not from this project's defaults."""
    script = "process.stdout.write(String(require('@grafana/schema').defaultDashboard.schemaVersion))"
    answer = subprocess.run(
        ["node", "-e", script],
        cwd=REPO / "tools" / "grafana-schema",
        capture_output=True,
        text=True,
        check=True,
    )
    return int(answer.stdout)


def test_dashboards_are_written_at_the_pinned_grafanas_schema_version(overview: DashboardDefinition) -> None:
    """Otherwise Grafana migrates every dashboard in the browser on every load, and what it shows is
    what the migration made of the document, not the document."""
    assert document(context(overview), overview)["schemaVersion"] == _pinned_schema_version()


@pytest.mark.parametrize("behind", [1, 3, 21])
def test_a_schema_version_older_than_the_pinned_grafanas_is_a_finding(
    overview: DashboardDefinition, behind: int
) -> None:
    pinned = _pinned_schema_version()
    (finding,) = planted(overview, lambda board: board.update(schemaVersion=pinned - behind))
    assert finding.location.dashboard == overview.uid
    assert finding.message.startswith("`schemaVersion`: ")
    assert f"schemaVersion {pinned - behind} is older than {pinned}" in finding.message


def test_the_v2_form_grafana_13_is_sent_is_type_checked_against_the_v2_types(
    overview: DashboardDefinition, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A v2 spec Grafana's `dashboard/v2` types refuse (here: no layout) is a finding on its dashboard,
    its path in the v2 document; the classic form of the same dashboard is checked as before."""

    def without_layout(document: dict[str, Any], *, sections: SectionsInV2) -> dict[str, Any]:
        spec = v2_spec(document, sections=sections)
        del spec["layout"]
        return spec

    monkeypatch.setattr(grafana_schema_module, "v2_spec", without_layout)
    (finding,) = check(CHECK, context(overview))
    assert finding.location.dashboard == overview.uid and finding.location.panel is None
    assert finding.message.startswith("`v2`: ") and "'layout' is missing" in finding.message


def test_a_variable_with_no_v2_form_is_a_finding_naming_it(overview: DashboardDefinition) -> None:
    def adhoc(board: dict[str, Any]) -> None:
        board["templating"]["list"].append({"name": "filters", "type": "adhoc", "hide": 0})

    (finding,) = planted(overview, adhoc)
    assert finding.location.dashboard == overview.uid
    assert "variable 'filters' is of type 'adhoc'" in finding.message and "schema v2" in finding.message


def test_a_panel_without_an_id_is_a_finding_naming_it_not_a_crash(overview: DashboardDefinition) -> None:
    """The v2 form names each element by its panel's id: a definition that never numbered its panels
    gets a finding that says which panel and how to number them, as the classic check goes on."""
    _, title = _first(overview, "timeseries")
    found = planted(overview, lambda board: _panel(board, "timeseries").pop("id"))
    v2 = [finding for finding in found if finding.message.startswith(f"{NO_V2_FORM_SAID}: ")]
    assert len(v2) == 1 and f"panel {title!r} has no id" in v2[0].message, found


def test_the_v2_form_is_checked_as_the_definition_lays_it_out(overview: DashboardDefinition) -> None:
    """A definition asking for tabs is checked in its tabs form: a collapsed row, which no tab can be,
    is a finding on that definition, and the same document laid out as rows has none."""

    tabbed = dataclasses.replace(overview, sections_in_v2="tabs")
    (finding,) = planted(tabbed, _first_row_collapsed)
    assert finding.location.dashboard == overview.uid
    assert finding.message.startswith(f"{NO_V2_FORM_SAID}: ")
    assert "is collapsed, and a tab has no collapsed form" in finding.message
    assert planted(overview, _first_row_collapsed) == []


def _first_row_collapsed(board: dict[str, Any]) -> None:
    row = next(p for p in board["panels"] if p["type"] == "row")
    index = board["panels"].index(row)
    following = board["panels"][index + 1 :]
    end = next((n for n, p in enumerate(following) if p["type"] == "row"), len(following))
    row.update(collapsed=True, panels=following[:end])
    del board["panels"][index + 1 : index + 1 + end]


def test_a_dashboard_without_a_v2_form_is_named_without_node_too(
    overview: DashboardDefinition, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a v2 form can be made is decided in Python: on a machine without the schema tool, `check`
    still names the dashboard a Grafana 13 push would fail on, beside the tool-missing warning."""

    def missing(*_: object, **__: object) -> object:
        raise ToolMissingError(GRAFANA_SCHEMA)

    monkeypatch.setenv("CI", "false")
    monkeypatch.setattr(grafana_schema, "deviations", missing)
    tabbed = dataclasses.replace(overview, sections_in_v2="tabs")
    lint = context(tabbed)
    _first_row_collapsed(document(lint, tabbed))
    tool, form = sorted(check(CHECK, lint), key=lambda finding: finding.tool_missing, reverse=True)
    assert tool.tool_missing
    assert form.location.dashboard == overview.uid and not form.tool_missing
    assert form.message.startswith(f"{NO_V2_FORM_SAID}: ") and "is collapsed" in form.message


def test_moving_grafana_without_moving_the_schema_fails_check(project_copy: Path) -> None:
    assert CONFIG.grafana_compose_file is not None
    compose = project_copy / CONFIG.grafana_compose_file
    shutil.copy(REPO / CONFIG.grafana_compose_file, compose)
    text = compose.read_text()
    assert "image: grafana/grafana:13.2.0" in text
    compose.write_text(text.replace("image: grafana/grafana:13.2.0", "image: grafana/grafana:13.3.0"))
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "check", "--project", str(project_copy)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Grafana 13.3.0 runs in monitoring/docker-compose.observability.yml" in result.stderr
    assert "@grafana/schema 13.2.0" in result.stderr and "[grafana-schema]" in result.stderr


def test_a_warm_checker_answers_as_a_fresh_node_does(
    overview: DashboardDefinition, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    board = document(context(overview), overview)
    board["panels"][1]["options"]["legendd"] = True
    cold = deviations({"o": board}, tmp_path)  # tmp_path: no shared answer cache
    started = start_warm_checker()
    assert started is not None
    process, address = started
    try:
        monkeypatch.setenv(WARM_CHECKER, address)
        assert deviations({"o": board}, tmp_path / "warm") == cold
        served = {"o": {**board, "title": "asked of the warm checker"}}
        assert deviations(served, tmp_path / "warm") == cold
    finally:
        process.kill()
        process.wait()
    monkeypatch.setenv(WARM_CHECKER, address)  # gone now: Node is asked instead
    assert deviations({"o": {**board, "title": "after it stopped"}}, tmp_path / "gone") == cold


def _listening(pid: int) -> set[tuple[str, int]]:
    """(address, port) of each TCP socket process `pid` listens on: its socket inodes (/proc/PID/fd)
    looked up in the kernel's TCP tables, as `ss -ltnp` reads them."""
    fds = [str(fd.readlink()) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    inodes = {fd.removeprefix("socket:[").removesuffix("]") for fd in fds if fd.startswith("socket:[")}
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            local, state, inode = (line.split()[i] for i in (1, 3, 9))
            if state == "0A" and inode in inodes:  # 0A: TCP_LISTEN
                address, port = local.split(":")
                found.add((_kernel_address(address), int(port, 16)))
    return found


def _kernel_address(text: str) -> str:
    """An address as /proc/net/tcp{,6} prints it: hex, each 32-bit word in the host's byte order."""
    raw = bytes.fromhex(text)
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(raw))


def test_the_warm_checker_listens_on_loopback_only() -> None:
    """The warm checker runs TypeScript for whoever connects, and answers them: listening on every
    interface, anyone on the network could use it (and read its answers) while `watch` runs. Its one
    listening socket is on 127.0.0.1, at the port it printed."""
    started = start_warm_checker()
    assert started is not None
    process, address = started
    try:
        host, _, port = address.rpartition(":")
        assert host == "127.0.0.1"
        assert _listening(process.pid) == {("127.0.0.1", int(port))}
    finally:
        process.kill()
        process.wait()


def test_the_warm_checker_is_asked_when_one_is_set(
    overview: DashboardDefinition, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    board = document(context(overview), overview)
    board["panels"][1]["options"]["legendd"] = True
    with socket.create_server(("127.0.0.1", 0)) as server:

        def answer_nothing() -> None:
            connection, _ = server.accept()
            with connection:
                while connection.recv(65536):
                    pass
                connection.sendall(b"[]")

        threading.Thread(target=answer_nothing, daemon=True).start()
        monkeypatch.setenv(WARM_CHECKER, f"127.0.0.1:{server.getsockname()[1]}")
        assert deviations({"o": board}, tmp_path) == []  # its answer, not Node's


def _variable(board: dict[str, Any]) -> dict[str, Any]:
    variable: dict[str, Any] = board["templating"]["list"][0]
    assert variable["type"] == "query" and isinstance(variable["definition"], str)  # the allowed key is there
    return variable


def test_an_unknown_key_at_the_root_is_not_hidden_by_the_allowed_definition(
    overview: DashboardDefinition,
) -> None:
    def misspelt(board: dict[str, Any]) -> None:
        _variable(board)
        board["refrsh"] = "1m"

    (finding,) = planted(overview, misspelt)
    assert finding.message.startswith("`refrsh`: ") and "may only specify known properties" in finding.message


@pytest.mark.parametrize("key", ["lable", "refreshh", "definitionn"])
def test_an_unknown_key_on_the_variable_is_not_hidden_by_the_allowed_definition(
    overview: DashboardDefinition, key: str
) -> None:
    (finding,) = planted(overview, lambda board: _variable(board).update({key: "x"}))
    assert finding.message.startswith(f"`templating.list[0].{key}`: ")


@pytest.mark.parametrize(
    ("key", "value"), [("multi", "yes"), ("includeAll", 1), ("hide", "never"), ("sort", "az")]
)
def test_a_wrong_type_on_a_template_variable_is_a_finding(
    overview: DashboardDefinition, key: str, value: object
) -> None:
    (finding,) = planted(overview, lambda board: _variable(board).update({key: value}))
    assert finding.message.startswith(f"`templating.list[0].{key}`: ")
    assert "is not assignable" in finding.message


@pytest.mark.parametrize("value", [42, None, {"query": "up"}, ["up"]])
def test_a_definition_that_is_not_a_string_is_a_finding(overview: DashboardDefinition, value: object) -> None:
    (finding,) = planted(overview, lambda board: _variable(board).update(definition=value))
    assert finding.message.startswith("`templating.list[0].definition`: ")


def test_a_definition_is_allowed_on_a_query_variable_only(overview: DashboardDefinition) -> None:
    def custom(board: dict[str, Any]) -> None:
        board["templating"]["list"].append(
            {"type": "custom", "name": "env", "query": "a,b", "definition": "a,b"}
        )

    (finding,) = planted(overview, custom)
    assert finding.message.startswith("`templating.list[1].definition`: ")


def test_the_checked_document_keeps_its_definition(overview: DashboardDefinition, tmp_path: Path) -> None:
    board = document(context(overview), overview)
    assert deviations({"o": board}, tmp_path) == []
    assert isinstance(board["templating"]["list"][0]["definition"], str)


def test_the_answer_cache_still_answers_with_the_key_removed(
    overview: DashboardDefinition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = document(context(overview), overview)
    board["refrsh"] = "1m"
    fresh = deviations({"o": board}, tmp_path)
    assert [d.path for d in fresh] == ["refrsh"]

    def no_node(*_: object, **__: object) -> object:
        raise AssertionError("Node was asked though the answer is cached")

    monkeypatch.setattr(subprocess, "run", no_node)
    assert deviations({"o": board}, tmp_path) == fresh


@pytest.mark.parametrize(("multi", "all_value"), [(False, None), (False, ".*"), (True, None)])
def test_a_variable_without_all_conforms(multi: bool, all_value: str | None) -> None:
    """`QueryVariable(include_all=False)` (a one-tenant dashboard) writes what Grafana's types accept,
    whatever `all_value` says: no `allValue: null`."""
    definition = tenant_board(old_recipe(), all_value=all_value, single=True)
    (variable,) = definition.dashboard.templating.list
    variable.multi = multi
    assert check(CHECK, context(definition)) == []


BROKEN_ANSWERS = {
    "broken-off": b'[{"id": "o|", "pa',
    "not-json": b"Error: JavaScript heap out of memory\n",
    "not-utf8": b'[{"id": "o|", "path": "\xff", "message": "x"}]',
}
"""What a warm checker that dies mid-answer, or crashes into an error text, leaves on the socket."""


@pytest.mark.parametrize("answer", list(BROKEN_ANSWERS.values()), ids=list(BROKEN_ANSWERS))
def test_an_unreadable_warm_answer_falls_back_to_a_fresh_node(
    overview: DashboardDefinition, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, answer: bytes
) -> None:
    """A warm checker (started by `watch`) can die while it writes, or print an error instead of JSON:
    the build's schema check must then ask a fresh Node, and report what Node finds, rather than
    trust the broken answer (and fail every save on it) or report nothing."""
    board = document(context(overview), overview)
    board["refrsh"] = "1m"  # a misspelt key at the root: what Node reports
    monkeypatch.delenv(WARM_CHECKER, raising=False)
    cold = deviations({"o": board}, tmp_path / "cold")
    assert [d.path for d in cold] == ["refrsh"], cold
    with socket.create_server(("127.0.0.1", 0)) as server:

        def break_off() -> None:
            connection, _ = server.accept()
            with connection:
                while connection.recv(65536):
                    pass
                connection.sendall(answer)

        answering = threading.Thread(target=break_off, daemon=True)
        answering.start()
        monkeypatch.setenv(WARM_CHECKER, f"127.0.0.1:{server.getsockname()[1]}")
        assert deviations({"o": board}, tmp_path / "warm") == cold
        answering.join(timeout=10)
        assert not answering.is_alive()  # the warm checker was asked: the fallback came after it


def test_a_panel_whose_plugin_publishes_no_types_is_left_unchecked(overview: DashboardDefinition) -> None:
    """Grafana's `traces` panel (a Jaeger trace in a dashboard) has no types in @grafana/schema: its
    options are not checked, and the rest of the dashboard still is. A checker that went looking for
    the missing types anyway would fail the whole check instead of returning the dashboard's findings."""
    schema = REPO / "tools" / "grafana-schema" / "node_modules" / "@grafana" / "schema"
    assert not list(schema.rglob("composable/traces")), "the premise: @grafana/schema has no `traces` types"

    def add_a_trace_panel(board: dict[str, Any]) -> None:
        trace = {**_panel(board, "timeseries"), "type": "traces", "title": "A trace", "options": {"any": 1}}
        board["panels"].append({**trace, "id": max(p["id"] for p in board["panels"]) + 1})
        _panel(board, "timeseries")["options"].update(legendd=True)  # a finding elsewhere still comes

    findings = planted(overview, add_a_trace_panel)
    assert [f.message.split("`")[1] for f in findings] == [
        f"panels[{_first(overview, 'timeseries')[0]}].options.legendd"
    ]


def test_a_variable_list_that_is_not_a_list_is_a_finding(overview: DashboardDefinition) -> None:
    """Only a list of variables has its allowed `definition` removed: a `templating.list` written as an
    object (even an empty one) is not Grafana's array of variables and is reported as it stands."""

    def as_object(board: dict[str, Any]) -> None:
        board["templating"]["list"] = {}

    (finding,) = planted(overview, as_object)
    assert finding.message.startswith("`templating.list`: "), finding.message


@pytest.mark.parametrize("address", ["", ":8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:80a"])
def test_a_warm_checker_address_without_host_and_port_is_never_dialled(
    monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    """The warm checker is `127.0.0.1:<port>`: an address missing either part means no warm checker (a
    fresh Node is asked), not a connection to wherever the incomplete address resolves."""
    dialled: list[object] = []

    def dial(*args: object, **_kwargs: object) -> object:
        dialled.append(args)
        raise OSError("not to be dialled")

    monkeypatch.setattr(socket, "create_connection", dial)
    monkeypatch.setenv(WARM_CHECKER, address)
    assert grafana_schema_module._ask_warm_checker("[]") is None
    assert dialled == []


def test_the_warm_checker_exits_when_its_watcher_closes_its_input() -> None:
    """It never outlives the `watch` that started it: its standard input closing (the watcher gone,
    however it went) ends it, with no signal needed."""
    started = start_warm_checker()
    assert started is not None
    process, _ = started
    try:
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_checker_failure_outside_any_dashboard_is_reported_as_the_checker_failing(
    overview: DashboardDefinition, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A diagnostic the checker cannot place in a dashboard (a declaration file it could not read, say)
    is no dashboard's deviation: it says the checker failed, with TypeScript's words."""
    failure = Deviation("", None, "", "Cannot find module '@grafana/schema'.")
    monkeypatch.setattr(grafana_schema, "deviations", lambda *_, **__: [failure])
    (finding,) = check(CHECK, context(overview))
    assert finding.message == "the schema checker failed: Cannot find module '@grafana/schema'."
    assert finding.severity == "error"


def test_a_nested_deviation_says_what_is_wrong_not_only_that_the_types_differ(
    overview: DashboardDefinition,
) -> None:
    """TypeScript explains a deviation in a chain, from "type A is not assignable to type B" down to the
    cause; a finding gives the cause (here the keys a range mapping lacks), which names what to fix."""

    def half_a_range(board: dict[str, Any]) -> None:
        mapping = {"type": "range", "options": {"from": "a"}}
        _panel(board, "timeseries")["fieldConfig"]["defaults"]["mappings"] = [mapping]

    index, _ = _first(overview, "timeseries")
    (finding,) = planted(overview, half_a_range)
    assert finding.message.startswith(f"`panels[{index}].fieldConfig.defaults.mappings[0]`: "), (
        finding.message
    )
    assert "missing the following properties" in finding.message and "to, result" in finding.message


def test_a_warm_checker_that_prints_no_port_is_ended_and_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A checker that starts but prints something else than its port (a Node error) is no warm checker:
    `watch` goes on without one, and the process is not left running behind it."""
    script = tmp_path / "check.py"
    script.write_text("import sys, time; print('Error: cannot find typescript', flush=True); time.sleep(600)")
    tools = {"node": sys.executable, GRAFANA_SCHEMA.name: str(script)}
    monkeypatch.setattr(grafana_schema_module, "require", lambda tool, *_: tools[tool.name])
    started: list[subprocess.Popen[str]] = []
    real_popen = subprocess.Popen

    def popen(args: list[str], **options: Any) -> subprocess.Popen[str]:
        started.append(real_popen(args[:2], **options))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    try:
        assert start_warm_checker() is None
        [process] = started
        assert process.wait(timeout=10) != 0
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_without_the_tool_watch_gets_no_warm_checker(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Node (or no `npm ci` in tools/grafana-schema): `watch` still runs, its builds ask nothing warm."""

    def missing(tool: object, *_: object) -> str:
        raise ToolMissingError(GRAFANA_SCHEMA)

    monkeypatch.setattr(grafana_schema_module, "require", missing)
    assert start_warm_checker() is None


def _ask(host: str, port: int, payload: bytes) -> bytes:
    with socket.create_connection((host, port), timeout=30) as connection:
        connection.sendall(payload)
        connection.shutdown(socket.SHUT_WR)
        return b"".join(iter(lambda: connection.recv(65536), b""))


def test_a_request_cut_off_or_unreadable_does_not_end_the_warm_checker() -> None:
    """A build cancelled by a newer save is killed wherever it is, mid-request included: that
    connection fails, but the checker keeps answering the next builds, warm, while `watch` runs."""
    started = start_warm_checker()
    assert started is not None
    process, address = started
    host, _, port = address.rpartition(":")
    try:
        reset = socket.create_connection((host, int(port)), timeout=30)
        reset.sendall(b'[{"id": "o|", "ki')
        time.sleep(0.2)  # the checker has read the start of the request
        reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        reset.close()  # killed mid-send: the checker sees the connection reset
        time.sleep(0.3)  # the reset reaches the checker before the next build asks
        with contextlib.suppress(ConnectionResetError):
            assert _ask(host, int(port), b'[{"id": "o|", "ki') == b""  # cut off: no answer to it
        assert _ask(host, int(port), b"[]") == b"[]"
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()
