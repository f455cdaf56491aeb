"""Text that came from elsewhere (a server's error message, a label value), made safe to print.

A datasource or a Grafana answer can hold terminal escape sequences ("\\x1b[2J" clears the screen,
others retitle the window or fake a prompt). Printing them raw lets a remote server drive the
user's terminal, so every foreign string passes through `printable` before it is shown.
"""

from __future__ import annotations

import unicodedata

_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Direction overrides: they reorder what follows, so a shown message would not read as sent."""


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _is_control(char: str) -> bool:
    """C0 and C1 controls and DEL (category Cc), line and paragraph separators, direction overrides."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI


def printable(text: str) -> str:
    """`text` with every control character written as an escape (`\\x1b`, `\\x7f`, `\\u2028`).

    Normal Unicode (accents, CJK, emoji) is kept as it is; tabs and newlines are escaped too, so one
    message stays one line.
    """
    return "".join(_escaped(char) if _is_control(char) else char for char in text)
