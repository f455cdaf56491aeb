"""Documents -> files: deterministic bytes, and writes that readers never see half done.

Output is deterministic (sorted JSON keys, fixed YAML order, no timestamps), so the same
definitions give byte-identical files on every machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dashboards_as_code import kinds
from dashboards_as_code.errors import DefinitionError, Location
from dashboards_as_code.render.documents import Documents
from dashboards_as_code.render.formats import Output, dump_json, dump_rules_yaml
from dashboards_as_code.text import printable

PROVISIONING_README = """# provisioning/ (generated)

Everything here is written by `python build.py build` from `dashboards/`, `datasources/` and
`telemetry/contract.py`; edits made here are overwritten, and `python build.py check` fails on them.
It is committed so that `docker compose up` works without Python: the compose file mounts this
folder read-only at `/etc/grafana/provisioning`, and Grafana loads it on startup.

- `datasources/datasources.yaml`: Prometheus, Loki and Jaeger with their correlations.
- `dashboards/providers.yaml`: one file provider per folder.
- `dashboards/<folder uid>/<dashboard uid>.json`: the dashboards.
"""


ROUTING_SOURCE = "prometheus_rules/routing.py"
"""Named in the generated Alertmanager configuration's header: where its routing is defined."""


def render_outputs(documents: Documents, *, allow_outside: bool = False) -> list[Output]:
    """Every generated file, in path order; each one stays inside the project, symlinks followed
    (unless `allow_outside`), so `check` refuses exactly what `build` would."""
    config = documents.project.config
    outputs = [
        Output(f"{config.provisioning_dir}/README.md", PROVISIONING_README.encode()),
        Output(config.contract_doc, documents.contract_markdown.encode()),
    ]
    for kind in kinds.registry():
        outputs += kind.outputs(documents)
    if documents.rules is not None:
        outputs.append(Output(config.rules_file, dump_rules_yaml(documents.rules)))
        if config.metrics_engine is not None:  # the same rules, where Cortex's ruler reads them
            engine_file = config.metrics_engine.rules_file(config.name)
            outputs.append(Output(engine_file, dump_rules_yaml(documents.rules)))
    routing = documents.project.alert_routing
    if config.alertmanager_file is not None and routing is not None:
        outputs.append(Output(config.alertmanager_file, dump_rules_yaml(routing.document(), ROUTING_SOURCE)))
    if config.cardinality_limits_file is not None:
        outputs.append(Output(config.cardinality_limits_file, dump_json(documents.cardinality_limits)))
    outputs.sort(key=lambda o: o.path)
    for output in outputs:
        _stays_inside(output.path, documents.project.root, allow_outside=allow_outside)
    return outputs


ALLOW_OUTSIDE_FLAG = "--allow-outside"
TEMP_SUFFIX = ".build-tmp"
"""Every file staged by this module ends so: a later build finds what a killed one left and removes it."""
LOCK_FILE = ".cache/build.lock"
"""One build of a project at a time (also `watch`'s builds, which run in child processes)."""
LOCK_TIMEOUT_SECONDS = 300.0
"""How long a build waits for another one before it gives up: far longer than any build takes."""


def _stays_inside(path: str, root: Path | None = None, *, allow_outside: bool = False) -> None:
    """Every output path is relative and goes down only, and (given `root`) its real path, symlinks
    followed, is below the project's real path: nothing is written outside the project unless the
    user says so with --allow-outside."""
    if any(  # C0, DEL and C1 (U+0080-U+009F, a terminal's CSI among them): names.py refuses them too
        ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in path
    ):  # NUL: the OS refuses it with a ValueError
        raise DefinitionError(
            Location(file=printable(path)),
            "an output path holds a control character, which no file name here may hold; nothing was written",
        )
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or ".." in parts or any(part.strip() != part for part in parts):
        raise DefinitionError(
            Location(file=path), "an output path would leave the project; nothing was written"
        )
    if root is None or allow_outside:
        return
    real_root, real = root.resolve(), (root / path).resolve()
    if real.is_relative_to(real_root):
        return
    raise DefinitionError(
        Location(file=path),
        f"resolves to {real}, outside the project {real_root}{_symlink_on_the_way(root, path)}; "
        f"nothing was written (`build {ALLOW_OUTSIDE_FLAG}` writes there anyway)",
    )


def _symlink_on_the_way(root: Path, path: str) -> str:
    """The first symlink on `path`, as ' (provisioning is a symlink to /etc/...)', to name the culprit."""
    current = root
    for part in PurePosixPath(path).parts:
        current = current / part
        if current.is_symlink():
            return f" ({current.relative_to(root).as_posix()} is a symlink to {current.readlink()})"
    return ""


def _is_inside(path: str, root: Path) -> bool:
    try:
        _stays_inside(path, root)
    except DefinitionError:
        return False
    return True


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _regular_files_below(root: Path, folder: Path, *, recursive: bool) -> list[str]:
    """Regular files below `folder` (relative to `root`), never following a symlink: a symlinked
    folder or file is not ours to read or remove."""
    if folder.is_symlink() or not folder.is_dir():
        return []
    found: list[str] = []
    for directory, _, names in os.walk(folder, followlinks=False):
        for name in names:
            path = Path(directory) / name
            if stat.S_ISREG(path.lstat().st_mode):
                found.append(path.relative_to(root).as_posix())
        if not recursive:
            break
    return found


