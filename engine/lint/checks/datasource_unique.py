"""datasource-unique: datasource uids and names are unique, and at most one is the default.

Grafana's provisioning fails on a second default ("too many default datasources") and the API
rejects a duplicate name with 409; a duplicate uid would make one definition overwrite the other.
"""

from collections.abc import Iterator

from engine.errors import Location
from engine.lint import Check, Finding, LintContext

ID = "datasource-unique"


def run(context: LintContext) -> Iterator[Finding]:
    datasources = context.project.datasources
    for attribute in ("uid", "name"):
        seen: set[str] = set()
        for datasource in datasources:
            value = getattr(datasource, attribute)
            if value in seen:
                yield Finding(
                    Location(file=context.project.source_of(datasource), datasource=datasource.uid),
                    ID,
                    f"{attribute} {value!r} is used by more than one datasource",
                )
            seen.add(value)
    defaults = [d.uid for d in datasources if d.is_default]
    if len(defaults) > 1:
        yield Finding(Location(file="datasources/"), ID, f"more than one default datasource: {defaults}")


CHECK = Check(ID, __doc__ or "", run, fatal=True)
