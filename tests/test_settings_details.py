"""Settings details a user sees: the example a bad URL's message gives, each problem named at once,
the port range, what `.env` problems say, and where a secret could leak through a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards_as_code import defaults
from dashboards_as_code.settings import SettingsError, credential_problem, redact_url, settings

SECRET = "s3cr3tpw"
VARIABLES = ("GRAFANA_URL", "PROMETHEUS_URL", "LOKI_URL", "GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*VARIABLES, "GRAFANA_TIMEOUT", "DOCTOR_TIMEOUT", "WATCH_CHILD_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def refusal(tmp_path: Path) -> str:
    with pytest.raises(SettingsError) as raised:
        settings(tmp_path)
    return str(raised.value)


@pytest.mark.parametrize(
    ("variable", "example"),
    [
        ("GRAFANA_URL", defaults.GRAFANA_URL),
        ("PROMETHEUS_URL", defaults.PROMETHEUS_URL),
        ("LOKI_URL", defaults.LOKI_URL),
    ],
)
def test_a_url_without_a_scheme_is_refused_with_that_services_own_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, example: str
) -> None:
    """`LOKI_URL=loki:3100` is answered with Loki's address as the example, not Grafana's."""
    monkeypatch.setenv(variable, "ftp://host:1")
    assert (
        refusal(tmp_path) == f"{variable}: 'ftp://host:1' is not an http:// or https:// URL (e.g. {example})"
    )


def test_the_examples_are_three_different_services() -> None:
    assert len({defaults.GRAFANA_URL, defaults.PROMETHEUS_URL, defaults.LOKI_URL}) == 3


@pytest.mark.parametrize("variable", ["PROMETHEUS_URL", "LOKI_URL"])
@pytest.mark.parametrize("empty", ["", "  ", "/"])
def test_an_empty_datasource_url_leaves_it_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, empty: str
) -> None:
    monkeypatch.setenv(variable, empty)
    assert getattr(settings(tmp_path), variable.lower()) == ""


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_grafana_url_is_refused_not_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty: str
) -> None:
    monkeypatch.setenv("GRAFANA_URL", empty)
    assert refusal(tmp_path).startswith("GRAFANA_URL: '' is not an http:// or https:// URL")


def test_every_bad_variable_is_named_in_one_message_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fixing one variable only to be told about the next is a round trip per variable."""
    monkeypatch.setenv("GRAFANA_URL", "grafana:3000")
    monkeypatch.setenv("GRAFANA_TIMEOUT", "0")
    monkeypatch.setenv("LOKI_URL", "http://:3100")
    parts = refusal(tmp_path).split("; ")
    assert [part.split(":", 1)[0] for part in parts] == ["GRAFANA_URL", "GRAFANA_TIMEOUT", "LOKI_URL"]
    assert parts[2] == "LOKI_URL: 'http://:3100' names no host"
    assert not parts[0].startswith("GRAFANA_URL: Value error")


@pytest.mark.parametrize("port", ["1", "65535"])
def test_both_ends_of_the_port_range_are_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    monkeypatch.setenv("GRAFANA_URL", f"http://h:{port}")
    assert settings(tmp_path).grafana_url == f"http://h:{port}"


@pytest.mark.parametrize("port", ["0", "65536", "-1", "x"])
def test_a_port_outside_the_range_names_the_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    monkeypatch.setenv("PROMETHEUS_URL", f"http://h:{port}")
    assert refusal(tmp_path) == f"PROMETHEUS_URL: 'http://h:{port}' has an invalid port (1-65535)"


def test_a_url_with_credentials_says_which_variables_to_use_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_URL", f"http://admin:{SECRET}@h:3000")
    assert refusal(tmp_path) == (
        "GRAFANA_URL: 'http://***@h:3000' carries credentials: give the URL without them (for Grafana, "
        "set GRAFANA_TOKEN, or GRAFANA_USER and GRAFANA_PASSWORD)"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"http://h/#{SECRET}?a=1", "http://h/#***"),  # the fragment comes first: it hides the rest
        (f"http://h/?{SECRET}#x", "http://h/?***"),
        (f"admin:{SECRET}@h:3000/x", "***@h:3000/x"),  # no scheme
        (f"h:3000/?token={SECRET}", "h:3000/?***"),
    ],
)
def test_redact_url_cuts_at_the_first_of_query_or_fragment_with_or_without_a_scheme(
    url: str, shown: str
) -> None:
    assert redact_url(url) == shown


