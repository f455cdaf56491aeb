"""grafana-schema: every dashboard, panel option and field config conforms to Grafana's own types.

Grafana publishes them as `@grafana/schema`, generated from its CUE kinds; `tools/grafana-schema`
pins the version of the Grafana image in the compose file and type-checks each generated dashboard
with TypeScript (string enums read as their JSON values). Grafana fills a missing option from the
plugin's defaults, so a deviation may not show, but it is not what Grafana declares valid, and the
next Grafana may read it differently. The pinned schema must move with the Grafana image. The type
declares `schemaVersion` as any number, so the checker also holds it to the one the package gives a
new dashboard: an older document is migrated in the browser on every load. Each dashboard's schema v2
form (what a push to Grafana 13 sends, `kinds/dashboard/schema_v2.py`) is checked against the
package's `dashboard/v2` types as well; a v2 finding on a dashboard whose classic form already has one
is left out, being its echo.

The one deviation that is Grafana's own behaviour (a query variable's `definition`) is removed before
the type check (`dashboards_as_code.lint.grafana_schema.ALLOWED_KEY`), so no finding is ever dropped here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from dashboards_as_code.errors import Location
from dashboards_as_code.external_tools import ToolMissingError
from dashboards_as_code.lint import Check, Finding, LintContext, missing_tool_severity, where
from dashboards_as_code.lint.grafana_schema import (
    NO_V2_FORM,
    SCHEMA_PACKAGE,
    V2,
    deviations,
    pinned_version,
    v2_form_problems,
)

ID = "grafana-schema"

_IMAGE = re.compile(r"^\s*image:\s*['\"]?grafana/grafana(?:-oss|-enterprise)?:([\w.+-]+)", re.M)


def _version_mismatch(context: LintContext) -> Iterator[Finding]:
    compose = context.project.config.grafana_compose_file
    pinned = pinned_version(context.project.root)
    if compose is None or pinned is None:
        return
    path = Path(context.project.root) / compose
    try:
        match = _IMAGE.search(path.read_text(encoding="utf-8"))
    except OSError as error:  # a copy of the definitions without the stack: nothing to compare with
        message = f"cannot read {compose} ({error.strerror}): the schema's Grafana version is not compared"
        yield Finding(Location(file=compose), ID, message, "warning")
        return
    if match is None:
        yield Finding(Location(file=compose), ID, f"{compose} runs no grafana/grafana image")
    elif match.group(1) != pinned:
        yield Finding(
            Location(file=compose),
            ID,
            f"Grafana {match.group(1)} runs in {compose}, but dashboards are checked against "
            f"{SCHEMA_PACKAGE} {pinned} (tools/grafana-schema/package.json): move both together, "
            "then `npm install` there",
        )


NO_V2_FORM_SAID = "no schema v2 form (what push sends a Grafana 13 that stores dashboards as v2)"


def run(context: LintContext) -> Iterator[Finding]:
    yield from _version_mismatch(context)
    boards = {board.uid: board for board in context.dashboards}
    documents = {uid: board.document for uid, board in boards.items()}
    sections = {uid: board.sections_in_v2 for uid, board in boards.items()}
    try:
        found = deviations(documents, context.project.root, sections_in_v2=sections)
    except ToolMissingError as missing:
        first = context.dashboards[0] if context.dashboards else None
        yield Finding(
            where(first) if first else Location(),
            ID,
            f"dashboards not checked against Grafana's schema: {missing}",
            missing_tool_severity(context),
            tool_missing=True,
        )
        found = v2_form_problems(documents, sections)  # no Node needed to say a v2 form cannot be made
    classic_wrong = {deviation.dashboard for deviation in found if not deviation.path.startswith(V2)}
    for deviation in found:
        if deviation.path.startswith(f"{V2}.") and deviation.dashboard in classic_wrong:
            continue  # the v2 form is made from the classic one: its finding is the classic one's echo
        board = boards.get(deviation.dashboard)
        if board is None:
            yield Finding(Location(), ID, f"the schema checker failed: {deviation.message}")
            continue
        panels = board.document.get("panels", [])
        panel = (
            panels[deviation.panel] if deviation.panel is not None and deviation.panel < len(panels) else None
        )
        if deviation.path == NO_V2_FORM:
            yield Finding(where(board), ID, f"{NO_V2_FORM_SAID}: {deviation.message}")
            continue
        yield Finding(where(board, panel), ID, f"`{deviation.path}`: {deviation.message}")


CHECK = Check(ID, __doc__ or "", run)
