"""Documents -> files: deterministic bytes, and writes that readers never see half done.

Output is deterministic (sorted JSON keys, fixed YAML order, no timestamps), so the same
definitions give byte-identical files on every machine.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
import yaml

from engine.errors import DefinitionError, Location
from engine.render.documents import DashboardDocument, Documents
from engine.render.provisioning_escape import escape_tree

PROVISIONING_README = """# provisioning/ (generated)

Everything here is written by `python build.py build` from `dashboards/`, `datasources/` and
`telemetry/contract.py`; edits made here are overwritten, and `python build.py check` fails on them.
It is committed so that `docker compose up` works without Python: the compose file mounts this
folder read-only at `/etc/grafana/provisioning`, and Grafana loads it on startup.

- `datasources/datasources.yaml`: Prometheus, Loki and Jaeger with their correlations.
- `dashboards/providers.yaml`: one file provider per folder.
- `dashboards/<folder uid>/<dashboard uid>.json`: the dashboards.
"""


@dataclass(frozen=True)
class Output:
    path: str
    """Relative to the project root, with forward slashes."""
    content: bytes


def dump_json(document: Any) -> bytes:
    """Two-space indent, sorted keys, UTF-8, a final newline. orjson, because the standard library
    falls back to its pure-Python encoder whenever `indent` is set: at 100 dashboards that was half
    of `check`'s time."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def dump_provisioning_yaml(document: Any, source: str) -> bytes:
    """YAML for Grafana's provisioning loader: every string `$`-escaped, under a header naming the source."""
    body = yaml.safe_dump(escape_tree(document), sort_keys=False, width=1000, allow_unicode=True)
    header = f"# Generated from {source} by `python build.py build`. Do not edit: edit {source}.\n"
    return (header + body).encode()


def dump_rules_yaml(document: Any) -> bytes:
    source = "prometheus_rules/"
    header = f"# Generated from {source} by `python build.py build`. Do not edit: edit {source}.\n"
    return (header + yaml.safe_dump(document, sort_keys=False, width=1000, allow_unicode=True)).encode()


def dashboard_path(provisioning_dir: str, board: DashboardDocument) -> str:
    return f"{provisioning_dir}/dashboards/{board.folder.uid}/{board.uid}.json"


def render_outputs(documents: Documents) -> list[Output]:
    """Every generated file, in path order."""
    config = documents.project.config
    base = config.provisioning_dir
    outputs = [
        Output(
            f"{base}/datasources/datasources.yaml",
            dump_provisioning_yaml(documents.datasources, "datasources/"),
        ),
        Output(
            f"{base}/dashboards/providers.yaml",
            dump_provisioning_yaml(documents.providers, "dashboards/"),
        ),
        Output(f"{base}/README.md", PROVISIONING_README.encode()),
        Output(config.contract_doc, documents.contract_markdown.encode()),
    ]
    outputs += [Output(dashboard_path(base, d), dump_json(d.document)) for d in documents.dashboards]
    if documents.rules is not None:
        outputs.append(Output(config.rules_file, dump_rules_yaml(documents.rules)))
    for output in outputs:
        _stays_inside(output.path)
    return sorted(outputs, key=lambda o: o.path)


def _stays_inside(path: str) -> None:
    """Every output path is relative and goes down only: nothing is written outside the project."""
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or ".." in parts or any(part.strip() != part for part in parts):
        raise DefinitionError(
            Location(file=path), "an output path would leave the project; nothing was written"
        )


def generated_files_on_disk(root: Path, provisioning_dir: str) -> set[str]:
    """Everything below the provisioning folder is generated; other outputs are single known files."""
    base = root / provisioning_dir
    if not base.is_dir():
        return set()
    return {p.relative_to(root).as_posix() for p in base.rglob("*") if p.is_file()}


class WriteError(Exception):
    """A generated file could not be written; nothing of the output set was changed."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"cannot write {target}: {reason}; nothing was changed")
        self.target = target


def _staged(path: Path, content: bytes) -> Path:
    """`content` in a temporary file beside `path`, synced to disk: renaming it is the only step left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).chmod(0o644)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def atomic_write(path: Path, content: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    _staged(path, content).replace(path)


@dataclass(frozen=True)
class WriteReport:
    written: list[str]
    unchanged: list[str]
    removed: list[str]


def write_outputs(root: Path, outputs: Sequence[Output], provisioning_dir: str) -> WriteReport:
    """All or nothing: every changed file is staged first, and only when all are staged are they
    renamed into place and the generated files no definition produces any more removed."""
    changed = [
        o for o in outputs if not ((root / o.path).is_file() and (root / o.path).read_bytes() == o.content)
    ]
    unchanged = [o.path for o in outputs if o not in changed]
    staged: list[tuple[Path, Path]] = []
    try:
        for output in changed:
            target = root / output.path
            try:
                staged.append((_staged(target, output.content), target))
            except OSError as error:
                raise WriteError(output.path, error.strerror or str(error)) from None
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, target in staged:
        temporary.replace(target)
    removed = sorted(generated_files_on_disk(root, provisioning_dir) - {o.path for o in outputs})
    for path in removed:
        (root / path).unlink()
    for directory in sorted((root / provisioning_dir).rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return WriteReport([o.path for o in changed], unchanged, removed)
