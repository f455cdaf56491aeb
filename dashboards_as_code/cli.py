"""The command line: typer commands that wire loader, render, lint and the Grafana API together.

It holds no logic of its own beyond exit codes and wording (both in HELP below). The Grafana client
(and the progress bar) are imported only by the commands that talk to Grafana: `build` and `check`
start without them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dashboards_as_code import invocation
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.errors import DefinitionError
from dashboards_as_code.lint import LintContext, all_checks, run_checks
from dashboards_as_code.render.documents import Documents, build_documents
from dashboards_as_code.render.files import (
    BusyError,
    NotRegularFileError,
    WriteError,
    atomic_write,
    regular_output,
    render_outputs,
    write_outputs,
)
from dashboards_as_code.render.formats import Output, dump_json
from dashboards_as_code.render.staleness import compare_outputs
from dashboards_as_code.uids import url_uid_problem

if TYPE_CHECKING:
    from dashboards_as_code.grafana_api.client import Grafana
    from dashboards_as_code.grafana_api.plan import Action, SyncReport

HELP = """Dashboards as code: turn a project's definitions into Grafana.

build and check write and verify provisioning/ (watch rebuilds on every save); push, diff and pull
talk to a live Grafana (GRAFANA_URL, and GRAFANA_TOKEN or GRAFANA_USER + GRAFANA_PASSWORD, from the
environment or .env);
push-rules loads the rule groups into Cortex's ruler (config.py metrics_engine; RULER_URL);
doctor asks the live Prometheus and Loki (PROMETHEUS_URL, LOKI_URL, or through Grafana) why a panel
is empty, and which alerting or recording rules are not healthy.
Exit codes: 0 ok; 1 check failed, push had failures or conflicts, diff found differences, doctor
found a panel not ok or a rule in err; 2 bad usage, invalid definitions or settings, (diff, pull)
Grafana could not be read, or (doctor) no datasource could be reached.
"""
BACKUP_DIR = ".grafana-backups"
EXIT_CHECK_FAILED = 1
EXIT_INVALID = 2

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
_default_project = Path.cwd()


def _fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _load(root: Path | None) -> Documents:
    """Load and render the definitions, without lint: commands that only read them (doctor) start fast."""
    try:
        return build_documents(load_project(root or _default_project))
    except DefinitionError as error:
        raise _fail(f"error: {error}", error.exit_code) from None


def _prepare(root: Path | None, *, allow_outside: bool = False) -> tuple[Documents, list[Output]]:
    """Load, render and lint the definitions, once; invalid definitions, and outputs that would land
    outside the project (unless `allow_outside`), exit 2."""
    documents = _load(root)
    try:
        outputs = render_outputs(documents, allow_outside=allow_outside)
    except DefinitionError as error:
        raise _fail(f"error: {error}", error.exit_code) from None
    findings = run_checks(LintContext(documents, outputs))
    for warning in (f for f in findings if f.severity == "warning"):
        typer.echo(f"warning: {warning}", err=True)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        lines = [f"error: {finding}" for finding in errors]
        problems = [f for f in errors if not f.tool_missing]
        if problems:
            lines.append(f"{len(problems)} problem(s) in the definitions; nothing was written.")
        if len(problems) < len(errors):
            lines.append(
                "Some checks could not run (CI=true needs them): run `make tools`; nothing was written."
            )
        raise _fail("\n".join(lines))
    return documents, outputs


ProjectOption = Annotated[
    Path | None,
    typer.Option(
        "--project",
        help="Project root holding config.py, telemetry/, dashboards/, datasources/ and prometheus_rules/ "
        "(default: the checkout build.py lives in).",
        file_okay=False,
        exists=True,
        show_default=False,
    ),
]


AllowOutsideOption = Annotated[
    bool,
    typer.Option(
        "--allow-outside",
        help="Write generated files even where a symlink (provisioning/ -> /etc/grafana/provisioning, "
        "say) leads outside the project; without it such a build is refused (exit 2). Files outside "
        "the project are never removed, even with it.",
    ),
]


@app.command()
def build(project: ProjectOption = None, allow_outside: AllowOutsideOption = False) -> None:
    """Write provisioning/, the Prometheus rule file and the contract page from the definitions.

    One build of a project runs at a time (a second one waits); temporary files an interrupted build
    left are removed first.
    """
    documents, outputs = _prepare(project, allow_outside=allow_outside)
    config = documents.project.config
    try:
        report = write_outputs(
            documents.project.root,
            outputs,
            config.provisioning_dir,
            allow_outside=allow_outside,
            on_wait=lambda message: typer.echo(message, err=True),
        )
    except DefinitionError as error:
        raise _fail(f"error: {error}", error.exit_code) from None
    except (WriteError, BusyError) as error:
        raise _fail(f"error: {error}", EXIT_CHECK_FAILED) from None
    except OSError as error:
        raise _fail(f"error: cannot write in {documents.project.root}: {error}", EXIT_CHECK_FAILED) from None
    for path in report.swept:
        typer.echo(f"swept    {path} (a temporary file an interrupted build left)")
    for path in report.written:
        typer.echo(f"wrote    {path}")
    for path in report.removed:
        typer.echo(f"removed  {path}")
    typer.echo(
        f"{len(report.written)} written, {len(report.unchanged)} unchanged, {len(report.removed)} removed."
    )


@app.command()
def check(project: ProjectOption = None, allow_outside: AllowOutsideOption = False) -> None:
    """Lint the definitions and fail if the committed generated files are stale (or if build would
    refuse to write them)."""
    documents, outputs = _prepare(project, allow_outside=allow_outside)
    loaded = documents.project
    drifts = compare_outputs(loaded.root, outputs, loaded.config.provisioning_dir)
    if drifts:
        lines = ["provisioning is stale: the definitions produce something else."]
        lines += [f"  {drift}" for drift in drifts]
        lines.append(
            f"Run `{invocation.command('build')}` (or `make build` in a checkout) and commit the result."
        )
        raise _fail("\n".join(lines), EXIT_CHECK_FAILED)
    typer.echo(
        f"ok: {len(loaded.dashboards)} dashboard(s), {len(loaded.datasources)} datasource(s), "
        f"{len(all_checks())} lint checks, {len(outputs)} generated files up to date."
    )


def _grafana(project: Path | None = None) -> Grafana:
    from dashboards_as_code.grafana_api.client import Grafana  # noqa: PLC0415  (only commands that talk to Grafana)
    from dashboards_as_code.settings import SettingsError, settings  # noqa: PLC0415

    try:
        return Grafana(settings((project or _default_project).resolve()))
    except (SettingsError, ValueError) as error:
        raise _fail(f"error: {error}") from None


def _connect(grafana: Grafana, code: int) -> None:
    from dashboards_as_code.kinds.base import SyncError  # noqa: PLC0415

    try:
        grafana.health()
    except SyncError as error:
        raise _fail(f"error: {error}", EXIT_INVALID if error.bad_setting else code) from None


class _Progress:
    """A progress bar while a terminal watches; otherwise one plain line per item (CI logs), or none.

    `describe` gives that line; without it nothing is printed (doctor's stdout may be JSON). The bar
    goes to stderr when `stderr` is set, so it never mixes with what the command prints.
    """

    def __init__(
        self, total: int, verb: str, *, describe: Callable[[Any], str] | None = None, stderr: bool = False
    ) -> None:
        from rich.console import Console  # noqa: PLC0415
        from rich.progress import (  # noqa: PLC0415
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.total, self.done, self.lock, self.describe = total, 0, threading.Lock(), describe
        self.progress: Progress | None = None
        console = Console(stderr=stderr)
        if console.is_terminal:
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, transient=stderr,
            )  # fmt: skip
            self.task = self.progress.add_task(verb, total=total)

    def __enter__(self) -> _Progress:
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.progress:
            self.progress.stop()

    def grow(self, more: int) -> None:
        """`more` items joined the work after it started (push's prune candidates)."""
        with self.lock:
            self.total += more
            if self.progress:
                self.progress.update(self.task, total=self.total)

    def __call__(self, item: object) -> None:
        with self.lock:
            self.done += 1
            if self.progress:
                self.progress.update(self.task, completed=self.done, total=max(self.total, self.done))
            elif self.describe:
                typer.echo(f"[{self.done}/{self.total}] {self.describe(item)}")


def _action_state(action: Action) -> str:
    return f"{action.kind} {action.uid}: {'failed' if action.failed else action.op.value}"


def _describe(action: Action, *, applied: bool, command: str = "push") -> list[str]:
    from dashboards_as_code.grafana_api.plan import Decision  # noqa: PLC0415

    past_tense = {
        Decision.CREATE: "created",
        Decision.UPDATE: "updated",
        Decision.OVERWRITE: "overwrote",
        Decision.DELETE: "deleted",
    }
    if action.failed:
        return [f"failed     {action.kind} {action.uid}: {action.error}"]
    if action.op is Decision.UNCHANGED:
        return []
    verb = past_tense.get(action.op, action.op.value) if applied and action.done else action.op.value
    lines = [f"{verb:10} {action.kind} {action.uid}: {action.summary}".rstrip(": ")]
    if action.backup:
        lines.append(f"           live version saved to {action.backup}")
    elif action.op is Decision.DELETE and not action.done:
        lines.append(f"           the live version is saved to {BACKUP_DIR}/ first")
    if action.op is Decision.CONFLICT:
        lines.append(f"           {_conflict_hint(action, command)}")
        lines += [f"           {line}" for line in action.diff.splitlines()]
    return lines


def _conflict_hint(action: Action, command: str = "push") -> str:
    """What --force would do: a conflict found by prune (nothing desired) is deleted, others overwritten."""
    if action.desired is None:
        return f"not deleted; `{command} --prune --force` saves the live version to a backup, then deletes it"
    return f"not overwritten; `{command} --force` saves the live version to a backup, then writes"


def _summary(report: SyncReport, requests: str, *, not_attempted: int = 0) -> str:
    """One line of counts. After a fatal error, objects never reached are counted as not attempted."""
    counts = report.count()
    if report.stopped is not None and not_attempted > 0:
        counts["not attempted"] = not_attempted
    parts = [f"{n} {state}" for state, n in sorted(counts.items())]
    return f"{', '.join(parts) or 'nothing to do'} ({requests})."


@app.command()
def push(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite objects edited in Grafana or pushed by another project (with --prune: delete "
            "this project's edited dashboards), after saving a backup.",
        ),
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Delete dashboards this project pushed (owner tag dac-project:<name>) that no definition "
            "produces any more, each after a backup in .grafana-backups/. Other projects' dashboards and "
            "those of unknown owner are listed as left alone; one edited in Grafana is a conflict.",
        ),
    ] = False,
    workers: Annotated[int, typer.Option(min=1, max=32, help="Dashboards pushed in parallel.")] = 8,
    project: ProjectOption = None,
) -> None:
    """Push folders, then datasources, then dashboards to Grafana; only what changed is written.

    Dashboards and folders go through Grafana's resource API (/apis/dashboard.grafana.app and
    /apis/folder.grafana.app, Grafana 13) when the server serves it, else through the legacy
    /api/dashboards and /api/folders; a dashboard saved as schema v2 in Grafana is compared, backed
    up and overwritten (--force) as v2.
    """
    from dashboards_as_code.grafana_api.plan import WRITES, desired_objects, synchronise  # noqa: PLC0415

    documents, _ = _prepare(project)
    grafana = _grafana(documents.project.root)
    _connect(grafana, EXIT_CHECK_FAILED)
    desired = desired_objects(documents)
    verb = "dry run" if dry_run else "pushing"
    with _Progress(len(desired), verb, describe=_action_state) as reporter:
        report = synchronise(
            grafana,
            desired,
            apply=not dry_run,
            force=force,
            prune_owner=documents.project.config.name if prune else None,
            backup_dir=documents.project.root / BACKUP_DIR,
            workers=workers,
            on_done=reporter,
            on_more=reporter.grow,
        )
    for action in report.actions:
        for line in _describe(action, applied=not dry_run):
            typer.echo(line)
    counts = grafana.counts
    requests = f"{counts.reads} reads, {counts.writes} writes, {counts.retries} retries"
    summary = _summary(report, requests, not_attempted=reporter.total - len(report.actions))
    if dry_run:
        planned = sum(1 for a in report.actions if a.op in WRITES)
        typer.echo(f"dry run: {planned} write(s) planned, nothing written. {summary}")
    else:
        typer.echo(summary)
    if report.stopped is not None:
        raise _fail(f"error: stopped early: {report.stopped}", EXIT_CHECK_FAILED)
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command("push-rules")
def push_rules(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change, with a diff per group; write nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite groups edited in the ruler since the last push (with --prune: delete them), "
            "after saving each live group to .grafana-backups/.",
        ),
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Delete groups of the project's namespace that no definition makes any more (after a "
            "backup); groups this tool never pushed are left alone.",
        ),
    ] = False,
    project: ProjectOption = None,
) -> None:
    """Load the rule groups into the metrics engine's ruler (config.py `metrics_engine`: Cortex).

    Prometheus reads the rule file `build` writes; Cortex's ruler takes the groups through its API
    (RULER_URL, default http://localhost:9009), as the environment's tenant, in the namespace named
    after the project. Only what changed is written; a group edited in the ruler since the last push
    is a conflict, as an edit in Grafana is for push. Exit 0 ok, 1 conflicts or failures, 2 bad
    definitions or settings, or no ruler at RULER_URL.
    """
    from dashboards_as_code.grafana_api.plan import WRITES, Decision  # noqa: PLC0415
    from dashboards_as_code.ruler_api.client import Ruler  # noqa: PLC0415
    from dashboards_as_code.ruler_api.groups import MARKER_GROUP  # noqa: PLC0415
    from dashboards_as_code.ruler_api.sync import synchronise_rules  # noqa: PLC0415
    from dashboards_as_code.settings import SettingsError, settings  # noqa: PLC0415

    documents, _ = _prepare(project)
    config = documents.project.config
    if config.metrics_engine is None:
        raise _fail(
            "error: config.py: no metrics_engine is set, so Prometheus loads the rules from "
            f"{config.rules_file} (written by `build`); push-rules loads them into Cortex's ruler"
        )
    groups = (documents.rules or {}).get("groups", [])
    if any(group["name"] == MARKER_GROUP for group in groups):
        raise _fail(
            f"error: prometheus_rules/: rule group {MARKER_GROUP!r}: the name is push-rules' own (it records "
            "what was pushed); rename the group"
        )
    try:
        current = settings(documents.project.root)
    except (SettingsError, ValueError) as error:
        raise _fail(f"error: {error}") from None
    ruler = Ruler(current.ruler_url, config.metrics_engine.tenant, current.grafana_timeout)
    with _Progress(
        len(groups), "dry run" if dry_run else "pushing rules", describe=_action_state
    ) as reporter:
        report = synchronise_rules(
            ruler,
            config.name,
            groups,
            config.name,
            apply=not dry_run,
            force=force,
            prune=prune,
            backup_dir=documents.project.root / BACKUP_DIR,
            on_done=reporter,
        )
    if report.stopped is not None and report.stopped.fatal and not report.actions:
        raise _fail(f"error: {report.stopped}")
    for action in report.actions:
        for line in _describe(action, applied=not dry_run, command="push-rules"):
            typer.echo(line)
        if dry_run and action.op in (Decision.CREATE, Decision.UPDATE, Decision.OVERWRITE):
            typer.echo(action.diff)
    requests = f"{ruler.reads} reads, {ruler.writes} writes"
    summary = _summary(report, requests, not_attempted=reporter.total - len(report.actions))
    where = f"tenant {ruler.tenant!r}, namespace {config.name!r} at {ruler.url}"
    if dry_run:
        planned = sum(1 for a in report.actions if a.op in WRITES)
        typer.echo(f"dry run ({where}): {planned} write(s) planned, nothing written. {summary}")
    else:
        typer.echo(f"{where}: {summary}")
    if report.stopped is not None:
        raise _fail(f"error: stopped early: {report.stopped}", EXIT_CHECK_FAILED)
    if not report.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command()
