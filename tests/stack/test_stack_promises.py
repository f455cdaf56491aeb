"""What the comments of the compose file and prometheus.yml, and `make stack`'s own lines, promise:
each test reads the committed file and holds one sentence to it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from monitoring import local_stack
from monitoring.loopback import Endpoint, Plan
from telemetry.contract import RESOURCE
from tests.stack.conftest import MONITORING, interpolate, load

SECONDS = {"s": 1, "m": 60, "h": 3600}


def seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)([smh])", duration)
    assert match is not None, duration
    return int(match[1]) * SECONDS[match[2]]


def test_the_compose_demo_reports_as_the_service_the_dashboards_query(compose: dict[str, Any]) -> None:
    """The demo sends "the way the real backend sends it": as the contract's service, so its series
    carry the job the dashboards and rules select (tiktickets/tiktickets-backend)."""
    environment = compose["services"]["demo"]["environment"]
    assert interpolate(str(environment["OTEL_SERVICE_NAME"])) == RESOURCE.service_name


def test_jaeger_runs_as_root_because_its_data_is_a_fresh_named_volume(compose: dict[str, Any]) -> None:
    """The comment: "The image's own user cannot write to a fresh named volume (it is created owned by
    root)": Jaeger runs as 0:0, and what it writes, /badger, is such a volume (not a bind mount)."""
    jaeger = compose["services"]["jaeger"]
    assert jaeger["user"] == "0:0"
    sources = {volume.split(":")[1]: volume.split(":")[0] for volume in jaeger["volumes"]}
    assert sources["/badger"] in compose["volumes"]


def test_the_collector_runs_as_root_because_its_queue_is_a_fresh_named_volume(
    compose: dict[str, Any], collector: dict[str, Any]
) -> None:
    """The same sentence for the Collector: it runs as 0:0, and the folder its file_storage writes
    the sending queues to is a named volume."""
    service = compose["services"]["otel-collector"]
    assert service["user"] == "0:0"
    sources = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}
    folders = [
        e["directory"] for name, e in collector["extensions"].items() if name.startswith("file_storage")
    ]
    assert folders and all(sources.get(folder) in compose["volumes"] for folder in folders), (
        folders,
        sources,
    )


def test_every_host_path_mounted_outside_the_project_states_its_risk_beside_it() -> None:
    """The Docker socket (Vector) is the one mount from the host outside monitoring/: it grants the
    whole Docker API, read-only flag or not. The compose file says so in the comment right above it,
    and the README's stack section names it."""
    lines = (MONITORING / "docker-compose.observability.yml").read_text().splitlines()
    outside = [n for n, line in enumerate(lines) if re.match(r"\s*- /", line)]
    assert outside, "no host path mounted: the test would prove nothing"
    for n in outside:
        comment = []
        for above in reversed(lines[:n]):
            if not above.strip().startswith("#"):
                break
            comment.append(above)
        assert any("RISK" in line for line in comment), f"no RISK comment above {lines[n].strip()}"
    readme = (MONITORING.parent / "README.md").read_text()
    assert "Vector and the Docker socket" in readme


def test_the_announcement_says_the_scrape_and_rule_intervals_the_stack_runs_at(tmp_path: Path) -> None:
    """`make stack` says "the Overview fills within about a minute: 15 s scrapes, rules every 30 s":
    the scrape interval of the committed prometheus.yml and the fastest rule group's interval."""
    ports = {("prometheus", 9090): 19090, ("loki", 3100): 13100, ("grafana", 3000): 13001}
    plan = Plan({Endpoint(*e): p for e, p in {**ports, ("otel-collector", 4318): 14318}.items()}, tmp_path)
    text = local_stack._announcement(tmp_path, plan, [])
    said = re.search(r"(\d+) s scrapes, rules every (\d+) s", text)
    assert said is not None, text
    prometheus = load(MONITORING / "prometheus" / "prometheus.yml")
    assert int(said[1]) == seconds(prometheus["global"]["scrape_interval"])
    for job in prometheus["scrape_configs"]:
        assert "scrape_interval" not in job, f"{job['job_name']} scrapes at its own pace"
    groups = [
        group
        for path in sorted((MONITORING / "prometheus" / "rules").glob("*.yml"))
        for group in load(path)["groups"]
    ]
    intervals = [
        seconds(group.get("interval", prometheus["global"]["evaluation_interval"])) for group in groups
    ]
    assert int(said[2]) == min(intervals)


def test_the_compose_demo_runs_at_the_demos_own_defaults_as_the_readme_says(compose: dict[str, Any]) -> None:
    """The compose demo (and `make stack`'s, which takes its environment from compose) runs as
    `node demo.js` does with nothing set: the README's "20 requests/s in all" over its tenants."""
    source = (MONITORING / "demo" / "demo.js").read_text(encoding="utf-8")
    environment = compose["services"]["demo"]["environment"]
    for knob in ("DEMO_TENANTS", "DEMO_RPS"):
        default = re.search(rf"knob\('{knob}', (\d+),", source)
        assert default is not None, knob
        assert interpolate(str(environment[knob])) == default[1], knob
    readme = (MONITORING.parent / "README.md").read_text(encoding="utf-8")
    assert f"({interpolate(str(environment['DEMO_RPS']))}\n  requests/s in all)" in readme
