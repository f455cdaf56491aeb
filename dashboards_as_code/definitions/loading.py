"""Running a project's definition code: imports from the project root, and every failure a finding.

Definition code is user code: whatever it raises or does (an unknown contract signal, a typo, a
`sys.exit`) becomes a `DefinitionError` naming the file and line, which the CLI prints without a
traceback. The loader and every kind's `discover` (dashboards_as_code/kinds/) run definitions
through `Loading`.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from pydantic import ValidationError

from dashboards_as_code.errors import DefinitionError, LoadInterruptedError, Location

ENGINE_DIR = Path(__file__).resolve().parents[1]
"""Frames in here are the engine's, not the definition's: a finding points past them."""

T = TypeVar("T")


def _where(root: Path, error: BaseException, fallback: Path) -> str:
    """`dashboards/overview.py:42`: the last frame of the traceback that is in the project's own files."""
    if isinstance(error, SyntaxError) and error.filename and not error.filename.startswith("<"):
        path = Path(error.filename).resolve()
        if path.is_relative_to(root):
            return f"{path.relative_to(root)}:{error.lineno}" if error.lineno else str(path.relative_to(root))
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.startswith("<"):  # <frozen importlib._bootstrap>, <string>: not a file of ours
            continue
        path = Path(frame.filename).resolve()
        if path.is_relative_to(root) and not path.is_relative_to(ENGINE_DIR) and ".venv" not in path.parts:
            return f"{path.relative_to(root)}:{frame.lineno}"
    return str(fallback.relative_to(root)) if fallback.is_relative_to(root) else str(fallback)


def _describe(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r}) while being loaded; a definition must return, not exit"
    if isinstance(error, ValidationError):  # pydantic: one line per field, never the input value
        fields = [
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors(include_input=False, include_url=False)
        ]
        return f"{error.title} is invalid: " + "; ".join(fields)
    if isinstance(error, RecursionError):
        return "RecursionError: a function calls itself without end"
    if isinstance(error, SyntaxError) and "decode" in str(error):
        return f"the file is not valid UTF-8 ({error.msg})"
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _run(root: Path, file: Path, action: Callable[[], T]) -> T:
    """Run definition code. It is user code: whatever it raises or does is reported, never crashed on."""
    try:
        return action()
    except DefinitionError as error:
        if error.location.file is None:  # raised by an engine helper the definition called: say where
            located = replace(error.location, file=_where(root, error, file))
            raise type(error)(located, error.message) from None
        raise
    except KeyboardInterrupt as error:
        raise LoadInterruptedError(
            Location(file=_where(root, error, file)), "interrupted while loading"
        ) from None
    except BaseException as error:
        raise DefinitionError(Location(file=_where(root, error, file)), _describe(error)) from None


def _import(root: Path, name: str, file: Path) -> ModuleType:
    return _run(root, file, lambda: importlib.import_module(name))


def _required(module: ModuleType, name: str, kind: type | tuple[type, ...], file: str, what: str) -> Any:
    found = getattr(module, name, None)
    if not isinstance(found, kind):
        raise DefinitionError(Location(file=file), f"must define {what}")
    return found


@dataclass(frozen=True)
class Loading:
    """One project being loaded: its root, and the safe ways to run its code."""

    root: Path

    def run(self, file: Path, action: Callable[[], T]) -> T:
        """Call definition code from `file`; anything it raises is a DefinitionError naming it."""
        return _run(self.root, file, action)

    def package(self, name: str) -> ModuleType:
        """Import the project's top-level package `name` (its `__init__.py`)."""
        return _import(self.root, name, self.root / name / "__init__.py")

    def module(self, name: str, file: Path) -> ModuleType:
        """Import the project's module `name` (dotted), defined in `file`."""
        return _import(self.root, name, file)

    def required(
        self, module: ModuleType, name: str, kind: type | tuple[type, ...], file: str, what: str
    ) -> Any:
        """`module.name` if it is a `kind`; otherwise a DefinitionError: `file` must define `what`."""
        return _required(module, name, kind, file, what)
