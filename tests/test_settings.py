"""Grafana settings are validated at the edge: a bad GRAFANA_URL or timeout is a named error, exit 2,
no traceback, and a password in the URL is never printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboards_as_code.settings import SettingsError, credential_problem, redact_url, settings
from tests.conftest import REPO

SECRET = "s3cr3tpw"


def push(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRAFANA_")}
    return subprocess.run(
        [sys.executable, str(REPO / "build.py"), "push", "--dry-run"],
        env={**clean, "GRAFANA_TOKEN": "glsa_test", **env},
        cwd=tmp_path,  # no .env from a developer's checkout
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"http://admin:{SECRET}@127.0.0.1:9", "carries credentials"),
        (f"http://admin:{SECRET}/x@127.0.0.1:9", "credentials"),
        (f"https://{SECRET}@grafana.example", "carries credentials"),
        ("htp:/x", "is not an http:// or https:// URL"),
        ("localhost:3001", "is not an http:// or https:// URL"),
        ("", "is not an http:// or https:// URL"),
        ("http://x:99999", "invalid port"),
        ("http://x:0", "invalid port"),
        ("http://[::1", "is not a URL"),
        ("ftp://host", "is not an http:// or https:// URL"),
        ("http://:3001", "names no host"),
        ("http://localhost:3001/?orgId=1", "query or fragment"),
    ],
)
def test_bad_grafana_url(tmp_path: Path, url: str, expected: str) -> None:
    result = push(tmp_path, GRAFANA_URL=url)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert "GRAFANA_URL" in output and expected in output, output
    assert SECRET not in output


@pytest.mark.parametrize("timeout", ["-1", "0", "301", "soon"])
def test_bad_grafana_timeout(tmp_path: Path, timeout: str) -> None:
    result = push(tmp_path, GRAFANA_URL="http://127.0.0.1:9", GRAFANA_TIMEOUT=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and "GRAFANA_TIMEOUT" in output, output


def watch_output(tmp_path: Path, **env: str) -> tuple[int, str]:
    """`watch`'s exit code and output. Output goes to a file, not a pipe: a watch that wrongly starts
    is stopped with SIGTERM (it stops its children itself) and the test fails instead of hanging."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GRAFANA_", "WATCH_"))}
    log = tmp_path / "watch.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "watch", "--project", str(tmp_path)],
            env={**clean, **env}, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=30)
            raise AssertionError(
                f"watch started instead of refusing the setting: {log.read_text()}"
            ) from None
    return code, log.read_text()


@pytest.mark.parametrize("limit", ["-1", "0", "3601", "soon", "nan"])
def test_bad_watch_child_timeout_stops_watch_before_it_starts(tmp_path: Path, limit: str) -> None:
    code, output = watch_output(tmp_path, WATCH_CHILD_TIMEOUT_SECONDS=limit)
    assert code == 2, output
    assert "Traceback" not in output and "WATCH_CHILD_TIMEOUT_SECONDS" in output, output
    assert "watching" not in output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"http://u:p@ss{SECRET}@host", "http://***@host"),
        (f"http://h:3001/?token={SECRET}", "http://h:3001/?***"),
        (f"http://h/#{SECRET}", "http://h/#***"),
        (f"https://u:{SECRET}@h/x?a={SECRET}#f", "https://***@h/x?***"),
        ("http://h:3001", "http://h:3001"),
    ],
)
def test_redact_url_masks_userinfo_query_and_fragment(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SECRET + "\n", "ends with a line break"),
        (SECRET + "\r", "ends with a carriage return"),
        (SECRET + "\r\n", "control character (U+000D"),
        ("a\x00b", "control character (U+0000, character 2 of 3)"),
        ("a\x85b", "control character (U+0085"),
        ("tok\u2013en", "outside Latin-1 (U+2013"),
        ("tok😀", "outside Latin-1 (U+1F600"),
    ],
)
def test_a_credential_that_cannot_go_into_a_header_is_refused_without_repeating_it(
    value: str, expected: str
) -> None:
    problem = credential_problem(value)
    assert problem is not None and expected in problem
    assert SECRET not in problem and value not in problem


def test_latin1_credentials_pass() -> None:
    assert credential_problem("glsa_Abc-123_é") is None


@pytest.mark.parametrize("char", ["\x7f", "\x80", "\x9f"])
def test_del_and_both_ends_of_the_c1_range_are_refused_naming_the_code_point(char: str) -> None:
    """DEL and the C1 controls (U+0080..U+009F) are Latin-1 code points, yet control characters: DEL
    is no visible character in an HTTP field value (RFC 9110), and no token or password a person typed
    holds a C1 control, so a paste that brought one in is refused like U+0000..U+001F."""
    problem = credential_problem(f"glsa_{char}x")
    assert problem is not None and f"control character (U+{ord(char):04X}, character 6 of 7)" in problem


@pytest.mark.parametrize("char", [" ", "\x7e", "\xa0", "\xe9", "\xff"])
def test_the_printable_neighbours_of_the_control_ranges_pass(char: str) -> None:
    """A space just above U+001F (a pass phrase holds spaces), `~` just below DEL, NO-BREAK SPACE just
    above the C1 range, and Latin-1 letters up to ÿ."""
    assert credential_problem(f"glsa_{char}x") is None


@pytest.mark.parametrize("variable", ["GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD"])
def test_each_credential_variable_is_checked_where_it_enters(
    variable: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, SECRET + "\n")
    with pytest.raises(SettingsError) as raised:
        settings(tmp_path)
    assert str(raised.value).startswith(f"{variable}: ends with a line break")
    assert SECRET not in str(raised.value)


