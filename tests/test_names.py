"""The title and name rules (dashboards_as_code/names.py) and the uid key (dashboards_as_code/uids.py),
one rule at a time."""

import pytest

from dashboards_as_code.names import (
    BIDI_CONTROLS,
    DASHBOARD_TITLE_MAX,
    DATASOURCE_NAME_MAX,
    SHOWN_MAX,
    describe_character,
    forbidden_character,
    shown,
    title_key,
    title_problem,
)
from dashboards_as_code.uids import uid_key

BIDI = [
    *("\u061c", "\u200e", "\u200f"),  # ARABIC LETTER MARK, LEFT-TO-RIGHT MARK, RIGHT-TO-LEFT MARK
    *("\u202a", "\u202b", "\u202c", "\u202d", "\u202e"),  # embeddings, POP, overrides
    *("\u2066", "\u2067", "\u2068", "\u2069"),  # isolates and POP DIRECTIONAL ISOLATE
]


def test_the_bidi_controls_are_exactly_the_listed_ones() -> None:
    assert {chr(c) for c in BIDI_CONTROLS} == set(BIDI)


@pytest.mark.parametrize(
    "char", [*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), *BIDI, "\u2028", "\u2029"]
)
def test_every_control_bidi_and_line_break_character_is_refused(char: str) -> None:
    assert forbidden_character(f"Error{char}rate") == char
    problem = title_problem(f"Error{char}rate", 100, "x")
    assert problem is not None and f"U+{ord(char):04X}" in problem
    assert char not in problem, "the character is shown as an escape, never raw"


@pytest.mark.parametrize("title", ["Error rate", "Taux d'erreur é", "錯誤率", "Latency (p95) — 5m", "ሰላም 👋"])
def test_ordinary_titles_in_any_script_pass(title: str) -> None:
    assert title_problem(title, 189, "x") is None


def test_limits_are_the_columns_and_count_characters() -> None:
    assert DASHBOARD_TITLE_MAX == 189 and DATASOURCE_NAME_MAX == 190
    assert title_problem("é" * 189, 189, "x") is None, "VARCHAR(189) counts characters, not bytes"
    problem = title_problem("x" * 190, 189, "Grafana's dashboard.title column")
    assert (
        problem is not None
        and "is 190 characters; Grafana's dashboard.title column holds at most 189" in problem
    )


def test_empty_or_blank_titles_and_non_strings() -> None:
    assert title_problem("", 189, "x") == "is empty"
    assert title_problem(" \u00a0", 189, "x") == "is empty"
    assert title_problem(42, 189, "x") == "42 is not a string"


def test_long_titles_are_shortened_in_messages() -> None:
    assert shown("ab") == "'ab'"
    long = shown("x" * 10_000)
    assert long == f"'{'x' * 60}'..."
    problem = title_problem("x" * 10_000, 189, "the column")
    assert problem == f"{long} is 10000 characters; the column holds at most 189"


def test_a_text_of_exactly_shown_max_characters_is_quoted_whole() -> None:
    """A text that fits in SHOWN_MAX characters is quoted whole, with no `...`; one character more is cut.

    The `...` tells the reader that part of the title is missing from the message. A title of exactly
    SHOWN_MAX characters is shown in full, so a `...` after it would claim a cut that did not happen
    (and the reader would go looking for the rest of a name they already see)."""
    fits = "x" * (SHOWN_MAX - 1) + "y"
    assert shown(fits) == repr(fits), "all SHOWN_MAX characters shown, nothing elided"
    assert not shown(fits).endswith("...")
    longer = fits + "z"
    assert shown(longer) == f"{fits!r}...", "one character over: cut to SHOWN_MAX and marked with ..."
    title = "Payments " + "x" * (SHOWN_MAX - 10) + "\x7f"
    assert len(title) == SHOWN_MAX
    assert (
        title_problem(title, DATASOURCE_NAME_MAX, "x")
        == f"{title!r} contains U+007F (DELETE, a control character)"
    )


def test_characters_are_described_by_code_point_and_name() -> None:
    assert describe_character("\x00") == "U+0000 (NULL, a control character)"
    assert describe_character("\x9b") == "U+009B (a control character)"
    assert describe_character("\u202e").startswith("U+202E (RIGHT-TO-LEFT OVERRIDE, a bidirectional control")


def test_keys_compare_as_grafanas_mysql_collation_does() -> None:
    assert uid_key("Overview") == uid_key("overview") != uid_key("overview-2")
    assert title_key("TikTickets") == title_key("tiktickets ") != title_key(" tiktickets")