def generated_files_on_disk(root: Path, provisioning_dir: str) -> set[str]:
    """Everything below the provisioning folder is generated; other outputs are single known files.
    Only regular files inside the project count: never a symlink, nor what one points to, nor a
    temporary file (the next build sweeps those)."""
    if not _is_inside(provisioning_dir, root):
        return set()
    files = _regular_files_below(root, root / provisioning_dir, recursive=True)
    return {path for path in files if not _is_temporary(PurePosixPath(path).name)}


def describe_kind(mode: int) -> str:
    """What a file system entry is, in words, for messages that refuse to write over it."""
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISLNK, "a symlink"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((word for test, word in kinds if test(mode)), "not a regular file")


def read_regular(target: Path) -> bytes | None:
    """The bytes of `target` if it is a regular file (not followed if it is a symlink), else None."""
    try:
        if not stat.S_ISREG(target.lstat().st_mode):
            return None
        return target.read_bytes()
    except OSError:
        return None


def obstacle(target: Path) -> str | None:
    """Why `target` cannot be replaced by a generated file (it exists and is no regular file), or None."""
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        return error.strerror or str(error)
    if stat.S_ISREG(mode):
        return None
    return f"it is {describe_kind(mode)}; only regular files are replaced"


class WriteError(Exception):
    """A generated file could not be written; nothing of the output set was changed."""

    def __init__(self, target: str, reason: str, *, changed: str = "nothing was changed") -> None:
        super().__init__(f"cannot write {target}: {reason}; {changed}")
        self.target = target


class BusyError(Exception):
    """Another build of the same project held the lock for longer than a build may wait."""


class NotRegularFileError(Exception):
    """`pull -o` names something that is not a regular file (a device, FIFO, directory...)."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(f"{path} is {what}; -o writes regular files only (`-o -` is standard output)")


def regular_output(path: Path) -> Path:
    """Where to write a file the user named: itself when it is new or a regular file, the file a
    symlink points to when that is a regular file; anything else (device, FIFO, directory, socket,
    a symlink to one, /proc/self/fd/1) raises NotRegularFileError before anything is written."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return path
    except NotADirectoryError:  # `-o config.py/board.json`: a file where a folder of the path belongs
        through = next((parent for parent in path.parents if parent.is_file()), path.parent)
        raise NotRegularFileError(path, f"a path through {through}, a file, not a folder") from None
    if stat.S_ISREG(mode):
        return path
    if not stat.S_ISLNK(mode):
        raise NotRegularFileError(path, describe_kind(mode))
    try:
        followed = path.stat().st_mode
    except OSError:
        raise NotRegularFileError(path, f"a symlink to {path.readlink()}, which does not exist") from None
    if not stat.S_ISREG(followed):
        raise NotRegularFileError(path, f"a symlink to {describe_kind(followed)} ({path.readlink()})")
    return path.resolve()


FILE_MODE = 0o644
FOLDER_MODE = 0o755
"""Whatever the umask: Grafana and Prometheus read the generated files in their containers, as
another user than the one who built them (a umask of 077 would leave files 0600 and folders 0700)."""


def _make_folders(folder: Path) -> None:
    """Create `folder` and its missing parents, each one FOLDER_MODE; folders that exist are left as
    they are (they are not ours to change)."""
    missing: list[Path] = []
    current = folder
    while not os.path.lexists(current):
        missing.append(current)
        current = current.parent
    for new in reversed(missing):
        try:
            new.mkdir()
        except FileExistsError:
            continue  # made meanwhile by someone else: theirs
        new.chmod(FOLDER_MODE)


def _staged(path: Path, content: bytes) -> Path:
    """`content` in a temporary file beside `path`, synced to disk: renaming it is the only step left.
    Beside, so the rename is atomic; named `.<name>.<random>.build-tmp`, so a later build can sweep it.
    The file is FILE_MODE (mkstemp makes it 0600), its new folders FOLDER_MODE."""
    _make_folders(path.parent)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).chmod(FILE_MODE)
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
    swept: list[str] = field(default_factory=list)
    """Temporary files an interrupted build had left, removed before this one wrote."""


def _try_lock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def build_lock(
    root: Path, *, timeout: float = LOCK_TIMEOUT_SECONDS, on_wait: Callable[[str], None] = lambda _: None
) -> Iterator[None]:
    """Hold the project's build lock (`flock` on .cache/build.lock, released when the process dies):
    two builds, or `watch` and a build, never stage and rename over each other. A second build says
    it waits, then waits up to `timeout` seconds."""
    _stays_inside(LOCK_FILE, root)
    lock = root / LOCK_FILE
    lock.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        if not _try_lock(descriptor):
            on_wait(f"waiting for another build of {root} to finish (it holds {LOCK_FILE})")
            deadline = time.monotonic() + timeout
            while not _try_lock(descriptor):
                if time.monotonic() > deadline:
                    raise BusyError(
                        f"another build of {root} held {LOCK_FILE} for {timeout:.0f} s; nothing was "
                        "written (is a build stuck? it releases the lock when it ends)"
                    )
                time.sleep(0.05)
        yield
    finally:
        os.close(descriptor)


