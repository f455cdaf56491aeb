"""Grafana's environment-variable expansion in provisioning files, and the escaping that survives it.

Grafana expands `$NAME` and `${NAME}` in every string of a provisioning YAML file and replaces
unknown names with "", so `${__value.raw}` written plainly arrives as an empty string. `$$` is the
only way to get a literal `$` through. `expand()` re-implements the rule exactly as Grafana's
`interpolateValue` + Go's `os.Expand` apply it (shared/reference/grafana.md, Appendix A), so the
tests can prove that what we write is what Grafana stores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SPECIAL = set("*#$@!?-")


def escape(value: str) -> str:
    """The YAML text that Grafana turns back into exactly `value`."""
    return value.replace("$", "$$")


def escape_tree(document: Any) -> Any:
    """`escape` applied to every string in a document (keys are not interpolated)."""
    if isinstance(document, str):
        return escape(document)
    if isinstance(document, Mapping):
        return {key: escape_tree(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [escape_tree(value) for value in document]
    return document


def _name_at(piece: str, start: int) -> tuple[str | None, int]:
    """Go's getShellName: the variable name after the `$` at start-1, and how many bytes it spans."""
    if piece[start] == "{":
        if (
            len(piece) > start + 2
            and (piece[start + 1] in _SPECIAL or piece[start + 1].isdigit())
            and (piece[start + 2] == "}")
        ):
            return piece[start + 1], 3
        end = piece.find("}", start + 1)
        if end == -1:
            return "", 1  # "${" with no closing brace: both characters are dropped
        return piece[start + 1 : end], end - start + 1
    if piece[start] in _SPECIAL or piece[start].isdigit():
        return piece[start], 1
    end = start
    while end < len(piece) and (piece[end].isascii() and (piece[end].isalnum() or piece[end] == "_")):
        end += 1
    if end == start:
        return None, 0  # "$" before other punctuation stays as it is
    return piece[start:end], end - start


def _expand_piece(piece: str, env: Mapping[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(piece):
        if piece[i] == "$" and i + 1 < len(piece):
            name, width = _name_at(piece, i + 1)
            if name is None:
                out.append("$")
                i += 1
                continue
            out.append(env.get(name, "") if name else "")
            i += 1 + width
            continue
        out.append(piece[i])
        i += 1
    return "".join(out)


def expand(value: str, env: Mapping[str, str] | None = None) -> str:
    """What Grafana stores for the YAML string `value`, given its process environment."""
    return "$".join(_expand_piece(piece, env or {}) for piece in value.split("$$"))


def references(value: str) -> list[str]:
    """Names Grafana would look up in its environment for the YAML string `value`."""
    seen: list[str] = []

    class _Recorder(dict[str, str]):
        def get(self, key: str, default: str | None = None) -> str:  # type: ignore[override]
            seen.append(key)
            return ""

    for piece in value.split("$$"):
        _expand_piece(piece, _Recorder())
    return seen
