"""What a title or name may contain, in one place (dashboards, folders, datasources, panels, rows).

Two kinds of character never belong in a one-line label:
- control characters (C0 `U+0000`-`U+001F`, DEL `U+007F`, C1 `U+0080`-`U+009F`) and the line and
  paragraph separators (`U+2028`, `U+2029`): a NUL is cut off or refused by the database, a newline
  breaks the one-line header, search results and every log line that quotes the title;
- bidirectional controls (`U+202A`-`U+202E`, `U+2066`-`U+2069`, `U+200E`, `U+200F`, `U+061C`): they
  reorder the characters shown after them, so a title can read as something other than what it is
  (the "Trojan Source" trick), in Grafana and in every terminal that prints it.

Lengths are Grafana's database columns (MySQL and PostgreSQL refuse a longer value; SQLite stores
it), counted in characters as VARCHAR(n) counts them with utf8mb4:
- `dashboard.title` VARCHAR(189), migration "Update dashboard title length" (pkg/services/sqlstore/
  migrations/dashboard_mig.go);
- `folder.title` VARCHAR(189), migration "Update folder title length" (folder_mig.go: "the title
  column length of the dashboard table whose values are copied into this column is 189");
- `data_source.name` VARCHAR(190), migration "Update data_source table charset" (datasource_mig.go).
A panel or row title has no column: it lives inside the dashboard JSON. Its limit is ours and only
catches accidents (a generated string, a pasted document): no header shows anywhere near 1000
characters, so anything longer is not a title.

Messages never print an offending character raw: it is written `U+202E (RIGHT-TO-LEFT OVERRIDE)`,
and the title itself is shown with Python's escapes (`'Error\\u202erate'`), shortened when long.
"""

from __future__ import annotations

import unicodedata

DASHBOARD_TITLE_MAX = 189
FOLDER_TITLE_MAX = 189
DATASOURCE_NAME_MAX = 190
PANEL_TITLE_MAX = 1000

BIDI_CONTROLS = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
LINE_SEPARATORS = frozenset({0x2028, 0x2029})
SHOWN_MAX = 60
"""Characters of a title quoted in a message; the rest is elided (a 10,000-character title is not shown)."""

_CONTROL_NAMES = {0x00: "NULL", 0x09: "TAB", 0x0A: "LINE FEED", 0x0D: "CARRIAGE RETURN", 0x7F: "DELETE"}


def _is_control(code: int) -> bool:
    return code < 0x20 or 0x7F <= code <= 0x9F


def forbidden_character(text: str) -> str | None:
    """The first character of `text` that has no place in a one-line label, or None."""
    for char in text:
        code = ord(char)
        if _is_control(code) or code in BIDI_CONTROLS or code in LINE_SEPARATORS:
            return char
    return None


def describe_character(char: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE, a bidirectional control)`: a character named, never printed."""
    code = ord(char)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(char, "")
    if code in BIDI_CONTROLS:
        kind = "a bidirectional control, which reorders the text shown after it"
    elif code in LINE_SEPARATORS:
        kind = "a line break"
    else:
        kind = "a control character"
    return f"U+{code:04X} ({name + ', ' if name else ''}{kind})"


def shown(text: str) -> str:
    """`text` quoted for a message: escapes for what is not printable, at most SHOWN_MAX characters."""
    return repr(text) if len(text) <= SHOWN_MAX else f"{text[:SHOWN_MAX]!r}..."


def title_problem(text: object, most: int, limit: str) -> str | None:
    """Why `text` cannot be a title or name of at most `most` characters, or None if it can.

    `limit` says where the maximum comes from, for the message (a column of Grafana's, or ours)."""
    if not isinstance(text, str):
        return f"{text!r} is not a string"
    if not text.strip():
        return "is empty"
    char = forbidden_character(text)
    if char is not None:
        return f"{shown(text)} contains {describe_character(char)}"
    if len(text) > most:
        return f"{shown(text)} is {len(text)} characters; {limit} holds at most {most}"
    return None


def title_key(title: str) -> str:
    """Titles Grafana's unique indexes treat as one. Its MySQL tables use the utf8mb4_unicode_ci
    collation, which ignores case and trailing spaces (it also equates some accented letters, which
    this does not try to follow)."""
    return title.rstrip(" ").casefold()
