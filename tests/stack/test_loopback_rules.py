"""monitoring/loopback.py's rules one at a time, on small compose files written by the test: compose's
variable syntax, published ports, the deepest mount, flags rewritten to host paths, the messages of
what it refuses, the rendered prometheus.yml's header."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitoring import loopback
from monitoring.loopback import Compose, Endpoint, RenderError, interpolate


@pytest.mark.parametrize(
    ("value", "environ", "expected"),
    [
        ("${A:-x}", {}, "x"),
        ("${A:-x}", {"A": ""}, "x"),  # empty counts as unset for `:-`
        ("${A:-x}", {"A": "y"}, "y"),
        ("${A}", {}, ""),
        ("${A}", {"A": "y"}, "y"),
        ("${A:?set A}", {"A": "y"}, "y"),
        ("http://${H:-127.0.0.1}:${P:-3000}/p", {"P": "9"}, "http://127.0.0.1:9/p"),
        ("${A:-}", {}, ""),
    ],
)
def test_compose_variables_are_filled_as_compose_does(
    value: str, environ: dict[str, str], expected: str
) -> None:
    assert interpolate(value, environ) == expected


@pytest.mark.parametrize("environ", [{}, {"A": ""}])
def test_a_required_variable_unset_or_empty_is_refused_with_compose_message(environ: dict[str, str]) -> None:
    with pytest.raises(RenderError) as raised:
        interpolate("${A:?set A to the tenant list}", environ)
    assert str(raised.value) == "A: set A to the tenant list"


def write_compose(tmp_path: Path, services: dict[str, Any]) -> Compose:
    (tmp_path / "compose.yml").write_text(yaml.safe_dump({"services": services}))
    return Compose(tmp_path / "compose.yml")


def test_published_ports_with_and_without_a_bind_address(tmp_path: Path) -> None:
    compose = write_compose(
        tmp_path, {"svc": {"ports": ["${BIND:-127.0.0.1}:3001:3000", "9090:9091", "127.0.0.1:4317:4317"]}}
    )
    assert compose.published("svc") == {3000: 3001, 9091: 9090, 4317: 4317}


def test_a_command_given_as_one_string_is_split_into_arguments(tmp_path: Path) -> None:
    compose = write_compose(tmp_path, {"svc": {"command": "--a=1  --b /x"}, "none": {}})
    assert compose.command("svc") == ["--a=1", "--b", "/x"]
    assert compose.command("none") == []


def test_an_environment_as_a_list_is_read_like_a_mapping(tmp_path: Path) -> None:
    compose = write_compose(
        tmp_path,
        {
            "a": {"environment": ["X=${X:-1}", "URL=http://a:1/v1?q=a=b"]},
            "b": {"environment": {"X": "${X:-1}"}},
        },
    )
    assert compose.environment("a", {}) == {"X": "1", "URL": "http://a:1/v1?q=a=b"}
    assert compose.environment("b", {"X": "2"}) == {"X": "2"}


def test_an_unknown_service_is_named_with_the_compose_file(tmp_path: Path) -> None:
    compose = write_compose(tmp_path, {"svc": {}})
    with pytest.raises(RenderError) as raised:
        compose.service("svx")
    assert str(raised.value) == "compose.yml: no service 'svx'"


def test_the_deepest_mount_wins_and_a_volume_lives_in_the_run_folder(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    compose = write_compose(
        tmp_path,
        {"svc": {"volumes": ["./etc:/etc/svc", "./rules:/etc/svc/rules:ro", "svc-data:/data"]}},
    )
    run = tmp_path / "run"
    assert compose.host_path("svc", "/etc/svc/rules/a.yml", run) == tmp_path / "rules" / "a.yml"
    assert compose.host_path("svc", "/etc/svc/rules", run) == tmp_path / "rules"
    assert compose.host_path("svc", "/etc/svc/c.yml", run) == tmp_path / "etc" / "c.yml"
    assert compose.host_path("svc", "/data", run) == run / "svc-data"
    assert compose.host_path("svc", "/data/wal/00", run) == run / "svc-data" / "wal" / "00"


def test_a_path_beside_a_mount_is_not_under_it(tmp_path: Path) -> None:
    """`/etc/svcx` shares a prefix with the mount `/etc/svc` but is not inside it."""
    compose = write_compose(tmp_path, {"svc": {"volumes": ["./etc:/etc/svc"]}})
    with pytest.raises(RenderError) as raised:
        compose.host_path("svc", "/etc/svcx/c.yml", tmp_path)
    assert str(raised.value) == "svc: /etc/svcx/c.yml is not under any of its mounts in compose.yml"


def test_only_bind_mounted_files_are_config_files(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("a: 1\n")
    (tmp_path / "d").mkdir()
    compose = write_compose(
        tmp_path,
        {"svc": {"volumes": ["./c.yaml:/etc/c.yaml:ro", "./d:/etc/d", "vol:/v", "./gone.yaml:/g.yaml"]}},
    )
    assert compose.config_files("svc") == [tmp_path / "c.yaml"]


def test_an_env_reference_used_twice_keeps_its_first_default() -> None:
    text = "a: ${env:X:-1}\nb: ${env:Y:-0.0.0.0:4317}\nc: ${env:X:-2}\n"
    assert loopback.env_references(text) == {"X": "1", "Y": "0.0.0.0:4317"}


def test_a_host_and_its_port_variable_are_one_listener(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("h: ${env:METRICS_HOST:-0.0.0.0}\np: ${env:METRICS_PORT:-8888}\n")
    compose = write_compose(tmp_path, {"svc": {"volumes": ["./c.yaml:/etc/c.yaml"], "ports": ["14317:4317"]}})
    assert loopback.listen_ports(compose, "svc") == {8888, 4317}
    plan = loopback.plan(compose, ["svc"], tmp_path / "run", pick=lambda e: 40000 + e.port)
    assert loopback.config_environment(compose, "svc", plan) == {
        "METRICS_HOST": "127.0.0.1",
        "METRICS_PORT": "48888",
    }


def test_a_host_variable_without_its_port_says_which_port_variable_is_missing(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("h: ${env:METRICS_HOST:-0.0.0.0}\n")
    compose = write_compose(tmp_path, {"svc": {"volumes": ["./c.yaml:/etc/c.yaml"]}})
    with pytest.raises(RenderError) as raised:
        loopback.listen_ports(compose, "svc")
    assert (
        str(raised.value) == "${env:METRICS_HOST} listens on 0.0.0.0 but no METRICS_PORT says on which port"
    )


def test_two_listeners_given_one_port_are_named_both(tmp_path: Path) -> None:
    compose = write_compose(tmp_path, {"a": {"ports": ["3000:3000"]}, "b": {"ports": ["4000:4000"]}})
    with pytest.raises(RenderError) as raised:
        loopback.plan(compose, ["a", "b"], tmp_path, pick=lambda _: 1, published=False)
    assert str(raised.value) == "b:4000 and a:3000 were both given port 1"


def test_published_ports_are_used_only_when_asked_and_others_are_picked(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("a: ${env:GRPC:-0.0.0.0:4317}\n")
    compose = write_compose(tmp_path, {"svc": {"volumes": ["./c.yaml:/etc/c.yaml"], "ports": ["13000:3000"]}})
    picked = itertools.count(45000)
    asked: list[Endpoint] = []

    def pick(endpoint: Endpoint) -> int:
        asked.append(endpoint)
        return next(picked)

    plan = loopback.plan(compose, ["svc"], tmp_path, pick=pick)
    assert plan.ports == {Endpoint("svc", 3000): 13000, Endpoint("svc", 4317): 45000}
    assert asked == [Endpoint("svc", 4317)]
    assert (
        plan.url("svc", 3000) == "http://127.0.0.1:13000" and plan.address("svc", 4317) == "127.0.0.1:45000"
    )


def test_a_port_nothing_listens_on_is_named(tmp_path: Path) -> None:
    plan = loopback.Plan({Endpoint("svc", 3000): 13000}, tmp_path)
    with pytest.raises(RenderError) as raised:
        plan.port("svc", 3001)
    assert str(raised.value) == "svc:3001 is not part of the local stack (nothing listens there)"


def test_a_command_gets_host_paths_in_flags_and_positions_and_keeps_the_rest(tmp_path: Path) -> None:
    compose = write_compose(
        tmp_path,
        {
            "svc": {
                "volumes": ["./etc:/etc/svc", "data:/data"],
                "command": [
                    "--config=/etc/svc/c.yml",
                    "--retention=15d",
                    "/data",
                    "-v",
                    "--x=a=/data",
                    "label=/data",
                ],
            }
        },
    )
    plan = loopback.Plan({}, tmp_path / "run")
    rendered = {"/etc/svc/c.yml": tmp_path / "run" / "c.yml"}
    assert loopback.host_command(compose, "svc", plan) == [
        f"--config={tmp_path / 'etc' / 'c.yml'}",
        "--retention=15d",
        str(tmp_path / "run" / "data"),
        "-v",
        "--x=a=/data",
        "label=/data",  # not a flag: a value that merely holds `=`
    ]
    assert (
        loopback.host_command(compose, "svc", plan, rendered)[0] == f"--config={tmp_path / 'run' / 'c.yml'}"
    )


@pytest.mark.parametrize("command", [["--web.enable-lifecycle"], ["--config.file=/a", "--config.file=/b"]])
def test_prometheus_without_exactly_one_config_flag_is_refused(tmp_path: Path, command: list[str]) -> None:
    compose = write_compose(tmp_path, {"prometheus": {"command": command}})
    with pytest.raises(RenderError) as raised:
        loopback.prometheus_command(compose, loopback.Plan({}, tmp_path), tmp_path / "p.yml")
    assert str(raised.value) == f"expected one --config.file= in {command}"


def prometheus_compose(tmp_path: Path, config: dict[str, Any]) -> Compose:
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "rules").mkdir(exist_ok=True)
    return write_compose(
        tmp_path,
        {
            "prometheus": {
                "volumes": [
                    "./prometheus.yml:/etc/prometheus/prometheus.yml:ro",
                    "./rules:/etc/prometheus/rules",
                ],
                "command": ["--config.file=/etc/prometheus/prometheus.yml", "--web.enable-lifecycle"],
                "ports": ["9090:9090"],
            },
            "collector": {"ports": ["8889:8889"]},
        },
    )


def test_the_rendered_prometheus_config_is_written_with_a_do_not_edit_header(tmp_path: Path) -> None:
    config = {
        "rule_files": ["/etc/prometheus/rules/*.yml"],
        "scrape_configs": [{"job_name": "c", "static_configs": [{"targets": ["collector:8889"]}]}],
    }
    compose = prometheus_compose(tmp_path, config)
    plan = loopback.plan(compose, ["prometheus", "collector"], tmp_path / "run", pick=lambda _: 1)
    path = loopback.render_prometheus(compose, plan)
    assert path == tmp_path / "run" / "prometheus.yml"
    text = path.read_text()
    assert text.startswith(
        "# Rendered by monitoring/loopback.py from the committed prometheus.yml for a run on 127.0.0.1;\n"
        "# do not edit: it is written again at every start.\n"
    )
    rendered = yaml.safe_load(text)
    assert rendered["rule_files"] == [str(tmp_path / "rules" / "*.yml")]
    assert rendered["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:8889"]
    assert loopback.prometheus_command(compose, plan, path) == [
        f"--config.file={path}",
        "--web.enable-lifecycle",
        "--web.listen-address=127.0.0.1:9090",
    ]


def test_a_container_path_left_in_the_prometheus_config_is_refused(tmp_path: Path) -> None:
    config = {"scrape_configs": [{"job_name": "c", "bearer_token_file": "/etc/prometheus/rules/token"}]}
    compose = prometheus_compose(tmp_path, config)
    plan = loopback.plan(compose, ["prometheus"], tmp_path / "run", pick=lambda _: 1)
    with pytest.raises(RenderError) as raised:
        loopback.prometheus_config(compose, plan)
    assert (
        str(raised.value)
        == "prometheus.yml: '/etc/prometheus/rules/token' still points into the container network"
    )


def test_a_scrape_target_outside_the_stack_is_refused_naming_the_job(tmp_path: Path) -> None:
    config = {"scrape_configs": [{"job_name": "far", "static_configs": [{"targets": ["example.org:80"]}]}]}
    compose = prometheus_compose(tmp_path, config)
    plan = loopback.plan(compose, ["prometheus"], tmp_path / "run", pick=lambda _: 1)
    with pytest.raises(RenderError) as raised:
        loopback.prometheus_config(compose, plan)
    assert str(raised.value) == (
        "prometheus.yml: job far: 'example.org:80' names host 'example.org', which is no compose service"
    )


def test_a_peer_a_config_sends_to_is_not_a_port_it_listens_on(tmp_path: Path) -> None:
    """`${env:LOKI:-http://loki:3100/otlp}` is where the service sends, Loki's port: only the 0.0.0.0
    defaults are its own listeners. Counting the peer's port as its own would give the service a second
    127.0.0.1 port for nothing, and in compose mode try to take a port Loki publishes."""
    (tmp_path / "c.yaml").write_text("r: ${env:GRPC:-0.0.0.0:4317}\ne: ${env:LOKI:-http://loki:3100/otlp}\n")
    compose = write_compose(
        tmp_path, {"svc": {"volumes": ["./c.yaml:/etc/c.yaml"]}, "loki": {"ports": ["3100:3100"]}}
    )
    assert loopback.listen_ports(compose, "svc") == {4317}
    plan = loopback.plan(compose, ["svc", "loki"], tmp_path / "run", pick=lambda e: 40000 + e.port)
    assert set(plan.ports) == {Endpoint("svc", 4317), Endpoint("loki", 3100)}
    assert loopback.config_environment(compose, "svc", plan) == {
        "GRPC": "127.0.0.1:44317",
        "LOKI": "http://127.0.0.1:3100/otlp",
    }


def test_a_mount_point_itself_left_in_the_prometheus_config_is_refused(tmp_path: Path) -> None:
    """The folder compose mounts (`/etc/prometheus/rules`) is as much a container path as a file under
    it: on this machine Prometheus would look for it at the root of the disk."""
    config = {
        "scrape_configs": [{"job_name": "c", "file_sd_configs": [{"files": ["/etc/prometheus/rules"]}]}]
    }
    compose = prometheus_compose(tmp_path, config)
    plan = loopback.plan(compose, ["prometheus"], tmp_path / "run", pick=lambda _: 1)
    with pytest.raises(RenderError) as raised:
        loopback.prometheus_config(compose, plan)
    assert str(raised.value) == (
        "prometheus.yml: '/etc/prometheus/rules' still points into the container network"
    )


def alertmanager_compose(tmp_path: Path, config: dict[str, Any]) -> Compose:
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
    (tmp_path / "secrets").mkdir(exist_ok=True)
    return write_compose(
        tmp_path,
        {
            "alertmanager": {
                "volumes": [
                    "./alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro",
                    "./secrets:/etc/alertmanager/secrets:ro",
                ],
                "command": ["--config.file=/etc/alertmanager/alertmanager.yml"],
                "ports": ["9093:9093"],
            }
        },
    )


def test_every_credential_file_alertmanager_reads_is_found_where_compose_mounts_it(tmp_path: Path) -> None:
    """Alertmanager reads each secret from a `*_file` field (`url_file`, `bot_token_file`,
    `auth_password_file`, a TLS `ca_file`...), never from the environment: each container path becomes
    the file under the mounted folder, whatever the receiver type, and nothing else is touched."""
    secret = "/etc/alertmanager/secrets"
    config = {
        "route": {"receiver": "all"},
        "receivers": [
            {
                "name": "all",
                "webhook_configs": [{"url_file": f"{secret}/hook", "send_resolved": True}],
                "telegram_configs": [{"bot_token_file": f"{secret}/bot", "chat_id": 7}],
                "email_configs": [
                    {
                        "to": "a@example.org",
                        "auth_password_file": f"{secret}/smtp",
                        "tls_config": {"ca_file": f"{secret}/ca"},
                    }
                ],
            }
        ],
    }
    compose = alertmanager_compose(tmp_path, config)
    plan = loopback.plan(compose, ["alertmanager"], tmp_path / "run", pick=lambda _: 1)
    receiver = loopback.alertmanager_config(compose, plan)["receivers"][0]
    on_disk = tmp_path / "secrets"
    assert receiver["webhook_configs"] == [{"url_file": str(on_disk / "hook"), "send_resolved": True}]
    assert receiver["telegram_configs"] == [{"bot_token_file": str(on_disk / "bot"), "chat_id": 7}]
    assert receiver["email_configs"] == [
        {
            "to": "a@example.org",
            "auth_password_file": str(on_disk / "smtp"),
            "tls_config": {"ca_file": str(on_disk / "ca")},
        }
    ]
