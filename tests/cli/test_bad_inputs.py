"""Bad input, tried as a new user would, through the real entry point on a copy of the project.

For every case: the exit code (2 bad definitions or settings, 1 failed check or write, 130 an
interrupt), no traceback, a message naming the file / dashboard / panel / setting, no secret in
the output, nothing written outside the project, and `git status` of the copy unchanged when the
command failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import DEFINITIONS, OUTPUTS, REPO

SECRET = "s3cr3tpw"
Mutation = Callable[[Path], None]


def write(relative: str, text: str | bytes) -> Mutation:
    def apply(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    return apply


def replace(relative: str, old: str, new: str) -> Mutation:
    def apply(root: Path) -> None:
        path = root / relative
        text = path.read_text()
        assert old in text, f"{relative} has no {old!r}: the case no longer plants its fault"
        path.write_text(text.replace(old, new, 1))

    return apply


def symlink_loop(relative: str) -> Mutation:
    def apply(root: Path) -> None:
        (root / relative).symlink_to(Path(relative).name)

    return apply


def folder_is_a_file(relative: str) -> Mutation:
    def apply(root: Path) -> None:
        shutil.rmtree(root / relative)
        (root / relative).write_text("a file where a folder should be\n")

    return apply


def both(*mutations: Mutation) -> Mutation:
    def apply(root: Path) -> None:
        for mutation in mutations:
            mutation(root)

    return apply


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    says: tuple[str, ...]
    mutate: Mutation = lambda _: None
    env: dict[str, str] = field(default_factory=dict)


OVERVIEW = "dashboards/overview.py"
CONTRACT = "telemetry/contract.py"
BUILD, CHECK, PUSH = ("build",), ("check",), ("push", "--dry-run")
GRAFANA = {"GRAFANA_URL": "http://127.0.0.1:9", "GRAFANA_TOKEN": "glsa_x"}
BOARD = "from dashboards.overview import dashboard as _overview\n\n\ndef dashboard():\n{body}\n"


def dashboard_body(body: str) -> Mutation:
    return write("dashboards/extra.py", BOARD.format(body=body))


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


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "project"
    root.mkdir()
    for name in DEFINITIONS + OUTPUTS:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "config.py", root / "config.py")
    (root / ".gitignore").write_text("__pycache__/\n.cache/\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "copy"], check=True)
    return root


def _status(root: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def test_there_are_at_least_forty_distinct_cases() -> None:
    assert len({case.id for case in CASES}) == len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, template: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(template, project, symlinks=True)
    case.mutate(project)
    before, outside = (
        _status(project),
        _tree(tmp_path) - {p for p in _tree(tmp_path) if p.startswith("project")},
    )
    args = [a if a != "/nonexistent/project" else str(tmp_path / "missing") for a in case.args]
    if args[0] != "pull" and "--project" not in args:
        args += ["--project", str(project)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAFANA_")} | case.env
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == case.code, output
    assert "Traceback" not in output, output
    for fragment in case.says:
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    assert SECRET not in output
    assert {p for p in _tree(tmp_path) if not p.startswith("project")} == outside  # nothing outside
    assert _status(project) == before, "a failed command changed the project"
