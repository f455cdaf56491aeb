"""Settings from the environment (and `.env`), read in one place only."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    ci: bool = False
    """`CI=true`: a missing external tool (Prometheus, Node) is a failure, never a skip."""


def settings() -> Settings:
    return Settings()