def diff(project: ProjectOption = None) -> None:
    """Compare the definitions with Grafana: a summary and a unified diff per object that differs, and
    each object this project pushed that no definition produces any more (`push --prune` deletes it).

    Exit 0 when Grafana matches, 1 when it differs, 2 on any error (then "differs" is not claimed).
    """
    from dashboards_as_code.grafana_api.plan import (  # noqa: PLC0415
        Decision,
        desired_objects,
        orphans,
        synchronise,
    )
    from dashboards_as_code.kinds.base import SyncError  # noqa: PLC0415

    documents, _ = _prepare(project)
    grafana = _grafana(documents.project.root)
    _connect(grafana, EXIT_INVALID)
    desired = desired_objects(documents)
    report = synchronise(grafana, desired, apply=False, backup_dir=documents.project.root / BACKUP_DIR)
    if report.stopped is not None:
        raise _fail(f"error: {report.stopped}; nothing was compared in full")
    failed = [a for a in report.actions if a.failed]
    left_behind = []
    if not failed:  # an object that could not be compared is the error to name, not what a list says
        try:
            left_behind = orphans(grafana, desired, documents.project.config.name)
        except SyncError as error:
            raise _fail(f"error: {error}; nothing was compared in full") from None
        failed = [a for a in left_behind if a.failed]
    for action in report.actions:
        if action.failed or action.op in (Decision.UNCHANGED, Decision.PROVISIONED):
            continue
        typer.echo(f"{action.kind} {action.uid}: {action.op.value}: {action.summary}")
        typer.echo(action.diff)
    for action in left_behind:
        if not action.failed:
            remedy = "`push --prune` deletes it"
            if action.op is Decision.CONFLICT:
                remedy = "`push --prune --force` deletes it after a backup"
            typer.echo(f"{action.kind} {action.uid}: left behind: {action.summary}; {remedy}")
    if failed:
        raise _fail("\n".join(f"error: {a.kind} {a.uid}: {a.error}" for a in failed))
    if not report.in_sync or left_behind:
        raise typer.Exit(EXIT_CHECK_FAILED)
    typer.echo(f"Grafana at {grafana.url} matches the definitions.")


