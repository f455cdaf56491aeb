"""push under adverse conditions: provisioned targets, bad credentials, Grafana down or flaky."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.kinds.dashboard import dashboard_document
from dashboards_as_code.render.documents import build_documents
from tests.conftest import REPO, push_writes
from tests.grafana_api.conftest import Target, cli
from tests.grafana_api.test_push import SECOND_DASHBOARD
from tests.grafana_server.server import Fault


def test_provisioned_targets_are_skipped_with_a_clear_message(fake: Target, project_copy: Path) -> None:
    assert fake.server is not None
    project = load_project(REPO)
    fake.server.state.folders["tiktickets"] = {
        "id": 1,
        "uid": "tiktickets",
        "title": "TikTickets",
        "version": 1,
    }
    for definition in project.dashboards:  # Grafana provisions them all from provisioning/
        fake.server.provision_dashboard(dashboard_document(definition), "tiktickets")
    fake.server.provision_datasources(build_documents(project).datasources["datasources"])

    result = cli(fake, "push", "--force", project=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "provisioned dashboard tiktickets-overview: Grafana loads this dashboard from provisioning files; "
        "it updates from provisioning/"
    ) in result.stdout
    assert "provisioned datasource loki" in result.stdout
    assert fake.server.state.writes == []  # no doomed write, no obscure 400


def test_diff_against_a_grafana_that_provisions_everything_from_files_matches(
    fake: Target, project_copy: Path
) -> None:
    """The compose stack's Grafana loads the dashboards and datasources from provisioning/: push
    leaves those alone, so `diff` has nothing to report there and exits 0 (a CI step that runs `diff`
    against such a Grafana must not fail on objects push may never write)."""
    assert fake.server is not None
    project = load_project(REPO)
    for folder in {d.folder.uid: d.folder for d in project.dashboards}.values():
        fake.server.state.folders[folder.uid] = {
            "id": 1,
            "uid": folder.uid,
            "title": folder.title,
            "version": 1,
        }
    for dashboard in project.dashboards:
        fake.server.provision_dashboard(dashboard_document(dashboard), dashboard.folder.uid)
    fake.server.provision_datasources(build_documents(project).datasources["datasources"])

    result = cli(fake, "diff", project=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches the definitions" in result.stdout


def test_wrong_token_says_which_credential_and_never_prints_it(fake: Target, project_copy: Path) -> None:
    result = cli(fake, "push", project=project_copy, credentials={"GRAFANA_TOKEN": "glsa_wrong-secret-4711"})
    assert result.returncode == 1
    assert "rejected the credentials (401)" in result.stderr
    assert "GRAFANA_TOKEN" in result.stderr
    assert "wrong-secret-4711" not in result.stdout + result.stderr


def test_wrong_password_is_never_printed(fake: Target, project_copy: Path) -> None:
    credentials = {"GRAFANA_USER": "admin", "GRAFANA_PASSWORD": "hunter2-do-not-print"}
    result = cli(fake, "diff", project=project_copy, credentials=credentials)
    assert result.returncode == 2
    assert "401" in result.stderr and "hunter2" not in result.stdout + result.stderr


def test_missing_credentials(fake: Target, project_copy: Path) -> None:
    result = cli(fake, "push", project=project_copy, credentials={"GRAFANA_NOTHING": "x"})
    assert result.returncode == 2
    assert "set GRAFANA_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_viewer_token_gets_a_permission_message(fake: Target, project_copy: Path) -> None:
    result = cli(fake, "push", project=project_copy, credentials={"GRAFANA_TOKEN": "glsa_viewer"})
    assert result.returncode == 1
    assert (
        "failed     folder tiktickets: permission denied (403) to create folder 'TikTickets'" in result.stdout
    )
    assert "Editor role" in result.stdout


def test_editor_token_writes_dashboards_and_reports_the_datasources(fake: Target, project_copy: Path) -> None:
    """Datasources and correlations need the Admin role: each fails on its own, the dashboards land."""
    assert fake.server is not None
    result = cli(fake, "push", project=project_copy, credentials={"GRAFANA_TOKEN": "glsa_editor"})
    assert result.returncode == 1  # something failed...
    assert "failed     datasource prometheus: permission denied (403)" in result.stdout
    project = load_project(project_copy)
    for correlation in project.definitions["correlation"]:
        assert f"failed     correlation {correlation.key}: permission denied (403)" in result.stdout
    assert "Admin role" in result.stdout
    assert "tiktickets-overview" in fake.server.state.dashboards  # ...but not everything
    admin_only = len(project.datasources) + len(project.definitions["correlation"])
    assert f"{admin_only} failed" in result.stdout  # one per datasource and correlation


def test_grafana_down_names_the_url_and_how_to_start_it(project_copy: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens once the probe closes
    started = time.monotonic()
    result = cli(url, "push", project=project_copy)
    assert result.returncode == 1
    assert f"cannot reach Grafana at {url} (connection refused" in result.stderr
    assert "docker compose -f docker-compose.observability.yml up -d" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30  # retries are bounded
    assert cli(url, "diff", project=project_copy).returncode == 2


def test_flaky_grafana_converges_and_loses_nothing(fake: Target, project_copy: Path) -> None:
    assert fake.server is not None
    (project_copy / "dashboards" / "second.py").write_text(SECOND_DASHBOARD)
    fake.server.state.failure_rate = 0.25  # 503s, connections reset, responses lost after the write
    result = cli(fake, "push", project=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    retries = int(result.stdout.rsplit(" writes, ", 1)[1].split(" retries")[0])
    assert retries > 0
    fake.server.state.failure_rate = 0
    project = load_project(project_copy)
    assert set(fake.server.state.dashboards) == {d.uid for d in project.dashboards}
    assert "tiktickets-overview-copy" in fake.server.state.dashboards
    assert set(fake.server.state.datasources) == {d.uid for d in project.datasources}
    again = cli(fake, "push", project=project_copy)
    assert f"{push_writes(project)} unchanged" in again.stdout and ", 0 writes," in again.stdout


def test_a_lost_response_to_a_save_is_recognised_as_our_own_write(fake: Target, project_copy: Path) -> None:
    assert fake.server is not None
    fake.server.state.faults.append(Fault("drop", "POST", "/api/dashboards/db"))
    result = cli(fake, "push", project=project_copy)
    assert result.returncode == 0, result.stdout
    dashboards = load_project(project_copy).dashboards
    for definition in dashboards:
        assert f"created    dashboard {definition.uid}" in result.stdout, result.stdout
    saves = [r for r in fake.server.state.requests if r[:2] == ("POST", "/api/dashboards/db")]
    # One save per dashboard, each written (200); one more, the retry of the save whose answer was
    # lost, meeting that very write (412: the version it expected is gone, ours is there).
    assert sorted(status for _, _, status in saves) == [200] * len(dashboards) + [412]


@pytest.mark.parametrize("kind", ["folder", "datasource"])
def test_a_lost_response_to_a_create_is_recognised_as_our_own_write(
    fake: Target, project_copy: Path, kind: str
) -> None:
    """A folder or datasource create whose answer is lost (a proxy timeout, a reset after Grafana
    wrote) is retried, and Grafana refuses the retry with a 409: the object exists, because our own
    first create made it. push must see that Grafana holds what it wanted and report it created, not
    fail; the next push finds nothing to do."""
    assert fake.server is not None
    project = load_project(project_copy)
    create = f"/api/{kind}s"
    fake.server.state.faults.append(Fault("drop", "POST", create))
    result = cli(fake, "push", project=project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    uids = (
        sorted({d.folder.uid for d in project.dashboards})
        if kind == "folder"
        else [d.uid for d in project.datasources]
    )
    for uid in uids:
        assert f"created    {kind} {uid}" in result.stdout, result.stdout
    creates = [
        status for method, path, status in fake.server.state.requests if (method, path) == ("POST", create)
    ]
    assert creates[:2] == [200, 409], creates  # the create, then the retry meeting it
    assert creates.count(200) == len(uids) and creates.count(409) == 1, creates
    again = cli(fake, "push", project=project_copy)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{push_writes(project)} unchanged" in again.stdout and ", 0 writes," in again.stdout


def test_one_failing_dashboard_does_not_stop_the_others(fake: Target, project_copy: Path) -> None:
    assert fake.server is not None
    (project_copy / "dashboards" / "second.py").write_text(SECOND_DASHBOARD)
    path = "/api/dashboards/uid/tiktickets-overview-copy"
    fake.server.state.faults += [Fault("503", "GET", path) for _ in range(5)]
    result = cli(fake, "push", project=project_copy)
    assert result.returncode == 1
    assert "failed     dashboard tiktickets-overview-copy: Grafana at" in result.stdout
    assert "failed 5 times" in result.stdout
    assert "1 failed" in result.stdout
    assert "tiktickets-overview" in fake.server.state.dashboards


def test_a_request_that_times_out_is_retried(fake: Target, project_copy: Path) -> None:
    assert fake.server is not None
    fake.server.state.faults.append(Fault("slow", "GET", "/api/dashboards/uid/"))
    result = cli(fake, "push", project=project_copy, extra_env={"GRAFANA_TIMEOUT": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    retries = int(result.stdout.rsplit(" writes, ", 1)[1].split(" retries")[0])
    assert retries >= 1
    assert "tiktickets-overview" in fake.server.state.dashboards


class _NotGrafana(BaseHTTPRequestHandler):
    """A web server that is not Grafana: every path answers the same HTML page with `status`."""

    status = 200

    def do_GET(self) -> None:
        body = b"<!doctype html><html><body>Welcome to nginx!</body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.mark.parametrize("status", [200, 404])
@pytest.mark.parametrize("command", [["push"], ["diff"], ["pull", "tiktickets-overview"]])
def test_a_server_that_is_not_grafana_is_named_before_anything_is_sent(
    status: int, command: list[str], project_copy: Path
) -> None:
    handler = type("Handler", (_NotGrafana,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = cli(f"http://127.0.0.1:{server.server_address[1]}", *command, project=project_copy)
    finally:
        server.shutdown()
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and "nginx" not in output
    assert "/api/health" in output and "is GRAFANA_URL the Grafana root" in output


@pytest.mark.parametrize("path", ["/grafana", "/d/tiktickets-overview/tiktickets-overview"])
def test_a_url_with_a_path_grafana_does_not_serve(fake: Target, project_copy: Path, path: str) -> None:
    result = cli(fake.url + path, "diff", project=project_copy)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert "answered 404 for /api/health: is GRAFANA_URL the Grafana root" in output


def test_a_save_in_grafana_between_plan_and_apply_is_a_conflict_not_a_success(
    fake: Target, project_copy: Path
) -> None:
    """The plan saw our version; a person saves before our write lands: Grafana keeps theirs (412)."""
    assert fake.server is not None
    assert cli(fake, "push", project=project_copy).returncode == 0
    overview = project_copy / "dashboards" / "overview.py"
    overview.write_text(overview.read_text().replace('"Recent error logs"', '"Latest error logs"'))
    fake.server.state.faults.append(Fault("user-save", "POST", "/api/dashboards/db"))
    result = cli(fake, "push", project=project_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "conflict   dashboard tiktickets-overview" in result.stdout
    assert "412 version-mismatch" in result.stdout
    assert fake.server.state.dashboards["tiktickets-overview"]["dashboard"]["title"] == "Edited in Grafana"


@pytest.mark.parametrize(
    "made",
    [
        ("/api/folders", "folder", "tiktickets", "folders"),
        ("/api/datasources", "datasource", "prometheus", "datasources"),
    ],
)
def test_an_object_made_in_grafana_between_plan_and_apply_is_not_taken_for_ours(
    fake: Target, project_copy: Path, made: tuple[str, str, str, str]
) -> None:
    """409 on create means "ours landed" only when Grafana now holds exactly our object."""
    path, kind, uid, state = made
    assert fake.server is not None
    fake.server.state.faults.append(Fault("user-save", "POST", path))
    result = cli(fake, "push", project=project_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert uid not in getattr(fake.server.state, state)
    assert f"{kind} {uid}" in result.stdout and "409" in result.stdout
