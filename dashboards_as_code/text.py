"""Text that came from outside (a server's error message, an answer's body) made safe for a terminal.

A server may put escape sequences, carriage returns or bidirectional overrides in an error message;
printed raw they can rewrite the user's screen or hide what was said. Every message that quotes
such text passes it through `printable` once, here.
"""

from __future__ import annotations

import unicodedata

UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
"""Controls, format characters (bidi overrides, zero-width), line/paragraph separators, surrogates,
private-use and unassigned code points."""


def _escaped(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str, *, limit: int = 500) -> str:
    """`text` on one line with every control or invisible character shown as an escape (`\\x1b`).

    Idempotent: escaping leaves only printable characters, so a message escaped twice reads the same.
    Text longer than `limit` is cut, with `...` (an HTML page as an error body is not worth a screen).
    """
    shown = "".join(_escaped(c) if unicodedata.category(c) in UNSAFE_CATEGORIES else c for c in text)
    return shown if len(shown) <= limit else shown[:limit] + "..."