@app.command()
def pull(
    uid: Annotated[
        str, typer.Argument(help="The dashboard uid in Grafana (letters, digits, '-', '_'; at most 40).")
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write here instead of standard output: a new or regular file (`-` is standard output).",
        ),
    ] = None,
) -> None:
    """Print a live dashboard as normalised JSON, to bring a hand-made dashboard into the repo.

    A dashboard Grafana stores as schema v2 (saved in the Grafana 13 UI) is printed as Grafana stores
    it, a dashboard.grafana.app/v2 object, read through the resource API: never a down-converted copy.
    """
    from dashboards_as_code.grafana_api.plan import fetch_dashboard  # noqa: PLC0415
    from dashboards_as_code.kinds.base import SyncError  # noqa: PLC0415

    problem = url_uid_problem(uid)
    if problem:
        raise _fail(f"error: {problem}; nothing was asked of Grafana")
    if output is not None and str(output) == "-":
        output = None
    try:
        target = None if output is None else regular_output(output)
    except NotRegularFileError as error:
        raise _fail(f"error: {error}; nothing was written") from None
    except OSError as error:  # a folder of the path that cannot be searched
        raise _fail(f"error: cannot write {output}: {error.strerror}; nothing was written") from None
    grafana = _grafana()
    _connect(grafana, EXIT_INVALID)
    try:
        document = fetch_dashboard(grafana, uid)
    except SyncError as error:
        raise _fail(f"error: {error}") from None
    if document is None:
        raise _fail(f"error: Grafana at {grafana.url} has no dashboard with uid {uid!r}")
    content = dump_json(document)
    if target is None:
        typer.echo(content.decode(), nl=False)
        return
    try:
        atomic_write(target, content)
    except OSError as error:
        raise _fail(f"error: cannot write {output}: {error.strerror}") from None
    typer.echo(f"wrote {output}", err=True)


