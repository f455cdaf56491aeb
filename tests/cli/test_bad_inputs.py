"""Bad input, round one, tried as a new user would, through the real entry point on a copy of the project.

For every case (tests/cli/bad_input.py): the exit code (2 bad definitions or settings, 1 failed check
or write, 130 an interrupt), no traceback, a message naming the file / dashboard / panel / setting,
no secret in the output, nothing written outside the project, and `git status` of the copy
unchanged when the command failed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.bad_input import (
    BUILD,
    CHECK,
    CONTRACT,
    GRAFANA,
    OVERVIEW,
    PUSH,
    SECRET,
    Case,
    both,
    dashboard_body,
    folder_is_a_file,
    replace,
    run_case,
    symlink_loop,
    write,
)

CASES = [
    # Definitions that fail while they load.
    Case("sys-exit", BUILD, 2, ("dashboards/x.py:4", "sys.exit(0)"), write("dashboards/x.py", "import sys\n\ndef dashboard():\n    sys.exit(0)\n")),
    Case("keyboard-interrupt", CHECK, 130, ("dashboards/x.py", "interrupted"), write("dashboards/x.py", "def dashboard():\n    raise KeyboardInterrupt\n")),
    Case("base-exception", BUILD, 2, ("dashboards/x.py:5", "Odd: strange"), write("dashboards/x.py", "class Odd(BaseException):\n    pass\n\ndef dashboard():\n    raise Odd('strange')\n")),
    Case("recursion", BUILD, 2, ("dashboards/x.py:2", "RecursionError"), write("dashboards/x.py", "def dashboard():\n    return dashboard()\n")),
    Case("import-error", CHECK, 2, ("dashboards/x.py:1", "No module named 'nowhere'"), write("dashboards/x.py", "import nowhere\n")),
    Case("not-utf8", BUILD, 2, ("dashboards/x.py", "not valid UTF-8"), write("dashboards/x.py", b"X = '\xff'\n")),
    Case("symlink-loop", BUILD, 2, ("dashboards/x.py", "cannot be read"), symlink_loop("dashboards/x.py")),
    Case("module-name", BUILD, 2, ("dashboards/my-board.py", "Python identifier"), write("dashboards/my-board.py", "def dashboard():\n    pass\n")),
    Case("package", BUILD, 2, ("dashboards/helpers/", "is a package"), write("dashboards/helpers/__init__.py", "")),
    Case("syntax-error", CHECK, 2, ("dashboards/x.py:1", "SyntaxError"), write("dashboards/x.py", "def dashboard(:\n")),
    Case("no-function", BUILD, 2, ("dashboards/x.py", "no dashboard()"), write("dashboards/x.py", "TITLE = 1\n")),
    Case("returns-none", BUILD, 2, ("dashboards/x.py", "returned NoneType"), write("dashboards/x.py", "def dashboard():\n    return None\n")),
    Case("name-error", BUILD, 2, ("dashboards/extra.py:5", "NameError"), dashboard_body("    return undefined_thing")),
    # uids and paths.
    Case("folder-traversal", BUILD, 2, ("dashboards/overview.py", "folder uid", "'../../../outside'"), replace("config.py", 'Folder(uid="tiktickets"', 'Folder(uid="../../../outside"')),
    Case("folder-space", BUILD, 2, ("folder uid", "'tik tickets'"), replace("config.py", 'Folder(uid="tiktickets"', 'Folder(uid="tik tickets"')),
    Case("folder-general", BUILD, 2, ("folder uid", "reserved"), replace("config.py", 'Folder(uid="tiktickets"', 'Folder(uid="general"')),
    Case("dashboard-uid-chars", BUILD, 2, ("dashboards/overview.py", "dashboard uid", "may only contain"), replace("config.py", 'OVERVIEW_UID = "tiktickets-overview"', 'OVERVIEW_UID = "tiktickets/overview"')),
    Case("dashboard-uid-long", CHECK, 2, ("dashboard uid", "at most 40"), replace("config.py", 'OVERVIEW_UID = "tiktickets-overview"', f'OVERVIEW_UID = "{"x" * 41}"')),
    Case("dashboard-uid-empty", BUILD, 2, ("dashboard uid", "empty"), replace("config.py", 'OVERVIEW_UID = "tiktickets-overview"', 'OVERVIEW_UID = ""')),
    Case("duplicate-uid", BUILD, 2, ("dashboard 'tiktickets-overview'", "[dashboard-uid]"), dashboard_body("    return _overview()")),
    Case("output-outside", BUILD, 2, ("config.py", "provisioning_dir", "inside the project"), replace("config.py", '    name="tiktickets",', '    name="tiktickets",\n    provisioning_dir="../outside",')),
    Case("rule-file-name", BUILD, 2, ("config.py", "name:", "rule file"), replace("config.py", 'name="tiktickets"', 'name="../tiktickets"')),
    # Panels.
    Case("width-string", BUILD, 2, ("dashboards/overview.py:", "panel 'Request rate per route'", "width", "'12'"), replace(OVERVIEW, "width=12,", 'width="12",')),
    Case("width-fraction", CHECK, 2, ("panel 'Request rate per route'", "width", "4.5"), replace(OVERVIEW, "width=12,", "width=4.5,")),
    Case("width-zero", BUILD, 2, ("panel 'Request rate per route'", "width"), replace(OVERVIEW, "width=12,", "width=0,")),
    Case("height-huge", BUILD, 2, ("height",), replace(OVERVIEW, "height=12,", "height=1000,")),
    Case("duplicate-title", BUILD, 2, ("panel 'Error rate'", "[panel-titles]"), replace(OVERVIEW, '"Active WhatsApp sessions",', '"Error rate",')),
    # The contract.
    Case("prometheus-name-typo", CHECK, 2, ("telemetry/contract.py", "[contract-names]", "tiktickets_socketio_connection'"), replace(CONTRACT, 'prometheus_name="tiktickets_socketio_connections"', 'prometheus_name="tiktickets_socketio_connection"')),
    Case("unknown-unit", BUILD, 2, ("telemetry/contract.py", "furlongs"), replace(CONTRACT, 'unit="{session}"', 'unit="furlongs"')),
    Case("trace-id-label", BUILD, 2, ("telemetry/contract.py", "trace_id must never be a Prometheus label"), replace(CONTRACT, 'attributes=("tenant_id",),', 'attributes=("tenant_id", "trace_id"),')),
    Case("tenant-stream-label", BUILD, 2, ("telemetry/contract.py", "tenant_id must never be a Loki stream label"), replace(CONTRACT, '("service_name", RESOURCE.service_name),\n    ),', '("service_name", RESOURCE.service_name),\n        ("tenant_id", "x"),\n    ),')),
    Case("unknown-signal", BUILD, 2, ("dashboards/extra.py:6", "unknown metric signal 'http_requests_total'"), dashboard_body("    from telemetry.contract import CONTRACT\n    return CONTRACT.metric('http_requests_total')")),
    # The project's shape and other definitions.
    Case("config-missing", BUILD, 2, ("config.py",), lambda root: (root / "config.py").unlink()),
    Case("config-wrong-type", CHECK, 2, ("config.py", "CONFIG = ProjectConfig"), replace("config.py", "CONFIG = ProjectConfig(", "CONFIG = dict(")),
    Case("datasources-missing", BUILD, 2, ("datasources/__init__.py", "DATASOURCES"), replace("datasources/__init__.py", "DATASOURCES = [", "SOURCES = [")),
    Case("datasource-link", BUILD, 2, ("datasources/loki.py", "datasource 'loki'", "'tempo'"), replace("datasources/loki.py", 'datasource_uid="jaeger"', 'datasource_uid="tempo"')),
    Case("alert-panel", BUILD, 2, ("alert TikTicketsSignalMissing links to panel 'Gone'",), replace("prometheus_rules/alerts.py", '"span_calls": "Request rate per route"', '"span_calls": "Gone"')),
    Case("no-project", ("build", "--project", "/nonexistent/project"), 2, ("does not exist",)),
    Case("unknown-option", ("build", "--fast"), 2, ("No such option",)),
    # Generated files.
    Case("stale", CHECK, 1, ("provisioning/dashboards/tiktickets/tiktickets-overview.json", "panel 'Recent error logs'"), replace("provisioning/dashboards/tiktickets/tiktickets-overview.json", '"title": "Recent error logs"', '"title": "Logs"')),
    Case("unwritable", BUILD, 1, ("cannot write provisioning/dashboards/tiktickets/tiktickets-overview.json", "nothing was changed"), both(replace(CONTRACT, "WhatsApp messages sent (monotonic).", "Sent (monotonic)."), folder_is_a_file("provisioning/dashboards/tiktickets"))),
    # Settings: the environment and .env.
    Case("url-credentials", PUSH, 2, ("GRAFANA_URL", "carries credentials", "***@"), env={"GRAFANA_URL": f"http://admin:{SECRET}@127.0.0.1:9", "GRAFANA_TOKEN": "t"}),
    Case("url-password-slash", PUSH, 2, ("GRAFANA_URL", "carries credentials"), env={"GRAFANA_URL": f"http://admin:{SECRET}/x@127.0.0.1:9", "GRAFANA_TOKEN": "t"}),
    Case("url-scheme-typo", PUSH, 2, ("GRAFANA_URL", "'htp:/x'"), env={**GRAFANA, "GRAFANA_URL": "htp:/x"}),
    Case("url-no-scheme", ("diff",), 2, ("GRAFANA_URL", "'localhost:3001'"), env={**GRAFANA, "GRAFANA_URL": "localhost:3001"}),
    Case("url-empty", PUSH, 2, ("GRAFANA_URL", "''"), env={**GRAFANA, "GRAFANA_URL": ""}),
    Case("url-port", PUSH, 2, ("GRAFANA_URL", "invalid port"), env={**GRAFANA, "GRAFANA_URL": "http://x:99999"}),
    Case("url-ipv6", PUSH, 2, ("GRAFANA_URL", "is not a URL"), env={**GRAFANA, "GRAFANA_URL": "http://[::1"}),
    Case("url-ftp", ("pull", "tiktickets-overview"), 2, ("GRAFANA_URL", "'ftp://host'"), env={**GRAFANA, "GRAFANA_URL": "ftp://host"}),
    Case("timeout-negative", PUSH, 2, ("GRAFANA_TIMEOUT", "greater than 0"), env={**GRAFANA, "GRAFANA_TIMEOUT": "-1"}),
    Case("timeout-text", ("diff",), 2, ("GRAFANA_TIMEOUT",), env={**GRAFANA, "GRAFANA_TIMEOUT": "soon"}),
    Case("no-credentials", PUSH, 2, ("no Grafana credentials", "GRAFANA_TOKEN"), env={"GRAFANA_URL": "http://127.0.0.1:9"}),
    Case("env-not-utf8", PUSH, 2, (".env", "not UTF-8"), write(".env", b"GRAFANA_PASSWORD=\xff\xfe\n"), env=GRAFANA),
    Case("env-bad-line", PUSH, 2, (".env", "line(s) 2"), write(".env", f"GRAFANA_USER=admin\nGRAFANA_PASSWORD {SECRET}\n"), env={"GRAFANA_URL": "http://127.0.0.1:9"}),
    Case("unreachable", PUSH, 1, ("cannot reach Grafana at http://127.0.0.1:9",), write(".env", f"GRAFANA_USER=admin\nGRAFANA_PASSWORD={SECRET}\n"), env={"GRAFANA_URL": "http://127.0.0.1:9"}),
]  # fmt: skip


def test_there_are_at_least_forty_distinct_cases() -> None:
    assert len({case.id for case in CASES}) == len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, template: Path, tmp_path: Path) -> None:
    run_case(case, template, tmp_path)
