"""Every kind of Grafana object the project manages, found once: the registry the workflows iterate.

A kind is a module (or package) here that defines `KIND` (see `base.py`). The loader asks each
kind for its definitions, `build_documents` for its documents, `build` and `check` for its files
and references, `diff` and `push` for its objects, `push --prune` (for a `Prunable` kind) for what
to delete. Adding a kind is adding a module; nothing else names the kinds.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from dashboards_as_code.kinds.base import Kind, NestedInProvisioning

if TYPE_CHECKING:
    from dashboards_as_code.definitions.types import Project


@functools.cache
def _found() -> tuple[Kind, ...]:
    kinds = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, Kind):
            kinds.append(kind)
    return tuple(sorted(kinds, key=lambda k: (k.order, k.name)))


_extra: list[Kind] = []
"""Kinds registered at run time (`register`): a test's throwaway kind, or a plugin's."""


def registry() -> tuple[Kind, ...]:
    """Every kind, in push order (what others refer to first)."""
    return tuple(sorted((*_found(), *_extra), key=lambda k: (k.order, k.name)))


def kind_named(name: str) -> Kind:
    """The kind called `name`; a KeyError names the known ones."""
    for kind in registry():
        if kind.name == name:
            return kind
    raise KeyError(f"no kind {name!r} (known: {', '.join(k.name for k in registry())})")


def register(kind: Kind) -> None:
    """Add a kind defined outside this package; `unregister` removes it again."""
    if any(k.name == kind.name for k in registry()):
        raise ValueError(f"a kind named {kind.name!r} is already registered")
    _extra.append(kind)


def unregister(kind: Kind) -> None:
    """Remove a kind `register` added (a test's throwaway kind, once the test is done)."""
    _extra.remove(kind)


def nested_entries(host: str, project: Project) -> dict[str, dict[str, list[Any]]]:
    """What every `NestedInProvisioning` kind adds to the entries of `host`'s provisioning file: host
    object uid -> key -> entries (correlations under their source datasource)."""
    merged: dict[str, dict[str, list[Any]]] = {}
    for kind in registry():
        if isinstance(kind, NestedInProvisioning) and kind.host == host:
            for uid, keys in kind.nested_entries(project).items():
                for key, entries in keys.items():
                    merged.setdefault(uid, {}).setdefault(key, []).extend(entries)
    return merged
