"""What a rule's or a panel's expression reads, through the recording rules it names.

A panel reads `http_route:traces_span_metrics_calls:rate5m`; what it depends on is what that
recording rule reads. Tests of alert links follow the chain to the stored series and selectors.
"""

from __future__ import annotations

import re
from typing import Any

from tests.prometheus.rules import rendered_rules

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
RECORDS: dict[str, str] = {
    rule["record"]: rule["expr"]
    for group in rendered_rules()["groups"]
    for rule in group["rules"]
    if "record" in rule
}


def expanded(expression: str, records: dict[str, str] = RECORDS) -> str:
    """`expression` followed by the expression of every recorded series it reads, recursively."""
    parts = [expression]
    for name in sorted(set(_NAME.findall(expression)) & records.keys()):
        parts.append(expanded(records[name], {k: v for k, v in records.items() if k != name}))
    return "\n".join(parts)


def names_read(expression: str) -> set[str]:
    """Every name in the expanded expression: stored series, recorded series, labels, functions."""
    return set(_NAME.findall(expanded(expression)))


def panel_expressions(panel: dict[str, Any]) -> str:
    return "\n".join(str(target.get("expr", "")) for target in panel.get("targets", []))
