"""provisioning-dollars: no `$` in a provisioning file is expanded by Grafana unless it is meant to be.

Grafana expands `$NAME` and `${NAME}` in every string of a provisioning YAML file and replaces
unknown names with "" (so `${__value.raw}` arrives empty); a literal `$` must be written `$$`.
This check reads the rendered files, so it also catches a hand-written value that bypassed escaping.
"""

from collections.abc import Iterator
from typing import Any

import yaml

from dashboards_as_code.errors import Location
from dashboards_as_code.lint import Check, Finding, LintContext
from dashboards_as_code.render.provisioning_escape import expand, references

ID = "provisioning-dollars"
ALLOWED_ENVIRONMENT: frozenset[str] = frozenset()
"""Variables the compose file passes to Grafana on purpose (none yet: no secret lives in these files)."""


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")


def run(context: LintContext) -> Iterator[Finding]:
    base = context.project.config.provisioning_dir
    for output in context.outputs:
        if not output.path.startswith(f"{base}/") or not output.path.endswith((".yaml", ".yml")):
            continue  # only Grafana's provisioning files are interpolated
        for path, value in _strings(yaml.safe_load(output.content)):
            location = Location(file=output.path)
            names = [name for name in references(value) if name not in ALLOWED_ENVIRONMENT]
            for name in names:
                yield Finding(
                    location,
                    ID,
                    f"{path}: Grafana would replace ${{{name}}} in {value!r} with an environment variable "
                    "(empty if unset); write $$ for a literal $",
                )
            if not references(value) and expand(value) != value.replace("$$", "$"):
                yield Finding(
                    location, ID, f"{path}: {value!r} has a malformed ${{...}} that Grafana would drop"
                )


CHECK = Check(ID, __doc__ or "", run)
