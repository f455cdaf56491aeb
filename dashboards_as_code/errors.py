"""Errors as values: every problem carries the object it concerns, the CLI turns it into a message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem is: the most specific of dashboard, panel, datasource and file that apply."""

    file: str | None = None
    dashboard: str | None = None
    panel: str | None = None
    datasource: str | None = None

    def __str__(self) -> str:
        named = [
            f"{kind} {value!r}"
            for kind, value in (
                ("dashboard", self.dashboard),
                ("panel", self.panel),
                ("datasource", self.datasource),
            )
            if value
        ]
        if not named:
            return self.file or "(no location)"
        text = ", ".join(named)
        return f"{text} ({self.file})" if self.file else text


class DefinitionError(Exception):
    """A definition that cannot be turned into Grafana objects. The CLI exits with `exit_code` (2)."""

    exit_code = 2

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


class LoadInterruptedError(DefinitionError):
    """Ctrl-C (or a KeyboardInterrupt raised by a definition) while loading: exit 130, one line."""

    exit_code = 130
