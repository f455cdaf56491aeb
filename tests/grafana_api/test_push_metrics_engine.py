"""`push` of a datasource that `metrics_engine` moved to Cortex: its tenant is a write-only value."""

from __future__ import annotations

from pathlib import Path

from tests.grafana_api.conftest import Target, cli, server_of
from tests.test_metrics_engine import with_setting


def test_push_sends_the_tenant_once_and_a_changed_tenant_again(fake: Target, project_copy: Path) -> None:
    """Grafana never gives a secure value back, so the tenant is compared through its hash: the first
    push writes it, a second writes nothing, a changed tenant is pushed."""
    project = with_setting(project_copy)
    server = server_of(fake)
    first = cli(fake, "push", project=project)
    assert first.returncode == 0, first.stdout + first.stderr
    assert server.state.secure_values["prometheus"] == {"httpHeaderValue1": "env-prod"}
    assert "env-prod" not in first.stdout + first.stderr
    writes = len(server.state.writes)
    again = cli(fake, "push", project=project)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(server.state.writes) == writes, "a second push rewrote something"
    config = project / "config.py"
    config.write_text(config.read_text().replace('tenant="env-prod"', 'tenant="env-staging"'))
    third = cli(fake, "push", project=project)
    assert third.returncode == 0, third.stdout + third.stderr
    assert server.state.secure_values["prometheus"] == {"httpHeaderValue1": "env-staging"}
    assert "env-staging" not in third.stdout + third.stderr
