"""monitoring/loopback.py at the edges its docstrings name: a bind mount from an absolute host path, a
port variable that is not a port, a service's address left outside the scrape targets."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from monitoring import loopback
from monitoring.loopback import Mount, RenderError
from tests.stack.test_loopback_rules import prometheus_compose, write_compose


def test_a_source_from_the_root_is_a_bind_mount_not_a_volume(tmp_path: Path) -> None:
    """Mount.source: a bind mount is relative to the compose file (`./...`) or absolute (`/...`, as
    vector's /var/run/docker.sock); only a bare name is a named volume, which lives in the run folder.
    An absolute source read as a volume would send the container path to `<run folder>/var/run/...`."""
    assert not Mount("/var/run/docker.sock", PurePosixPath("/var/run/docker.sock")).is_volume
    assert not Mount("./rules", PurePosixPath("/etc/rules")).is_volume
    assert Mount("jaeger-data", PurePosixPath("/badger")).is_volume
    host = tmp_path / "host"
    host.mkdir()
    compose = write_compose(tmp_path, {"svc": {"volumes": [f"{host}:/etc/conf:ro", "data:/data"]}})
    assert compose.host_path("svc", "/etc/conf/a.yml", tmp_path / "run") == host / "a.yml"
    assert compose.host_path("svc", "/data", tmp_path / "run") == tmp_path / "run" / "data"


@pytest.mark.parametrize("port", ["", "http", "88x"])
def test_a_port_variable_that_holds_no_port_is_refused_by_name(tmp_path: Path, port: str) -> None:
    """`X_HOST` on 0.0.0.0 is one listener with its `X_PORT`: a port default that is no number is the
    same mistake as a missing one, refused by name (RenderError), never a Python ValueError."""
    (tmp_path / "c.yaml").write_text(
        f"h: ${{env:METRICS_HOST:-0.0.0.0}}\np: ${{env:METRICS_PORT:-{port}}}\n", encoding="utf-8"
    )
    compose = write_compose(tmp_path, {"svc": {"volumes": ["./c.yaml:/c.yaml"]}})
    with pytest.raises(RenderError) as raised:
        loopback.listen_ports(compose, "svc")
    assert str(raised.value) == (
        "${env:METRICS_HOST} listens on 0.0.0.0 but no METRICS_PORT says on which port"
    )


def test_a_service_address_outside_the_scrape_targets_is_refused(tmp_path: Path) -> None:
    """ "No string left that names a compose service's address": only scrape and Alertmanager targets
    are rewritten, so a peer anywhere else in prometheus.yml (a remote write) would still point into
    the container network on 127.0.0.1. It is refused, with the value."""
    config = {"remote_write": [{"url": "http://collector:8889/api/v1/write"}], "scrape_configs": []}
    compose = prometheus_compose(tmp_path, config)
    plan = loopback.plan(compose, ["prometheus", "collector"], tmp_path / "run", pick=lambda _: 1)
    with pytest.raises(RenderError) as raised:
        loopback.prometheus_config(compose, plan)
    assert str(raised.value) == (
        "prometheus.yml: 'http://collector:8889/api/v1/write' still points into the container network"
    )
