"""datasource-unique: datasource uids and names are unique, and at most one is the default.

Grafana's provisioning fails on a second default ("too many default datasources") and the API
rejects a duplicate name with 409; a duplicate uid would make one definition overwrite the other.
uids and names are compared without regard to case, as Grafana's MySQL collation compares them.
"""

from collections.abc import Callable, Iterator

from dashboards_as_code.definitions.datasource import Datasource
from dashboards_as_code.errors import Location
from dashboards_as_code.lint import Check, Finding, LintContext
from dashboards_as_code.names import shown, title_key
from dashboards_as_code.uids import uid_key

ID = "datasource-unique"
KEYS: dict[str, Callable[[str], str]] = {"uid": uid_key, "name": title_key}
"""Each unique attribute, and what Grafana's unique index compares of it."""


def _duplicates(context: LintContext, attribute: str, key: Callable[[str], str]) -> Iterator[Finding]:
    seen: dict[str, Datasource] = {}
    for datasource in context.project.datasources:
        value = str(getattr(datasource, attribute))
        first = seen.setdefault(key(value), datasource)
        if first is datasource:
            continue
        first_value = str(getattr(first, attribute))
        other = f"datasource {first.uid!r} ({context.project.source_of(first)})"
        message = (
            f"{attribute} {shown(value)} is also the {attribute} of {other}"
            if first_value == value
            else f"{attribute} {shown(value)} and the {attribute} {shown(first_value)} of {other} differ "
            f"only in case; Grafana compares {attribute}s without regard to case, so they collide there"
        )
        yield Finding(
            Location(file=context.project.source_of(datasource), datasource=datasource.uid), ID, message
        )


def run(context: LintContext) -> Iterator[Finding]:
    for attribute, key in KEYS.items():
        yield from _duplicates(context, attribute, key)
    defaults = [d.uid for d in context.project.datasources if d.is_default]
    if len(defaults) > 1:
        yield Finding(Location(file="datasources/"), ID, f"more than one default datasource: {defaults}")


CHECK = Check(ID, __doc__ or "", run, fatal=True)