def sweep_temporaries(
    root: Path, outputs: Sequence[Output], provisioning_dir: str, *, allow_outside: bool = False
) -> list[str]:
    """Remove the temporary files an interrupted build left in the output folders; call it under the
    build lock, where no other build can be staging. Only regular files named like ours are removed."""
    folders = {provisioning_dir: True} | {
        PurePosixPath(o.path).parent.as_posix(): False
        for o in outputs
        if not PurePosixPath(o.path).is_relative_to(provisioning_dir)
    }
    swept: list[str] = []
    for folder, recursive in sorted(folders.items()):
        # The project root itself (an output such as CONTRACT.md at the top) is swept too, never below.
        if folder != "." and not _is_inside(folder, root) and not allow_outside:
            continue
        for path in _regular_files_below(root, root / folder, recursive=recursive):
            if _is_temporary(PurePosixPath(path).name):
                (root / path).unlink(missing_ok=True)
                swept.append(path)
    return sorted(swept)


def _check_targets(root: Path, changed: Sequence[Output], allow_outside: bool) -> None:
    """Before anything is staged: every target stays inside the project and is a regular file or
    nothing, so no rename can fail for a reason known in advance."""
    for output in changed:
        _stays_inside(output.path, root, allow_outside=allow_outside)
        problem = obstacle(root / output.path)
        if problem:
            raise WriteError(output.path, problem)


def _stage_all(root: Path, changed: Sequence[Output]) -> list[tuple[Path, Path]]:
    """Every changed output in a temporary file beside its target; on any failure none is left."""
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
    return staged


def _rename_all(root: Path, staged: Sequence[tuple[Path, Path]], before: dict[Path, bytes | None]) -> None:
    """Rename every staged file into place; if one rename fails, put back what the earlier ones replaced."""
    done: list[Path] = []
    for index, (temporary, target) in enumerate(staged):
        try:
            temporary.replace(target)
        except OSError as error:
            for leftover, _ in staged[index:]:
                leftover.unlink(missing_ok=True)
            not_restored = _restore(done, before)
            relative = target.relative_to(root).as_posix()
            reason = error.strerror or str(error)
            if not_restored:
                names = ", ".join(p.relative_to(root).as_posix() for p in not_restored)
                raise WriteError(
                    relative, reason, changed=f"already replaced and not restored: {names}"
                ) from None
            raise WriteError(relative, reason, changed="the files already replaced were restored") from None
        done.append(target)


def _restore(replaced: Sequence[Path], before: dict[Path, bytes | None]) -> list[Path]:
    """Put back the previous content of `replaced` (remove those that did not exist); returns the ones
    that could not be restored."""
    failed = []
    for target in replaced:
        try:
            old = before[target]
            if old is None:
                target.unlink(missing_ok=True)
            else:
                atomic_write(target, old)
        except OSError:
            failed.append(target)
    return failed


def _remove_stale(root: Path, removed: Sequence[str]) -> None:
    """Unlink files no definition produces any more: regular files inside the project only."""
    for path in removed:
        target = root / path
        with contextlib.suppress(FileNotFoundError):
            if _is_inside(path, root) and stat.S_ISREG(target.lstat().st_mode):
                target.unlink()


def _remove_empty_folders(root: Path, provisioning_dir: str) -> None:
    """Folders under provisioning/ left empty by removals go too; never through a symlink."""
    base = root / provisioning_dir
    if not _is_inside(provisioning_dir, root) or base.is_symlink() or not base.is_dir():
        return
    for directory, _, _ in os.walk(base, topdown=False, followlinks=False):
        if Path(directory) != base:
            with contextlib.suppress(OSError):  # not empty
                Path(directory).rmdir()


def write_outputs(
    root: Path,
    outputs: Sequence[Output],
    provisioning_dir: str,
    *,
    allow_outside: bool = False,
    on_wait: Callable[[str], None] = lambda _: None,
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
) -> WriteReport:
    """All or nothing, one build at a time: under the project's lock, sweep what an interrupted build
    left, check every target, stage every changed file, and only then rename them into place and
    remove the generated files no definition produces any more."""
    with build_lock(root, timeout=lock_timeout, on_wait=on_wait):
        swept = sweep_temporaries(root, outputs, provisioning_dir, allow_outside=allow_outside)
        before = {root / o.path: read_regular(root / o.path) for o in outputs}
        changed = [o for o in outputs if before[root / o.path] != o.content]
        _check_targets(root, changed, allow_outside)
        _rename_all(root, _stage_all(root, changed), before)
        removed = sorted(generated_files_on_disk(root, provisioning_dir) - {o.path for o in outputs})
        _remove_stale(root, removed)
        _remove_empty_folders(root, provisioning_dir)
    unchanged = [o.path for o in outputs if o not in changed]
    return WriteReport([o.path for o in changed], unchanged, removed, swept)
