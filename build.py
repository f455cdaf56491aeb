#!/usr/bin/env python3
"""TikTickets dashboards-as-code: turn dashboards/ and datasources/ into Grafana provisioning.

Exit codes: 0 ok, 1 check failed (provisioning/ is stale), 2 bad usage or invalid definitions.
The commands only wire the machinery together; the logic lives in machinery/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from machinery.definitions import Project, load_project
from machinery.errors import DefinitionError
from machinery.lint import LintContext, all_rules, run_rules
from machinery.render import Output, compare_outputs, render_project, write_outputs

HERE = Path(__file__).resolve().parent
EXIT_CHECK_FAILED = 1
EXIT_INVALID = 2

app = typer.Typer(
    help=__doc__,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _prepare(project_root: Path) -> tuple[Project, list[Output]]:
    """Load and lint the definitions, then render them; invalid definitions exit 2."""
    try:
        project = load_project(project_root)
    except DefinitionError as error:
        raise _fail(f"error: {error}") from None
    findings = run_rules(LintContext(project.dashboards, project.datasources))
    for warning in (f for f in findings if f.severity == "warning"):
        typer.echo(f"warning: {warning}", err=True)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        lines = [f"error: {finding}" for finding in errors]
        lines.append(f"{len(errors)} problem(s) in the definitions; nothing was written.")
        raise _fail("\n".join(lines))
    return project, render_project(project)


ProjectOption = Annotated[
    Path,
    typer.Option(
        "--project",
        help="Project root holding dashboards/, datasources/ and provisioning/.",
        file_okay=False,
        exists=True,
    ),
]


@app.command()
def build(project: ProjectOption = HERE) -> None:
    """Write provisioning/ (and docs/telemetry-contract.md) from the definitions."""
    _, outputs = _prepare(project)
    try:
        report = write_outputs(project.resolve(), outputs)
    except OSError as error:
        raise _fail(f"error: cannot write {error.filename}: {error.strerror}") from None
    for path in report.written:
        typer.echo(f"wrote    {path}")
    for path in report.removed:
        typer.echo(f"removed  {path}")
    typer.echo(
        f"{len(report.written)} written, {len(report.unchanged)} unchanged, {len(report.removed)} removed."
    )


@app.command()
def check(project: ProjectOption = HERE) -> None:
    """Lint the definitions and fail if the committed provisioning/ is stale."""
    loaded, outputs = _prepare(project)
    drifts = compare_outputs(project.resolve(), outputs)
    if drifts:
        lines = ["provisioning is stale: the definitions produce something else."]
        lines += [f"  {drift}" for drift in drifts]
        lines.append("Run `python build.py build` and commit the result.")
        raise _fail("\n".join(lines), EXIT_CHECK_FAILED)
    typer.echo(
        f"ok: {len(loaded.dashboards)} dashboard(s), {len(loaded.datasources)} datasource(s), "
        f"{len(all_rules())} lint rules, {len(outputs)} generated files up to date."
    )


@app.command()
def rules() -> None:
    """List the lint rules that `build` and `check` run, with what each one guards against."""
    for rule in all_rules():
        summary = rule.doc.strip().splitlines()[0].removeprefix(f"{rule.id}:").strip()
        typer.echo(f"{rule.id:22} {summary}")


if __name__ == "__main__":
    app()
