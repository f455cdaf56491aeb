"""Settings from the environment (and `.env`), read in one place only.

Secrets are `SecretStr`: they print as `**********` in any repr, log line or error message.
"""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dashboards_as_code import defaults

DEFAULT_GRAFANA_URL = defaults.GRAFANA_URL
EXAMPLE_URLS = {
    "grafana_url": defaults.GRAFANA_URL,
    "prometheus_url": defaults.PROMETHEUS_URL,
    "loki_url": defaults.LOKI_URL,
    "ruler_url": defaults.RULER_URL,
}
"""The example a bad URL's message gives: each service's own default (Loki's port is 3100, not Grafana's)."""
LEAVE_OUT = ("prometheus_url", "loki_url")
"""URLs that may be set empty: `doctor` then leaves that datasource out (a stack without Loki)."""


def _split_userinfo(url: str) -> tuple[str, str, bool]:
    """(scheme, the rest after any `user:password@`, whether there was one).

    Split at the last `@`: a password may itself hold `/`, `:`, `?`, `#` or `@`, so everything up to
    the last `@` is treated as secret (a path holding `@` is masked too, which errs on the safe side).
    """
    scheme, rest = url.split("://", 1) if "://" in url else ("", url)
    if "@" in rest:
        return scheme, rest.rsplit("@", 1)[1], True
    return scheme, rest, False


def redact_url(url: str) -> str:
    """`url` fit to print: `user:password@` becomes `***@`, a query string or fragment becomes `?***`/`#***`.

    A token can ride in either (`?token=...`), and GRAFANA_URL refuses both, so the message that
    refuses one must not repeat it. A URL that passed validation has neither: it may be shown whole.
    """
    scheme, rest, userinfo = _split_userinfo(url)
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=-1)
    if cut >= 0:
        rest = rest[:cut] + rest[cut] + "***"
    rest = ("***@" if userinfo else "") + rest
    return f"{scheme}://{rest}" if scheme else rest


def credential_problem(value: str) -> str | None:
    """Why `value` cannot be sent as a credential in an HTTP header, or None; never the value itself.

    A control character (a trailing newline from a multi-line quoted `.env` value, a CR from a file
    saved on Windows) or a character outside Latin-1 cannot go into an HTTP header; stripping it
    silently would send a credential the user did not write, so it is refused where it enters.
    """
    for position, char in enumerate(value, start=1):
        if char in "\r\n" and position == len(value):
            name = "a line break" if char == "\n" else "a carriage return (CR)"
            return (
                f"ends with {name} (a multi-line quoted value in .env, or a file saved with CRLF?): "
                "give the value on one line"
            )
        if ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0:
            return (
                f"holds a control character (U+{ord(char):04X}, character {position} of {len(value)}): "
                "give the value without it"
            )
        if ord(char) > 0xFF:
            return (
                f"holds a character outside Latin-1 (U+{ord(char):04X}, character {position} of "
                f"{len(value)}), which an HTTP header cannot carry: check the value was pasted whole"
            )
    return None


