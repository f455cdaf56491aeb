"""The real-Prometheus tests load the rules the definitions render now, never the committed file.

The committed rule file (monitoring/prometheus/rules/) changes only at `build`: a test that read it
would let a rule bug through until someone rebuilt, and then report it against the wrong change.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from dashboards_as_code import queries as q
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.prometheus_rule import RecordingRule, RuleGroup
from dashboards_as_code.definitions.types import Project
from tests.conftest import REPO
from tests.prometheus import rules as test_rules

GUARD = RecordingRule(record="guard:not_built_yet:sum", expr=q.PromQL("vector(1)", ()), grafana_unit="short")
"""A rule that exists in the definitions only: no build has written it to the committed file."""


def _with_guard(root: Path) -> Project:
    project = load_project(root)
    first, *rest = project.rule_groups
    widened = RuleGroup(
        name=first.name, interval=first.interval, recording=(*first.recording, GUARD), alerts=first.alerts
    )
    return dataclasses.replace(project, rule_groups=[widened, *rest])


def test_a_rule_changed_in_the_definitions_reaches_the_test_prometheus_before_any_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    committed = (REPO / load_project(REPO).config.rules_file).read_text()
    assert GUARD.record not in committed  # the premise: only the definitions hold it
    monkeypatch.setattr(test_rules, "load_project", _with_guard)
    test_rules._rendered.cache_clear()
    try:
        path = test_rules.rules_for_the_test(tmp_path)
    finally:
        test_rules._rendered.cache_clear()  # the other tests read the real definitions
    loaded = yaml.safe_load(path.read_text())
    records = {rule.get("record") for group in loaded["groups"] for rule in group["rules"]}
    assert GUARD.record in records, "the test Prometheus would load rules no build has rendered from"
    assert path.is_relative_to(tmp_path), "the rules file is the test's own, not a committed one"