@app.command()
def doctor(
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object on stdout and nothing else: `panels` (one object per panel, each "
            "cause with the `selection` that was empty), `rules` (every rule whose health is not ok) and "
            "`skipped` (datasources left out by an empty URL).",
        ),
    ] = False,
    via_grafana: Annotated[
        bool,
        typer.Option(
            "--via-grafana",
            help="Query through Grafana's datasource proxy (GRAFANA_URL and its credentials) instead of "
            "PROMETHEUS_URL and LOKI_URL: for those who can reach only Grafana.",
        ),
    ] = False,
    samples: Annotated[
        int, typer.Option(min=0, max=20, help="Real values of each variable (tenants) tried besides All.")
    ] = 3,
    project: ProjectOption = None,
) -> None:
    """Say why a panel is empty: run every query against the live stack and take the empty ones apart.

    Each panel is ok, suspect (shows data but breaks a rule, e.g. series without tenant_id), empty or
    error, with named causes (series-missing, label-mismatch, rule-not-loaded, rule-warming-up,
    sparse-samples, stale, ...), the selection that was empty ($tenant = All (`__all__`) or one
    tenant) and a query to paste into Explore. Then every alerting and recording rule whose health is
    not ok: err (with Prometheus' lastError) or unknown (not evaluated yet). Read-only. Each request
    ends within DOCTOR_TIMEOUT seconds, body included; a datasource that is down or answers nonsense
    marks only its own panels error. An empty PROMETHEUS_URL or LOKI_URL (`LOKI_URL=`) leaves that
    datasource out: its panels are listed as skipped, not failed. Exit 0 all ok (rules not evaluated
    yet included: they are normal for one interval after a start), 1 some panel not ok, a rule in
    err, or a rule list that could not be read, 2 no datasource could be reached at all (or every one
    was left out).
    """
    from rich.console import Console  # noqa: PLC0415

    from dashboards_as_code.doctor import report as shown  # noqa: PLC0415
    from dashboards_as_code.doctor.http import Endpoint  # noqa: PLC0415
    from dashboards_as_code.doctor.run import DoctorRun  # noqa: PLC0415
    from dashboards_as_code.settings import SettingsError, settings  # noqa: PLC0415

    documents = _load(project)
    try:
        config = settings(documents.project.root)
        credential = config.grafana_credential() if via_grafana else ""
    except SettingsError as error:
        raise _fail(f"error: {error}") from None

    def endpoint_for(kind: str, uid: str) -> Endpoint:
        if via_grafana:
            return Endpoint.through_grafana(config.grafana_url, uid, kind, config.doctor_timeout, credential)
        url = config.prometheus_url if kind == "prometheus" else config.loki_url
        return Endpoint(url, kind, config.doctor_timeout)

    urls = {"prometheus": ("Prometheus", config.prometheus_url), "loki": ("Loki", config.loki_url)}
    skip = (
        {}
        if via_grafana
        else {kind: f"{name.upper()}_URL is empty" for kind, (name, url) in urls.items() if not url}
    )
    where = (
        f"through Grafana at {config.grafana_url}"
        if via_grafana
        else ", ".join(f"{name} at {url}" if url else f"{name} left out" for name, url in urls.values())
    )
    run = DoctorRun(documents, endpoint_for, samples=samples, skip=skip)
    with _Progress(len(run.jobs), "asking the datasources", stderr=True) as progress:
        run.on_panel = progress
        reports = run.run()
    if json_output:
        typer.echo(shown.as_json(reports, run.rules, run.skipped_sources))
    elif not run.nothing_reachable:  # one datasource down still leaves the other's panels to show
        console = Console()
        shown.show(reports, console)
        for line in shown.rule_lines(run.rules):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        typer.echo(shown.summary(reports, run.skipped, where, run.rules))
    for line in shown.skip_notes(run.skipped_sources):
        typer.echo(line, err=True)
    for line in shown.failures([failure.detail for failure in run.failures]):
        typer.echo(line, err=True)
    if run.nothing_reachable:
        raise _fail("No datasource could be reached: nothing was checked.")
    if run.nothing_asked:
        raise _fail(
            "Every datasource the panels use was left out (PROMETHEUS_URL and LOKI_URL empty): "
            "nothing was checked."
        )
    rule_failed = any(rule.failing for rule in run.rules) or bool(run.rule_failures)
    if rule_failed or any(report.status.value != "ok" for report in reports):
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command()
def watch(
    push: Annotated[
        bool,
        typer.Option(
            "--push",
            help="After each good build, push to GRAFANA_URL (same rules as push: a dashboard edited in "
            "Grafana is reported as a conflict, never overwritten).",
        ),
    ] = False,
    project: ProjectOption = None,
) -> None:
    """Rebuild on every save of a definition, in a fresh interpreter; Ctrl-C or SIGTERM stops (exit 0).

    A broken save (syntax error, exception, failed lint) writes nothing and is reported with its file
    and line; watching goes on and the next good save recovers. A save while a build runs cancels that
    build and starts a new one. A build or push still running after WATCH_CHILD_TIMEOUT_SECONDS (120 s)
    is stopped and reported, and watching goes on. Grafana's file provider picks the result up within
    its update interval.
    """
    from dashboards_as_code import watch as watching  # noqa: PLC0415
    from dashboards_as_code.settings import SettingsError, settings  # noqa: PLC0415

    root = (project or _default_project).resolve()
    try:
        config = settings(root)
        if push:
            config.grafana_credential()  # fail now, not at the first save
    except SettingsError as error:
        raise _fail(f"error: {error}") from None
    # KeyboardInterrupt only before watch installs its handlers: after, Ctrl-C and SIGTERM just stop it.
    with contextlib.suppress(KeyboardInterrupt):
        watching.watch(
            root, then_push=push, echo=typer.echo, child_timeout=config.watch_child_timeout_seconds
        )
    typer.echo("stopped.")


@app.command()
def checks() -> None:
    """List the lint checks that `build` and `check` run, with what each one guards against."""
    for found in all_checks():
        typer.echo(f"{found.id:22} {found.summary}")


def main(default_project: Path | None = None) -> None:
    """Run the CLI; `default_project` is the root used when `--project` is not given (else the cwd)."""
    global _default_project  # noqa: PLW0603  (set once, before any command runs)
    if default_project is not None:
        _default_project = default_project
    app()
