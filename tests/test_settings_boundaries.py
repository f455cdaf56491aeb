"""The edges of settings.py that other tests leave open: each end of each range a credential character
is judged by, a query or fragment that starts the URL's rest, and a line break that is the whole value.
(The number settings' bounds and the port range are held from both sides in test_settings.py and
test_settings_details.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards_as_code.settings import Settings, SettingsError, credential_problem, redact_url, settings
from tests.test_settings import NUMBER_BOUNDS

SECRET = "s3cr3tpw"

CONTROL = "holds a control character"
NOT_LATIN1 = "holds a character outside Latin-1"
CREDENTIAL_RANGES = [
    # (first code point, last code point, the verdict inside), as credential_problem's docstring says:
    # a control character (C0, DEL, C1) or a character outside Latin-1 cannot go into an HTTP header.
    (0x00, 0x1F, CONTROL),
    (0x7F, 0x9F, CONTROL),
    (0x100, 0x10FFFF, NOT_LATIN1),
]
EDGES = sorted(
    {
        (code, verdict)
        for first, last, verdict in CREDENTIAL_RANGES
        for code, verdict in ((first, verdict), (last, verdict))
    }
    | {
        (code, None)
        for first, last, _ in CREDENTIAL_RANGES
        for code in (first - 1, last + 1)
        if 0 <= code <= 0x10FFFF and not any(f <= code <= la for f, la, _ in CREDENTIAL_RANGES)
    }
)
"""Both ends of each refused range (refused, with its reason) and the character just outside each end
(accepted): U+001F/U+0020, U+007E/U+007F, U+009F/U+00A0, U+00FF/U+0100."""


@pytest.mark.parametrize(("code", "verdict"), EDGES, ids=[f"U+{code:04X}" for code, _ in EDGES])
def test_each_end_of_each_refused_credential_range_and_its_neighbour(code: int, verdict: str | None) -> None:
    """A credential is refused exactly for the characters an HTTP header cannot carry, with the reason
    and the place; its printable neighbours (a space, `~`, a no-break space, `ÿ`) are part of a
    password like any other character, so a range one wider locks out a valid credential."""
    value = f"ab{chr(code)}cd"
    problem = credential_problem(value)
    if verdict is None:
        assert problem is None, problem
    else:
        assert problem is not None and problem.startswith(f"{verdict} (U+{code:04X}, character 3 of 5)"), (
            problem
        )


@pytest.mark.parametrize(
    ("value", "says"),
    [("\n", "ends with a line break"), ("\r", "ends with a carriage return (CR)")],
)
def test_a_line_break_that_is_the_whole_value_is_the_trailing_break(value: str, says: str) -> None:
    """`position == len(value)` with a one-character value: the break is the last character (a quoted
    `.env` value `"` + newline + `"`), so the advice is the multi-line one, not "character 1 of 1"."""
    problem = credential_problem(value)
    assert problem is not None and problem.startswith(says), problem


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"http://?{SECRET}", "http://?***"),
        (f"http://#{SECRET}", "http://#***"),
        (f"?{SECRET}", "?***"),
        (f"http://user:{SECRET}@?{SECRET}", "http://***@?***"),
    ],
)
def test_a_query_or_fragment_at_the_very_start_is_masked_too(url: str, shown: str) -> None:
    """The cut is found at index 0 as well (`>= 0`, not `> 0`): a URL whose rest starts with `?` or
    `#` must not print the token after it."""
    assert redact_url(url) == shown


def test_a_grafana_url_that_is_only_a_query_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_URL", f"http://?token={SECRET}")
    with pytest.raises(SettingsError) as raised:
        settings(tmp_path)
    assert str(raised.value).startswith("GRAFANA_URL: ") and SECRET not in str(raised.value)


def test_an_empty_env_file_is_no_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty `.env` (0 bytes) has no bad line: the settings are read, as with no `.env` at all."""
    monkeypatch.setenv("GRAFANA_URL", "http://h:3000")
    (tmp_path / ".env").write_bytes(b"")
    assert settings(tmp_path).grafana_url == "http://h:3000"


def _bounds(field: str) -> dict[str, float]:
    """The numeric bounds pydantic enforces on `field` (`gt`, `le`...)."""
    found: dict[str, float] = {}
    for constraint in Settings.model_fields[field].metadata:
        for name in ("gt", "ge", "lt", "le"):
            value = getattr(constraint, name, None)
            if value is not None:
                found[name] = value
    return found


def test_every_bounded_number_setting_is_one_whose_bounds_are_held_from_both_sides() -> None:
    """Every number setting the model bounds is in test_settings.NUMBER_BOUNDS (the documented
    `0 < t <= bound`, each side tried by the tests there) with the same bound, and its default lies
    inside: a new bounded setting, or a bound changed in the model only, fails here."""
    bounded = {field: _bounds(field) for field in Settings.model_fields if _bounds(field)}
    assert {field.upper(): bounds for field, bounds in bounded.items()} == {
        variable: {"gt": 0, "le": bound} for variable, bound in NUMBER_BOUNDS.items()
    }
    for field, bounds in bounded.items():
        default = Settings.model_fields[field].default
        assert bounds["gt"] < default <= bounds["le"], (field, default)


def test_an_empty_password_is_named_not_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`GRAFANA_PASSWORD=` (a `.env` template left unfilled) with a user: Grafana would answer 401 to
    every request; the setting is named instead, before anything is asked of Grafana."""
    for name in ("GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("GRAFANA_USER=admin\nGRAFANA_PASSWORD=\n")
    with pytest.raises(SettingsError, match="GRAFANA_PASSWORD is empty"):
        settings(tmp_path).grafana_credential()
    (tmp_path / ".env").write_text(f"GRAFANA_USER=admin\nGRAFANA_PASSWORD={SECRET}\n")
    assert settings(tmp_path).grafana_credential() == ("admin", SECRET)
