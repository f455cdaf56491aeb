"""Who is told: each severity reaches the receiver that reads ITS file, the file Alertmanager reads is
where the compose file mounts the secrets, and a missing file fails the notification (counted per
receiver) without stopping the other receiver.

The README (the Alertmanager row of the stack table) is the spec: "put `page-webhook-url` and
`ticket-webhook-url` there", in `alertmanager/secrets/`, mounted by
monitoring/docker-compose.observability.yml. Everything is read from the configuration rendered now
and checked with the real amtool and Alertmanager (`make tools`).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from dashboards_as_code.defaults import TENANT_LABEL
from dashboards_as_code.external_tools import ALERTMANAGER
from prometheus_rules.slo import SLO_LABEL
from tests.alertmanager.server import running_alertmanager
from tests.alertmanager.test_routing import _alerts, _labels, _route, config
from tests.conftest import REPO
from tests.local_http import free_port
from tests.tooling import require_tool

__all__ = ["config"]  # the rendered configuration, a module fixture shared with test_routing.py

URL_FILE_OF_SEVERITY = {"page": "page-webhook-url", "ticket": "ticket-webhook-url"}
"""The README: a page reaches whoever `page-webhook-url` names, a ticket whoever `ticket-webhook-url`
names (two people: the on-call, the support desk)."""


def _url_files(rendered: dict[str, Any]) -> dict[str, list[str]]:
    """Per receiver of the rendered configuration, the url_file of each of its webhooks."""
    return {
        receiver["name"]: [hook["url_file"] for hook in receiver.get("webhook_configs", [])]
        for receiver in rendered["receivers"]
    }


@pytest.mark.parametrize(
    ("severity", "url_file"), sorted(URL_FILE_OF_SEVERITY.items()), ids=sorted(URL_FILE_OF_SEVERITY)
)
def test_each_severity_reaches_the_receiver_reading_its_own_url_file(
    config: Path, severity: str, url_file: str
) -> None:
    files = _url_files(yaml.safe_load(config.read_text()))
    alerts = [a for a in _alerts() if a.severity == severity]
    assert alerts, f"the project has no {severity} alert"
    for alert in alerts:
        for labels in (_labels(alert), _labels(alert, **{TENANT_LABEL: "tenant-001"})):
            receiver = _route(config, labels)
            assert [PurePosixPath(path).name for path in files.get(receiver, [])] == [url_file], (
                f"{alert.alert} ({severity}) reaches receiver {receiver!r}, which reads "
                f"{files.get(receiver)}, not {url_file}"
            )


def _secrets_mount() -> tuple[str, str]:
    """The compose Alertmanager's mount of monitoring/alertmanager/secrets: (target, mode)."""
    compose = yaml.safe_load((REPO / "monitoring" / "docker-compose.observability.yml").read_text())
    mounts = [str(v).split(":") for v in compose["services"]["alertmanager"]["volumes"]]
    found = [m for m in mounts if m[0].rstrip("/") == "./alertmanager/secrets"]
    assert len(found) == 1, f"the compose Alertmanager mounts ./alertmanager/secrets {len(found)} times"
    (mount,) = found
    return mount[1], (mount[2] if len(mount) > 2 else "rw")


def test_every_url_file_is_in_the_secrets_directory_the_compose_file_mounts(config: Path) -> None:
    """A url_file outside the mount is a file that never exists in the container: every notification
    of that receiver fails. The mount is read-only (Alertmanager only reads its secrets)."""
    target, mode = _secrets_mount()
    assert mode == "ro"
    every = [path for paths in _url_files(yaml.safe_load(config.read_text())).values() for path in paths]
    assert sorted(PurePosixPath(path).name for path in every) == sorted(URL_FILE_OF_SEVERITY.values())
    for path in every:
        assert str(PurePosixPath(path).parent) == target.rstrip("/"), f"{path} is not under {target}"


class _Hook:
    """A webhook receiver on 127.0.0.1: the alert names each POST carried."""

    def __init__(self) -> None:
        self.received: list[str] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.received.extend(a["labels"]["alertname"] for a in body["alerts"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


@contextmanager
def _hook() -> Iterator[_Hook]:
    hook = _Hook()
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()


def _failed(url: str, receiver: str) -> float:
    """alertmanager_notifications_failed_total of `receiver`, over its integrations."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    pattern = re.compile(r"^alertmanager_notifications_failed_total\{([^}]*)\} (\S+)$", re.M)
    return sum(
        float(value) for labels, value in pattern.findall(text) if f'receiver_name="{receiver}"' in labels
    )


def test_a_missing_url_file_fails_that_receivers_notifications_only(config: Path, tmp_path: Path) -> None:
    """The page file is there, the ticket file is not (routing.py: "A missing file fails each
    notification, which Alertmanager counts"): the page reaches the page URL, the ticket fails and is
    counted under receiver_name `ticket` (what TikTicketsAlertmanagerNotificationsFailing reads), and
    the page URL never gets the ticket. The timings are shortened (group_wait 0s) so the test does not
    wait for the ticket's 2 minutes; routes, receivers and files are the rendered ones."""
    binary = require_tool(ALERTMANAGER)
    rendered = yaml.safe_load(config.read_text())
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for receiver in rendered["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url_file"] = str(secrets / PurePosixPath(hook["url_file"]).name)
    for route in rendered["route"].get("routes", []):
        route["group_wait"] = "0s"
    quick = tmp_path / "alertmanager.yml"
    quick.write_text(yaml.safe_dump(rendered))
    page = next(a for a in _alerts() if a.severity == "page")
    # A ticket no page of this test silences (an SLO's page silences its SLO's tickets).
    ticket = next(a for a in _alerts() if a.severity == "ticket" and SLO_LABEL not in a.labels)
    with _hook() as hook:
        (secrets / "page-webhook-url").write_text(hook.url + "\n")
        with running_alertmanager(binary, quick, tmp_path, "--enable-feature=receiver-name-in-metrics") as am:
            am.post_alerts(_labels(page), _labels(ticket))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not (hook.received and _failed(am.url, "ticket") > 0):
                time.sleep(0.2)
            assert hook.received == [page.alert], f"the page URL got {hook.received}"
            assert _failed(am.url, "ticket") > 0, "the ticket's missing URL file was not counted as a failure"
            assert _failed(am.url, "page") == 0
