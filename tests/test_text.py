"""`printable`: foreign text shown without letting it drive the terminal."""

from __future__ import annotations

import pytest

from dashboards_as_code.text import printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),  # clear screen
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # window title (OSC ... BEL)
        ("a\rb", "a\\x0db"),  # carriage return: overwrite the line
        ("a\nb\tc", "a\\x0ab\\x09c"),  # one message stays one line
        ("\x00\x7f", "\\x00\\x7f"),  # NUL and DEL
        ("\x9b31m", "\\x9b31m"),  # C1 CSI: an escape sequence in one character
        ("x\u2028y", "x\\u2028y"),  # line separator
        ("evil\u202etxt.exe", "evil\\u202etxt.exe"),  # right-to-left override
    ],
)
def test_control_characters_are_escaped(raw: str, shown: str) -> None:
    assert printable(raw) == shown


@pytest.mark.parametrize("text", ["", 'tenant_id="acme"', "Zürich", "東京", "🚀 rate(x[5m])", "a\\x1b b"])
def test_normal_text_is_kept_as_it_is(text: str) -> None:
    assert printable(text) == text


def test_nothing_printable_is_left_with_a_control_character() -> None:
    every = "".join(chr(code) for code in range(0x250))
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in printable(every))
