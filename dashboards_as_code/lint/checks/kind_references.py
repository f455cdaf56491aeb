"""kind-references: what each kind of Grafana object says must hold between its definitions and the
rest of the project (a correlation's source and target datasources exist, say).

The rules live with the kind (`Kind.references` in dashboards_as_code/kinds/), so a new kind brings its own
and this check runs them: no lint module names a kind here.
"""

from collections.abc import Iterator

from dashboards_as_code import kinds
from dashboards_as_code.lint import Check, Finding, LintContext

ID = "kind-references"


def run(context: LintContext) -> Iterator[Finding]:
    for kind in kinds.registry():
        for location, message in kind.references(context.documents):
            yield Finding(location, ID, f"{kind.name}: {message}")


CHECK = Check(ID, __doc__ or "", run)
