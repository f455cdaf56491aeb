"""alertmanager-config: the generated Alertmanager configuration passes `amtool check-config`.

Alertmanager refuses to start on a configuration it cannot load (and keeps the old one on a reload),
so a mistake here means no alert reaches anyone. amtool is Alertmanager's own parser, built from the
same module as the Alertmanager the tests run (`make tools`).
"""

from __future__ import annotations

from collections.abc import Iterator

from dashboards_as_code.external_tools import AMTOOL
from dashboards_as_code.lint import Check, Finding, LintContext
from dashboards_as_code.lint.generated_file_checker import GeneratedFileChecker

ID = "alertmanager-config"

CHECKER = GeneratedFileChecker(
    check_id=ID,
    tool=AMTOOL,
    command=lambda amtool, path: [amtool, "check-config", str(path)],
    file_name="alertmanager.yml",
    what_failed="amtool check-config failed",
)


def run(context: LintContext) -> Iterator[Finding]:
    yield from CHECKER.findings(context, context.project.config.alertmanager_file)


CHECK = Check(ID, __doc__ or "", run)
