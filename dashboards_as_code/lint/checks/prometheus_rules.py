"""prometheus-rules: the generated rule file passes `promtool check rules`.

Prometheus refuses to load a rule file with one bad expression, and then evaluates none of it:
every recorded series the dashboards read would stop, and no alert would fire.
"""

from collections.abc import Iterator

from dashboards_as_code.external_tools import PROMTOOL
from dashboards_as_code.lint import Check, Finding, LintContext
from dashboards_as_code.lint.generated_file_checker import GeneratedFileChecker

ID = "prometheus-rules"

CHECKER = GeneratedFileChecker(
    check_id=ID,
    tool=PROMTOOL,
    command=lambda promtool, path: [promtool, "check", "rules", str(path)],
    file_name="rules.yml",
    what_failed="promtool check rules failed",
    not_checked="rules not checked",
)


def run(context: LintContext) -> Iterator[Finding]:
    yield from CHECKER.findings(context, context.project.config.rules_file)


CHECK = Check(ID, __doc__ or "", run)
