"""The byte formats of generated files: JSON, provisioning YAML and rule YAML, each deterministic.

A leaf module: kinds (`dashboards_as_code/kinds/`) and `files.py` both turn documents into
`Output`s with these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from dashboards_as_code.render.provisioning_escape import escape_tree


@dataclass(frozen=True)
class Output:
    path: str
    """Relative to the project root, with forward slashes."""
    content: bytes


def dump_json(document: Any) -> bytes:
    """Two-space indent, sorted keys, UTF-8, a final newline. orjson, because the standard library
    falls back to its pure-Python encoder whenever `indent` is set: at 100 dashboards that was half
    of `check`'s time."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def dump_provisioning_yaml(document: Any, source: str) -> bytes:
    """YAML for Grafana's provisioning loader: every string `$`-escaped, under a header naming the source."""
    body = yaml.safe_dump(escape_tree(document), sort_keys=False, width=1000, allow_unicode=True)
    header = f"# Generated from {source} by `python build.py build`. Do not edit: edit {source}.\n"
    return (header + body).encode()


def dump_rules_yaml(document: Any, source: str = "prometheus_rules/") -> bytes:
    header = f"# Generated from {source} by `python build.py build`. Do not edit: edit {source}.\n"
    return (header + yaml.safe_dump(document, sort_keys=False, width=1000, allow_unicode=True)).encode()
