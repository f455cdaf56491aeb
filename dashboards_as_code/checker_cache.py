"""Answers of the external checkers (Node's LogQL grammar, promtool), kept by what they were asked.

Both are pure functions of their input and their own version, and starting Node or promtool costs
more than the rest of a `check`: an unchanged query set or rule file reuses the last answer. The key
hashes the tool's identity (path, size and mtime of its files) and the exact input. An entry that
is missing, unreadable, not UTF-8, or that the caller's `parse` rejects (not JSON, the wrong shape),
or a directory where the file belongs, is a miss: the answer is asked again and rewritten, so a
damaged cache never breaks `check`. A checkout that cannot be written to still checks, uncached.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from dashboards_as_code.external_tools import NODE, Tool, require
from dashboards_as_code.render.files import atomic_write

CACHE_DIR = ".cache/dashboards-as-code"
"""Below the project root; ignored by git."""
CORRUPT = (ValueError, TypeError, KeyError, IndexError, AttributeError)
"""What a `parse` raises on an entry that is not what the checker answers (json.JSONDecodeError is a
ValueError); a fresh answer it rejects is a checker bug and is raised."""
T = TypeVar("T")


def tool_identity(*files: str | Path) -> str:
    """What changes when the tool does: each file's resolved path, size and modification time."""
    parts = []
    for file in files:
        path = Path(file).resolve()
        try:
            stat = path.stat()
        except OSError:
            parts.append(f"{path}:missing")
            continue
        parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(parts)


def cached(
    root: Path | None,
    namespace: str,
    identity: str,
    question: str,
    ask: Callable[[], str],
    *,
    parse: Callable[[str], T],
) -> T:
    """`parse(ask())` for `question`, from the cache when this tool answered it before and the entry
    still parses; otherwise asked again and the entry rewritten."""
    if root is None:
        return parse(ask())
    key = hashlib.sha256(f"{identity}\0{question}".encode()).hexdigest()
    path = root / CACHE_DIR / namespace / f"{key}.txt"
    try:
        return parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, *CORRUPT):
        pass
    answer = ask()
    parsed = parse(answer)
    with contextlib.suppress(OSError):  # a read-only checkout still gets the answer
        _clear(path)
        atomic_write(path, answer.encode())
    return parsed


def _clear(path: Path) -> None:
    """Make room for an entry where something else stands: a directory goes, a symlink is unlinked
    (never followed); the cache folder is ours, and a regular file is simply replaced."""
    if path.is_symlink():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def ask_node_checker(
    tool: Tool,
    project_root: Path | None,
    payload: str,
    *,
    parse: Callable[[str], T],
    timeout: float = 60,
    first: Callable[[], str | None] | None = None,
) -> T:
    """A Node checker's answer (`node <script>` with `payload` on stdin), cached by tool and input,
    as `parse` reads it (a cached entry `parse` rejects is asked again).

    `first` may answer before Node is started (a warm checker); None from it means "ask Node".
    Raises ToolMissingError without Node or the checker's packages.
    """
    node, script = require(NODE), require(tool, project_root)

    def ask() -> str:
        answer = first() if first else None
        if answer is not None:
            return answer
        completed = subprocess.run(
            [node, script], input=payload, capture_output=True, text=True, timeout=timeout, check=False
        )
        if completed.returncode != 0:
            raise RuntimeError(f"the {tool.name} checker failed: {completed.stderr.strip()[:500]}")
        return completed.stdout

    identity = tool_identity(node, script, Path(script).parent / "package-lock.json")
    return cached(project_root, Path(script).parent.name, identity, payload, ask, parse=parse)
