"""The Prometheus rules as the definitions render them now: what every test that loads rules reads.

Not the committed rule file (monitoring/prometheus/rules/): that file changes only at `build`, so a
rule bug in prometheus_rules/ would reach a test that read it only after someone rebuilt.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.render.documents import build_documents
from tests.conftest import REPO


@functools.cache
def _rendered() -> dict[str, Any]:
    rules = build_documents(load_project(REPO)).rules
    assert rules is not None, "the project defines no Prometheus rules"
    return rules


def rendered_rules() -> dict[str, Any]:
    """A fresh copy of the rule document the definitions render (callers may change it)."""
    return copy.deepcopy(_rendered())


def rules_for_the_test(directory: Path, hold: str | None = None) -> Path:
    """The rendered rules with every group evaluated each second (the tests scrape each second); with
    `hold`, every alert's `for` too (a test that asks which alert fires, not when: promtool's tests
    hold the timing)."""
    document = rendered_rules()
    for group in document["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            if hold is not None and "alert" in rule:
                rule["for"] = hold
    path = directory / "rules.yml"
    path.write_text(yaml.safe_dump(document))
    return path
