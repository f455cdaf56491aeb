"""A missing external tool is a skip with an install hint on a laptop and a failure in CI; `make build`
installs only what `build` runs, and the programs built from Go modules come with `make test` and
`make stack`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dashboards_as_code.external_tools import Tool, ToolMissingError
from dashboards_as_code.lint.checks import logql
from tests.conftest import REPO
from tests.lint.builders import check, context
from tests.tooling import require_tool

ABSENT = Tool("tiktickets-no-such-tool", "apt-get install tiktickets-no-such-tool")


def test_missing_tool_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="apt-get install tiktickets-no-such-tool"):
        require_tool(ABSENT)


def test_missing_tool_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and tiktickets-no-such-tool is not installed"):
        require_tool(ABSENT)


@pytest.mark.parametrize(("ci", "severity"), [("true", "error"), ("false", "warning")])
def test_logql_rule_without_node(overview, monkeypatch: pytest.MonkeyPatch, ci: str, severity: str) -> None:  # type: ignore[no-untyped-def]
    def missing(*_: object) -> object:
        raise ToolMissingError(ABSENT)

    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(logql, "inspect", missing)
    (finding,) = check(logql.CHECK, context(overview))
    assert finding.severity == severity
    assert "Loki queries not checked" in finding.message and "apt-get install" in finding.message


GO_BUILDS = ("scripts/build-otelcol", "scripts/build-gotools", "install-tools go", "install-tools all")
"""What builds the Collector, Prometheus 3 and Jaeger from Go modules (minutes on a fresh machine)."""


def _make_dry_run(*arguments: str) -> str:
    """What `make` would run, prerequisites included, as if nothing were built yet (-B): nothing runs."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_make_build_needs_no_go_program_and_no_dev_extra() -> None:
    """`make build` on a fresh machine: the project's own packages and the checkers `build` runs, in
    about a minute; the Go programs and the dev extra are for `make test` and `make stack`."""
    commands = _make_dry_run("build")
    for go_build in GO_BUILDS:
        assert go_build not in commands, f"`make build` would run {go_build}:\n{commands}"
    assert "install-tools checkers" in commands and "build.py build" in commands
    assert "pip install --quiet -e ." in commands and "[dev]" not in commands, commands


@pytest.mark.parametrize("target", ["test", "stack"])
def test_make_test_and_stack_build_the_go_programs(target: str) -> None:
    commands = _make_dry_run(target)
    for go_build in ("scripts/build-otelcol", "scripts/build-gotools"):
        assert go_build in commands, f"`make {target}` would not run {go_build}:\n{commands}"
    assert "'.[dev]'" in commands


def test_installing_the_checkers_runs_no_go(tmp_path: Path) -> None:
    """`scripts/install-tools checkers` (what `make build` runs) calls no Go build script and no `go`:
    every command the script runs is traced (bash -x), and a `go` first on PATH records any call."""
    calls = tmp_path / "go-calls"
    fake = tmp_path / "bin" / "go"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 1\n')
    fake.chmod(0o755)
    result = subprocess.run(
        ["bash", "-x", "scripts/install-tools", "checkers"],
        cwd=REPO,
        env={**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    traced = [line for line in result.stderr.splitlines() if line.startswith("+")]
    assert traced and not [line for line in traced if "build-otelcol" in line or "build-gotools" in line]
    assert not calls.exists(), calls.read_text()