def test_a_grafana_url_with_a_fragment_before_a_query_never_shows_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_URL", f"http://h:3000/#{SECRET}?token={SECRET}")
    message = refusal(tmp_path)
    assert SECRET not in message and "'http://h:3000/#***'" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ab\ncd", "holds a control character (U+000A, character 3 of 5): give the value without it"),
        ("ab\rcd", "holds a control character (U+000D, character 3 of 5)"),
        ("\nabc", "holds a control character (U+000A, character 1 of 4)"),
        ("a\tb", "holds a control character (U+0009, character 2 of 3)"),
        ("\x1f", "holds a control character (U+001F, character 1 of 1)"),
    ],
)
def test_a_line_break_inside_a_credential_is_a_control_character_at_its_position(
    value: str, expected: str
) -> None:
    """Only a break at the very end is the multi-line `.env` mistake; one inside names its place."""
    problem = credential_problem(value)
    assert problem is not None and problem.startswith(expected), problem


def test_a_trailing_line_break_gives_the_advice_in_full() -> None:
    assert credential_problem(SECRET + "\n") == (
        "ends with a line break (a multi-line quoted value in .env, or a file saved with CRLF?): "
        "give the value on one line"
    )
    carriage_return = credential_problem("x\r")
    assert carriage_return is not None
    assert carriage_return.startswith("ends with a carriage return (CR) (a multi-line quoted value in .env")


def test_a_character_outside_latin1_names_its_position_and_the_length() -> None:
    assert credential_problem("glsa_\u2019x") == (
        "holds a character outside Latin-1 (U+2019, character 6 of 7), which an HTTP header cannot "
        "carry: check the value was pasted whole"
    )


def test_the_first_bad_character_is_the_one_named() -> None:
    problem = credential_problem("a\u2019b\x00")
    assert problem is not None and "U+2019, character 2 of 4" in problem


def test_an_env_file_that_is_not_utf8_names_the_byte_and_its_offset(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"GRAFANA_USER=admin\nGRAFANA_PASSWORD=\xe9t\xe9\n")
    assert refusal(tmp_path) == f"{tmp_path / '.env'}: not UTF-8 text (byte 0xe9 at offset 36)"


def test_a_utf8_env_file_gives_its_accented_password_as_written(tmp_path: Path) -> None:
    """`.env` is read as UTF-8 (the only encoding `_check_env_file` lets through): a password with
    an accent, saved by any editor as UTF-8, is sent as the user typed it. Read as Latin-1, `é`
    (two bytes in UTF-8) would become `Ã©`, and Grafana would answer 401 to a correct password."""
    (tmp_path / ".env").write_bytes("GRAFANA_USER=admin\nGRAFANA_PASSWORD=s3crét\n".encode())
    assert settings(tmp_path).grafana_credential() == ("admin", "s3crét")


def test_every_bad_env_line_is_listed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"# local Grafana\nGRAFANA_USER=admin\nGRAFANA_PASSWORD {SECRET}\n\nLOKI_URL=\nnot a binding\n"
    )
    message = refusal(tmp_path)
    assert message == f"{tmp_path / '.env'}: line(s) 3, 6 are not NAME=value (comments start with #)"
    assert SECRET not in message


def test_an_env_file_that_is_a_directory_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()
    assert refusal(tmp_path) == f"{tmp_path / '.env'}: cannot be read (Is a directory)"


def test_values_come_from_env_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`.env` fills in what the environment does not say; a variable set in the shell overrides it."""
    (tmp_path / ".env").write_text("GRAFANA_URL=http://from-env-file:3000/\nGRAFANA_TIMEOUT=7\nLOKI_URL=\n")
    monkeypatch.setenv("GRAFANA_TIMEOUT", "9")
    found = settings(tmp_path)
    assert (found.grafana_url, found.grafana_timeout, found.loki_url) == ("http://from-env-file:3000", 9, "")


def test_with_nothing_set_every_setting_is_its_documented_default(tmp_path: Path) -> None:
    found = settings(tmp_path)
    assert (found.grafana_url, found.prometheus_url, found.loki_url) == (
        defaults.GRAFANA_URL,
        defaults.PROMETHEUS_URL,
        defaults.LOKI_URL,
    )
    assert (found.grafana_timeout, found.doctor_timeout, found.watch_child_timeout_seconds) == (
        defaults.GRAFANA_TIMEOUT_SECONDS,
        defaults.DOCTOR_TIMEOUT_SECONDS,
        defaults.WATCH_CHILD_TIMEOUT_SECONDS,
    )