class SettingsError(ValueError):
    """A setting is missing or inconsistent; the message says which variable to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    ci: bool = False
    """`CI=true`: a missing external tool (Prometheus, Node) is a failure, never a skip."""

    grafana_url: str = DEFAULT_GRAFANA_URL
    grafana_token: SecretStr | None = None
    """A service-account token (Editor for dashboards and folders, Admin for datasources)."""
    grafana_user: str | None = None
    """With GRAFANA_PASSWORD, basic auth. Credentials are checked on entry (`credential_problem`)."""
    grafana_password: SecretStr | None = None
    grafana_timeout: float = Field(default=defaults.GRAFANA_TIMEOUT_SECONDS, gt=0, le=300)
    """Seconds for one whole HTTP request, body included (0 < t <= 300); failed requests are retried
    with backoff, and a whole call stays within (retries + 1) x this + the backoffs (see Grafana)."""

    prometheus_url: str = defaults.PROMETHEUS_URL
    """Where `doctor` queries Prometheus directly (the compose stack's host port); empty: leave it out."""
    loki_url: str = defaults.LOKI_URL
    """Where `doctor` queries Loki directly; empty (`LOKI_URL=`): leave Loki out, its panels unchecked."""
    ruler_url: str = defaults.RULER_URL
    """Where `push-rules` reaches the metrics engine's ruler API (Cortex's HTTP port, as this machine sees
    it; config.py's `metrics_engine.url` is the address Grafana uses, often a compose service name)."""
    doctor_timeout: float = Field(default=defaults.DOCTOR_TIMEOUT_SECONDS, gt=0, le=300)
    """Seconds for one `doctor` request to Prometheus, Loki or Grafana's datasource proxy."""
    watch_child_timeout_seconds: float = Field(default=defaults.WATCH_CHILD_TIMEOUT_SECONDS, gt=0, le=3600)
    """Seconds one build or push of `watch` may run (0 < t <= 3600) before it is stopped and reported."""

    @field_validator("grafana_url", "prometheus_url", "loki_url", "ruler_url")
    @classmethod
    def _root_url(cls, value: str, info: ValidationInfo) -> str:
        url = value.strip().rstrip("/")
        if not url and info.field_name in LEAVE_OUT:
            return ""
        example = EXAMPLE_URLS[str(info.field_name)]
        shown = redact_url(url)
        if _split_userinfo(url)[2]:
            raise ValueError(
                f"{shown!r} carries credentials: give the URL without them (for Grafana, set GRAFANA_TOKEN, "
                "or GRAFANA_USER and GRAFANA_PASSWORD)"
            )
        try:
            parts = urlsplit(url)
        except ValueError as error:
            raise ValueError(f"{shown!r} is not a URL ({error})") from None
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"{shown!r} is not an http:// or https:// URL (e.g. {example})")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"{shown!r} has an invalid port (1-65535)") from None
        if not parts.hostname:
            raise ValueError(f"{shown!r} names no host")
        if port == 0:
            raise ValueError(f"{shown!r} has an invalid port (1-65535)")
        if "?" in url or "#" in url:  # an empty one too: `http://h/#` would send every request to `/`
            raise ValueError(f"{shown!r} has a query or fragment: give the server's root URL")
        return url

    @field_validator("grafana_token", "grafana_password")
    @classmethod
    def _secret_credential(cls, value: SecretStr | None) -> SecretStr | None:
        problem = credential_problem(value.get_secret_value()) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("grafana_user")
    @classmethod
    def _user_credential(cls, value: str | None) -> str | None:
        problem = credential_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    def grafana_credential(self) -> str | tuple[str, str]:
        """The credential grafana-client takes: a token, or (user, password)."""
        if self.grafana_token is not None and self.grafana_token.get_secret_value():
            return self.grafana_token.get_secret_value()
        if self.grafana_user and self.grafana_password is not None:
            if not self.grafana_password.get_secret_value():  # a `.env` template's `GRAFANA_PASSWORD=`
                raise SettingsError(
                    "GRAFANA_PASSWORD is empty: Grafana refuses a user without a password (401); set it, "
                    "or set GRAFANA_TOKEN (a service-account token) instead"
                )
            return (self.grafana_user, self.grafana_password.get_secret_value())
        raise SettingsError(
            "no Grafana credentials: set GRAFANA_TOKEN (a service-account token), or GRAFANA_USER and "
            "GRAFANA_PASSWORD, in the environment or in .env"
        )


def _check_env_file(path: Path) -> None:
    """A `.env` that cannot be read is named, with the line, instead of being half ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    except UnicodeDecodeError as error:
        raise SettingsError(
            f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start})"
        ) from None
    except OSError as error:
        raise SettingsError(f"{path}: cannot be read ({error.strerror})") from None
    from dotenv.parser import parse_stream  # noqa: PLC0415  (pydantic-settings' own .env parser)

    bad = [binding.original.line for binding in parse_stream(io.StringIO(text)) if binding.error]
    if bad:
        lines = ", ".join(str(line) for line in bad)
        raise SettingsError(f"{path}: line(s) {lines} are not NAME=value (comments start with #)")


def settings(project_root: Path | None = None) -> Settings:
    """The settings, or SettingsError naming each bad variable; never the value given (it may be secret).

    `.env` is read from the project root (the checkout), whatever the current directory is.
    """
    env_file = (project_root or Path.cwd()) / ".env"
    _check_env_file(env_file)
    try:
        return Settings(_env_file=env_file)
    except ValidationError as error:
        problems = []
        for problem in error.errors(include_input=False, include_url=False):
            variable = "_".join(str(part) for part in problem["loc"]).upper()
            problems.append(f"{variable}: {problem['msg'].removeprefix('Value error, ')}")
        raise SettingsError("; ".join(problems)) from None