URL_VARIABLES = ["GRAFANA_URL", "PROMETHEUS_URL", "LOKI_URL"]


def _refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, url: str) -> str:
    """The message `settings()` refuses `url` in `variable` with (it must refuse it)."""
    monkeypatch.setenv(variable, url)
    with pytest.raises(SettingsError) as raised:
        settings(tmp_path)  # an empty folder: no developer's .env
    return str(raised.value)


@pytest.mark.parametrize("variable", URL_VARIABLES)
@pytest.mark.parametrize(
    "url",
    [
        "http://h:3000/#",  # an empty fragment: every request would go to `/`
        "http://h:3000#",
        "http://h:3000/#/",  # the trailing slash is stripped, the `#` is not
        "http://h:3000/#/d/overview",
        f"http://h:3000/#{SECRET}",
        "http://h:3000/?",
        "http://h:3000/d?orgId=1",
    ],
)
def test_a_url_with_a_query_or_fragment_is_refused_for_every_url_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, url: str
) -> None:
    """Each request is the URL plus an API path: after a `#` or `?`, that path is no path at all."""
    message = _refusal(tmp_path, monkeypatch, variable, url)
    assert message.startswith(f"{variable}: ") and "query or fragment" in message
    assert SECRET not in message


@pytest.mark.parametrize("variable", URL_VARIABLES)
@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("http://h:3000/", "http://h:3000"),
        (" http://h:3000// ", "http://h:3000"),
        ("https://h/grafana/", "https://h/grafana"),  # behind a reverse proxy, under a sub-path
    ],
)
def test_a_trailing_slash_is_dropped_from_every_url_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, given: str, root: str
) -> None:
    """Every request is the URL plus an API path that starts with `/`: a kept slash would send
    `//api/...`, which Prometheus and Grafana answer with 404 or a redirect."""
    monkeypatch.setenv(variable, given)
    assert getattr(settings(tmp_path), variable.lower()) == root


PIECES = ("pw1", "pw2", "pw3")
"""Parts of a password that holds `@`: none may appear in the message, not even the last one."""


@pytest.mark.parametrize("variable", URL_VARIABLES)
@pytest.mark.parametrize(
    "url",
    [
        "http://admin:pw1@pw2@host:3000",
        "http://admin:pw1@pw2@pw3@host:3000/",
        "http://pw1@pw2@host",
        "https://admin:pw1#pw2@host",  # a `#` inside the password is no fragment
        "https://admin:pw1?pw2@pw3@host",
        "http://admin:pw1/pw2@host",
    ],
)
def test_a_password_holding_at_or_url_syntax_is_never_partly_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, url: str
) -> None:
    message = _refusal(tmp_path, monkeypatch, variable, url)
    assert message.startswith(f"{variable}: ") and "carries credentials" in message
    assert "***@host" in message
    assert not [piece for piece in PIECES if piece in message], message


NUMBER_BOUNDS = {
    "GRAFANA_TIMEOUT": 300,
    "DOCTOR_TIMEOUT": 300,
    "WATCH_CHILD_TIMEOUT_SECONDS": 3600,
}
"""Each number setting's documented upper bound (0 < t <= bound): the bound itself is allowed."""


@pytest.mark.parametrize("variable", NUMBER_BOUNDS)
def test_each_number_setting_takes_its_bound_and_the_smallest_positive_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """A user who reads "at most 300 s" and writes 300 must not be refused."""
    bound = NUMBER_BOUNDS[variable]
    for value in (bound, 0.001):
        monkeypatch.setenv(variable, str(value))
        assert getattr(settings(tmp_path), variable.lower()) == value


@pytest.mark.parametrize("variable", NUMBER_BOUNDS)
def test_each_number_setting_refuses_zero_and_just_past_its_bound_naming_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    for value in ("0", "-1", str(NUMBER_BOUNDS[variable] + 0.5), "nan", "inf"):
        message = _refusal(tmp_path, monkeypatch, variable, value)
        assert message.startswith(f"{variable}: "), (value, message)


def _credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> str | tuple[str, str]:
    for name in ("GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings(tmp_path).grafana_credential()


def test_an_empty_token_leaves_basic_auth_in_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`GRAFANA_TOKEN=` (a .env template's empty line) is no token: the user and password are used,
    not an empty bearer token that Grafana would refuse with 401."""
    found = _credential(
        tmp_path, monkeypatch, GRAFANA_TOKEN="", GRAFANA_USER="admin", GRAFANA_PASSWORD=SECRET
    )
    assert found == ("admin", SECRET)


def test_a_token_wins_over_user_and_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _credential(
        tmp_path, monkeypatch, GRAFANA_TOKEN="glsa_x", GRAFANA_USER="admin", GRAFANA_PASSWORD=SECRET
    )
    assert found == "glsa_x"


@pytest.mark.parametrize(
    "env",
    [{}, {"GRAFANA_USER": "admin"}, {"GRAFANA_PASSWORD": SECRET}, {"GRAFANA_TOKEN": "", "GRAFANA_USER": ""}],
    ids=["none", "user-only", "password-only", "all-empty"],
)
def test_half_a_credential_is_no_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    with pytest.raises(SettingsError, match="no Grafana credentials: set GRAFANA_TOKEN") as raised:
        _credential(tmp_path, monkeypatch, **env)
    assert SECRET not in str(raised.value)
