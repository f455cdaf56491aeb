"""Where alerts go: Alertmanager's routing tree, receivers and inhibitions, as typed objects.

Defined beside the rules (a project's `prometheus_rules/routing.py`), from the same severities the
alert rules carry, so `check` can hold every alert to a route that handles it. `build` writes the
Alertmanager configuration from it (dashboards_as_code.render.files); `check` runs
`amtool check-config` on that.

Secrets never pass through here: a receiver names the *file* its endpoint is read from
(Alertmanager's `url_file`), which the deployment mounts; the repository holds paths only. A
literal URL is refused, because the generated file is committed.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from dashboards_as_code.definitions.prometheus_rule import DURATION

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
RECEIVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
UNROUTED = "unrouted"
"""The root route's receiver: it has no integration, so an alert that reaches it is dropped. `check`
reports every alert rule whose severity no route handles, so nothing the rules define lands here."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _matchers(labels: dict[str, str]) -> list[str]:
    """Alertmanager matchers (`name="value"`, `name=~"regex"` when the value starts with `=~`), sorted."""
    found = []
    for name, value in sorted(labels.items()):
        if value.startswith("=~"):
            found.append(f"{name}=~{_quoted(value[2:])}")
        else:
            found.append(f"{name}={_quoted(value)}")
    return found


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label_names(names: tuple[str, ...], what: str) -> tuple[str, ...]:
    for name in names:
        if not LABEL_NAME.match(name):
            raise ValueError(f"{what}: {name!r} is not a label name (letters, digits, '_')")
    if len(set(names)) != len(names):
        raise ValueError(f"{what}: a label is named twice in {list(names)}")
    return names


def _duration(value: str, what: str) -> str:
    if not DURATION.match(value):
        raise ValueError(f"{what}: not a duration: {value!r} (e.g. 30s, 5m, 4h)")
    return value


class Webhook(_Model):
    """One webhook integration: Alertmanager POSTs its JSON to the URL read from `url_file`."""

    url_file: str
    """Absolute path, in Alertmanager's file system, of a file holding the URL (and any token in it)."""
    send_resolved: bool = True

    @field_validator("url_file")
    @classmethod
    def _a_path_not_a_secret(cls, path: str) -> str:
        if "://" in path:
            raise ValueError(
                f"url_file {path!r} looks like a URL: give the path of a file that holds it, mounted "
                "into Alertmanager (the generated configuration is committed; a URL in it is a secret "
                "in the repository)"
            )
        if not path.startswith("/"):
            raise ValueError(f"url_file {path!r} must be an absolute path in Alertmanager's file system")
        return path

    def document(self) -> dict[str, Any]:
        return {"url_file": self.url_file, "send_resolved": self.send_resolved}


class Receiver(_Model):
    name: str
    webhooks: tuple[Webhook, ...] = ()
    """No webhook: a receiver that drops what it receives (Alertmanager's null receiver)."""

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not RECEIVER_NAME.match(name):
            raise ValueError(f"receiver name {name!r}: letters, digits, '.', '_' and '-' only")
        return name

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"name": self.name}
        if self.webhooks:
            document["webhook_configs"] = [w.document() for w in self.webhooks]
        return document


class SeverityRoute(_Model):
    """Alerts whose `severity` label is `severity` go to `receiver`, with their own pacing."""

    severity: str
    receiver: str
    group_wait: str = "30s"
    """How long a new group waits for more alerts before its first notification."""
    group_interval: str = "5m"
    """How long before a group that changed is notified again."""
    repeat_interval: str = "4h"
    """How often a group that is still firing, unchanged, is notified again."""

    @model_validator(mode="after")
    def _durations(self) -> SeverityRoute:
        for field in ("group_wait", "group_interval", "repeat_interval"):
            _duration(getattr(self, field), f"route for severity {self.severity!r}, {field}")
        return self

    def document(self) -> dict[str, Any]:
        return {
            "matchers": _matchers({"severity": self.severity}),
            "receiver": self.receiver,
            "group_wait": self.group_wait,
            "group_interval": self.group_interval,
            "repeat_interval": self.repeat_interval,
        }


class Inhibition(_Model):
    """While an alert matching `source` fires, alerts matching `target` with the same values of the
    `equal` labels are not notified. A value starting with `=~` is a regex (`"=~.+"`: the label is set)."""

    why: str
    """One line: which notification this spares, and why it is redundant."""
    source: dict[str, str]
    target: dict[str, str]
    equal: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _labels(self) -> Inhibition:
        _label_names(tuple(self.source), f"inhibition ({self.why}) source")
        _label_names(tuple(self.target), f"inhibition ({self.why}) target")
        _label_names(self.equal, f"inhibition ({self.why}) equal")
        if not self.source or not self.target:
            raise ValueError(f"inhibition ({self.why}): source and target need a matcher each")
        return self

    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "source_matchers": _matchers(self.source),
            "target_matchers": _matchers(self.target),
        }
        if self.equal:
            document["equal"] = list(self.equal)
        return document


class AlertRouting(_Model):
    """The whole Alertmanager configuration a project defines."""

    group_by: tuple[str, ...]
    """Labels that make one notification: alerts sharing their values are sent together."""
    routes: tuple[SeverityRoute, ...]
    receivers: tuple[Receiver, ...]
    inhibitions: tuple[Inhibition, ...] = ()
    resolve_timeout: str = "5m"

    @model_validator(mode="after")
    def _consistent(self) -> AlertRouting:
        _label_names(self.group_by, "group_by")
        _duration(self.resolve_timeout, "resolve_timeout")
        names = [r.name for r in self.receivers]
        if UNROUTED in names:
            raise ValueError(f"receiver name {UNROUTED!r} is the root route's own (it drops alerts)")
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"receivers named twice: {', '.join(twice)}")
        severities = [r.severity for r in self.routes]
        repeated = sorted({s for s in severities if severities.count(s) > 1})
        if repeated:
            raise ValueError(
                f"severities routed twice (only the first route would match): {', '.join(repeated)}"
            )
        for route in self.routes:
            if route.receiver not in names:
                raise ValueError(
                    f"the route for severity {route.severity!r} names receiver {route.receiver!r}, which "
                    f"is not defined (receivers: {', '.join(names) or 'none'})"
                )
        return self

    @property
    def severities(self) -> frozenset[str]:
        return frozenset(r.severity for r in self.routes)

    def receiver_for(self, severity: str) -> str:
        """The receiver an alert of `severity` reaches: its route's, else the root's UNROUTED."""
        return next((r.receiver for r in self.routes if r.severity == severity), UNROUTED)

    def document(self) -> dict[str, Any]:
        return {
            "global": {"resolve_timeout": self.resolve_timeout},
            "route": {
                "receiver": UNROUTED,
                "group_by": list(self.group_by),
                "routes": [r.document() for r in self.routes],
            },
            "inhibit_rules": [i.document() for i in self.inhibitions],
            "receivers": [{"name": UNROUTED}, *(r.document() for r in self.receivers)],
        }
