#!/usr/bin/env python3
"""TikTickets dashboards-as-code: turn dashboards/ and datasources/ into Grafana.

build and check write and verify provisioning/; push, diff and pull talk to a live Grafana
(GRAFANA_URL, and GRAFANA_TOKEN or GRAFANA_USER + GRAFANA_PASSWORD, from the environment or .env).
Exit codes: 0 ok; 1 check failed, push had failures or conflicts, diff found differences;
2 bad usage, invalid definitions or settings, or (diff, pull) Grafana could not be read.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from machinery.definitions import Project, load_project
from machinery.errors import DefinitionError
from machinery.grafana_sync.client import Grafana, SyncError
from machinery.grafana_sync.plan import (
    WRITES,
    Action,
    Op,
    SyncReport,
    desired_objects,
    fetch_dashboard,
    synchronise,
)
from machinery.lint import LintContext, all_rules, run_rules
from machinery.render import Output, atomic_write, compare_outputs, dump_json, write_outputs
from machinery.settings import SettingsError, settings

HERE = Path(__file__).resolve().parent
BACKUP_DIR = ".grafana-backups"
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
        context = LintContext.for_project(project)
        findings = run_rules(context)
        for warning in (f for f in findings if f.severity == "warning"):
            typer.echo(f"warning: {warning}", err=True)
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            lines = [f"error: {finding}" for finding in errors]
            lines.append(f"{len(errors)} problem(s) in the definitions; nothing was written.")
            raise _fail("\n".join(lines))
        return project, context.outputs  # the same documents the rules just checked
    except DefinitionError as error:
        raise _fail(f"error: {error}") from None


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


def _grafana() -> Grafana:
    try:
        return Grafana(settings())
    except (SettingsError, ValueError) as error:
        raise _fail(f"error: {error}") from None


def _connect(grafana: Grafana, code: int) -> None:
    try:
        grafana.health()
    except SyncError as error:
        raise _fail(f"error: {error}", code) from None


class _Reporter:
    """A progress bar on a terminal, one plain line per object otherwise (CI logs, pipes)."""

    def __init__(self, total: int, verb: str) -> None:
        self.total, self.done, self.lock = total, 0, threading.Lock()
        self.progress: Progress | None = None
        if sys.stdout.isatty():
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
            )
            self.task = self.progress.add_task(verb, total=total)

    def __enter__(self) -> _Reporter:
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.progress:
            self.progress.stop()

    def __call__(self, action: Action) -> None:
        with self.lock:
            self.done += 1
            if self.progress:
                self.progress.update(self.task, completed=self.done, total=max(self.total, self.done))
            else:
                state = "failed" if action.failed else action.op.value
                typer.echo(f"[{self.done}/{self.total}] {action.kind} {action.uid}: {state}")


PAST_TENSE = {Op.CREATE: "created", Op.UPDATE: "updated", Op.OVERWRITE: "overwrote", Op.DELETE: "deleted"}


def _describe(action: Action, *, applied: bool) -> list[str]:
    if action.failed:
        return [f"failed     {action.kind} {action.uid}: {action.error}"]
    if action.op is Op.UNCHANGED:
        return []
    verb = PAST_TENSE.get(action.op, action.op.value) if applied and action.done else action.op.value
    lines = [f"{verb:10} {action.kind} {action.uid}: {action.summary}".rstrip(": ")]
    if action.backup:
        lines.append(f"           live version saved to {action.backup}")
    if action.op is Op.CONFLICT:
        lines.append(
            "           not overwritten; `push --force` saves the live version to a backup, then writes"
        )
        lines += [f"           {line}" for line in action.diff.splitlines()]
    return lines


def _summary(report: SyncReport, requests: str) -> str:
    counts = report.count()
    parts = [f"{n} {state}" for state, n in sorted(counts.items())]
    return f"{', '.join(parts) or 'nothing to do'} ({requests})."


@app.command()
def push(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite dashboards edited in Grafana, after saving a backup.")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete managed dashboards that no definition produces any more.")
    ] = False,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Dashboards pushed in parallel.")] = 8,
    project: ProjectOption = HERE,
) -> None:
    """Push folders, then datasources, then dashboards to Grafana; only what changed is written."""
    loaded, _ = _prepare(project)
    grafana = _grafana()
    _connect(grafana, EXIT_CHECK_FAILED)
    desired = desired_objects(loaded.dashboards, loaded.datasources)
    try:
        with _Reporter(len(desired), "dry run" if dry_run else "pushing") as reporter:
            report = synchronise(
                grafana,
                desired,
                apply=not dry_run,
                force=force,
                prune=prune,
                backup_dir=project.resolve() / BACKUP_DIR,
                workers=workers,
                on_done=reporter,
            )
    except SyncError as error:
        raise _fail(f"error: {error}", EXIT_CHECK_FAILED) from None
    for action in report.actions:
        for line in _describe(action, applied=not dry_run):
            typer.echo(line)
    counts = grafana.counts
    requests = f"{counts.reads} reads, {counts.writes} writes, {counts.retries} retries"
    if dry_run:
        planned = sum(1 for a in report.actions if a.op in WRITES)
        typer.echo(f"dry run: {planned} write(s) planned, nothing written. {_summary(report, requests)}")
    else:
        typer.echo(_summary(report, requests))
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command()
def diff(project: ProjectOption = HERE) -> None:
    """Compare the definitions with Grafana: a summary and a unified diff per object that differs.

    Exit 0 when Grafana matches, 1 when it differs, 2 on error.
    """
    loaded, _ = _prepare(project)
    grafana = _grafana()
    _connect(grafana, EXIT_INVALID)
    desired = desired_objects(loaded.dashboards, loaded.datasources)
    try:
        report = synchronise(grafana, desired, apply=False, backup_dir=project / BACKUP_DIR)
    except SyncError as error:
        raise _fail(f"error: {error}") from None
    failed = [a for a in report.actions if a.failed]
    for action in report.actions:
        if action.failed or action.op in (Op.UNCHANGED, Op.PROVISIONED):
            continue
        typer.echo(f"{action.kind} {action.uid}: {action.op.value}: {action.summary}")
        typer.echo(action.diff)
    if failed:
        raise _fail("\n".join(f"error: {a.kind} {a.uid}: {a.error}" for a in failed))
    if not report.in_sync:
        raise typer.Exit(EXIT_CHECK_FAILED)
    typer.echo(f"Grafana at {grafana.url} matches the definitions.")


@app.command()
def pull(
    uid: Annotated[str, typer.Argument(help="The dashboard uid in Grafana.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write here instead of standard output.", dir_okay=False),
    ] = None,
) -> None:
    """Print a live dashboard as normalised JSON, to bring a hand-made dashboard into the repo."""
    grafana = _grafana()
    _connect(grafana, EXIT_INVALID)
    try:
        document = fetch_dashboard(grafana, uid)
    except SyncError as error:
        raise _fail(f"error: {error}") from None
    if document is None:
        raise _fail(f"error: Grafana at {grafana.url} has no dashboard with uid {uid!r}")
    content = dump_json(document)
    if output is None:
        typer.echo(content.decode(), nl=False)
        return
    try:
        atomic_write(output, content)
    except OSError as error:
        raise _fail(f"error: cannot write {output}: {error.strerror}") from None
    typer.echo(f"wrote {output}", err=True)


@app.command()
def rules() -> None:
    """List the lint rules that `build` and `check` run, with what each one guards against."""
    for rule in all_rules():
        summary = rule.doc.strip().splitlines()[0].removeprefix(f"{rule.id}:").strip()
        typer.echo(f"{rule.id:22} {summary}")


if __name__ == "__main__":
    app()
