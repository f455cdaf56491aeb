"""datasource-unique: datasource uids and names are unique, and at most one is the default.

Grafana's provisioning fails on a second default ("too many default datasources") and the API
rejects a duplicate name with 409; a duplicate uid would make one definition overwrite the other.
"""

from collections.abc import Iterator

from machinery.errors import Location
from machinery.lint import Finding, LintContext, Rule

ID = "datasource-unique"


def check(context: LintContext) -> Iterator[Finding]:
    for attribute in ("uid", "name"):
        seen: set[str] = set()
        for datasource in context.datasources:
            value = getattr(datasource, attribute)
            if value in seen:
                yield Finding(
                    Location(file="datasources/", datasource=datasource.uid),
                    ID,
                    f"{attribute} {value!r} is used by more than one datasource",
                )
            seen.add(value)
    defaults = [d.uid for d in context.datasources if d.is_default]
    if len(defaults) > 1:
        yield Finding(Location(file="datasources/"), ID, f"more than one default datasource: {defaults}")


RULE = Rule(ID, __doc__ or "", check)
