"""Settings from the environment (and `.env`), read in one place only.

Secrets are `SecretStr`: they print as `**********` in any repr, log line or error message.
"""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_GRAFANA_URL = "http://localhost:3001"


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
    grafana_password: SecretStr | None = None
    grafana_timeout: float = 10.0
    """Seconds for one HTTP request; failed requests are retried with backoff."""

    def grafana_credential(self) -> str | tuple[str, str]:
        """The credential grafana-client takes: a token, or (user, password)."""
        if self.grafana_token is not None and self.grafana_token.get_secret_value():
            return self.grafana_token.get_secret_value()
        if self.grafana_user and self.grafana_password is not None:
            return (self.grafana_user, self.grafana_password.get_secret_value())
        raise SettingsError(
            "no Grafana credentials: set GRAFANA_TOKEN (a service-account token), or GRAFANA_USER and "
            "GRAFANA_PASSWORD, in the environment or in .env"
        )


def settings() -> Settings:
    return Settings()
