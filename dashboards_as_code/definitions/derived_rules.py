"""The recording rules the dashboards' queries need, collected from the queries themselves.

A query built with `queries.tenant_sum` (or `tenant_topk`) reads a recorded series and carries the
rules that write it (`PromQL.recordings`): the per-tenant rule and its `tenant_id="__all__"` twin.
When a project loads, every Prometheus target of every dashboard is asked for them, and they become
one more rule group, `<project>-derived`, written to the project's rule file with the hand-written
groups. A panel therefore cannot reach Grafana without the rule it reads, nor with a rule that was
edited apart from it.

Each rule is written once: by record name and labels (the per-tenant row and the All row share a
name). One that a hand-written group already has, identically, is left to that group. Two different
expressions for one record name and labels are an error naming both panels (or the panel and the
hand-written group): Prometheus would write both into one series and every value would be wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from dashboards_as_code.defaults import DERIVED_GROUP_SUFFIX, DERIVED_RULES_INTERVAL
from dashboards_as_code.definitions.prometheus_rule import RecordingRule, RuleGroup
from dashboards_as_code.definitions.types import DashboardDefinition
from dashboards_as_code.errors import DefinitionError, Location
from dashboards_as_code.queries import PromQL, Recording

RuleKey = tuple[str, tuple[tuple[str, str], ...]]
"""(record name, sorted constant labels): one series family in Prometheus."""


@dataclass(frozen=True)
class _Need:
    """A rule one query needs, and where that query is."""

    rule: RecordingRule
    location: Location
    query: str
    """`panel 'Title' (query A) of dashboard 'uid'`: named in a conflict."""


def _key(rule: RecordingRule) -> RuleKey:
    return rule.record, tuple(sorted(rule.labels.items()))


def _rule(recording: Recording) -> RecordingRule:
    return RecordingRule(
        record=recording.record,
        expr=recording.expr,
        grafana_unit=recording.grafana_unit,
        histogram_unit=recording.histogram_unit,
        labels=dict(recording.labels),
    )


def _panels(panels: Sequence[Any]) -> Iterator[Any]:
    """Every panel, including those a (collapsed) row holds."""
    for panel in panels:
        yield panel
        yield from _panels(getattr(panel, "panels", None) or [])


def _needs(definition: DashboardDefinition) -> Iterator[_Need]:
    for panel in _panels(definition.dashboard.panels or []):
        title = str(getattr(panel, "title", "") or "")
        for target in getattr(panel, "targets", None) or []:
            expr = getattr(target, "expr", None)
            if not isinstance(expr, PromQL):
                continue
            ref = getattr(target, "ref_id", "?")
            where = Location(file=definition.source or None, dashboard=definition.uid, panel=title)
            described = f"panel {title!r} (query {ref}) of dashboard {definition.uid!r}"
            for recording in expr.recordings:
                yield _Need(_rule(recording), where, described)


def _shown(rule: RecordingRule) -> str:
    labels = ", ".join(f'{k}="{v}"' for k, v in sorted(rule.labels.items()))
    return f"{rule.record}{{{labels}}}" if labels else rule.record


def derived_rule_group(
    project_name: str, dashboards: Sequence[DashboardDefinition], hand_written: Sequence[Any]
) -> RuleGroup | None:
    """The rules the dashboards' queries need and no hand-written group already has; None if none."""
    written = {
        _key(rule): (rule, group.name)
        for group in hand_written
        if isinstance(group, RuleGroup)
        for rule in group.recording
    }
    chosen: dict[RuleKey, _Need] = {}
    for definition in dashboards:
        for need in _needs(definition):
            key = _key(need.rule)
            if key in written:
                rule, group = written[key]
                if rule.document() != need.rule.document():
                    raise DefinitionError(
                        need.location,
                        f"{need.query} reads {_shown(rule)} and needs it recorded as "
                        f"`{need.rule.expr.text}`, but the hand-written group {group!r} records it as "
                        f"`{rule.expr.text}`; one series cannot have two rules: rename or remove the "
                        "hand-written rule",
                    )
                continue
            first = chosen.setdefault(key, need)
            if first.rule.document() != need.rule.document():
                raise DefinitionError(
                    need.location,
                    f"{first.query} and {need.query} both read {_shown(need.rule)}, recorded differently: "
                    f"`{first.rule.expr.text}` for the first, `{need.rule.expr.text}` for the second; give "
                    "both the same `where=` (it filters inside the rule and the record name does not show "
                    "it), or pass the differing matcher positionally, so it selects on the recorded series",
                )
    if not chosen:
        return None
    name = f"{project_name}{DERIVED_GROUP_SUFFIX}"
    taken = [g for g in hand_written if isinstance(g, RuleGroup) and g.name == name]
    if taken:
        raise DefinitionError(
            Location(file="prometheus_rules/"),
            f"a hand-written rule group is named {name!r}, the name of the group derived from the "
            "dashboards' queries; rename it (Prometheus refuses two groups of one name in a file)",
        )
    return RuleGroup(
        name=name,
        interval=DERIVED_RULES_INTERVAL,
        recording=tuple(need.rule for need in chosen.values()),
    )


def with_derived_rules(
    project_name: str, dashboards: Sequence[DashboardDefinition], hand_written: Sequence[Any]
) -> list[Any]:
    """The hand-written groups, then the derived group when the dashboards need one."""
    derived = derived_rule_group(project_name, dashboards, hand_written)
    return [*hand_written, *([derived] if derived is not None else [])]
