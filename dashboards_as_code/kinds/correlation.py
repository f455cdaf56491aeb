"""Correlations: Explore's links from a row of one datasource's results to a query on another.

Grafana 10+ keeps them as their own objects (`/api/datasources/uid/{source}/correlations`), each
belonging to its *source* datasource. This module is the whole kind: the definition type
(`Correlation`), where definitions live (`CORRELATIONS`, beside `DATASOURCES` in `datasources/`), the
provisioning entries, the reference checks and the API handler.

- **Provisioning.** Grafana reads correlations from a `correlations:` list inside the source
  datasource's entry of a datasources file, so this kind writes no file of its own: it is
  `NestedInProvisioning`, and the datasource kind adds the entries to `datasources.yaml`. Every
  string there is `$`-escaped like the rest of the file, so `${trace_id}` reaches Grafana intact.
- **Identity.** Grafana picks a correlation's uid (provisioning a new one on every start); ours is a
  key made of the source datasource's uid and the label (`loki.trace-in-jaeger`): a label is unique
  per source here (a reference check says so), and `.` never occurs in a Grafana uid, so the key
  splits back unambiguously. Grafana allows twins (two with one key): they are named in an error,
  never picked silently, except the twin a retried create leaves, which is removed at once.
- **Owner marker.** A correlation has no tags and no free-form field the API keeps except its
  description, so the push marker rides on the description's last line
  (`[dashboards-as-code project=tiktickets sha256=...]`) and is stripped before comparing.
- **Provisioned.** A correlation Grafana loaded from a file (`provisioned: true`) is left to
  provisioning (current Grafana refuses to change or delete it: 403), as provisioned datasources
  and dashboards are. Its source datasource being read-only does not matter there; Grafana 10
  refused every correlation change on a read-only source, and is not supported here.
- **No version.** Correlations have no save counter, so an update re-reads the correlation just
  before the PATCH and stops if it changed since the plan.
- **No new target.** The API cannot change a correlation's target: a new one is created first, and
  the old one deleted after, so a failed create leaves the old link in place.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from dashboards_as_code.errors import DefinitionError, Location
from dashboards_as_code.kinds.answers import Answer, BadAnswerError, describe, parse
from dashboards_as_code.kinds.base import (
    ConflictError,
    Desired,
    GrafanaHttp,
    HttpError,
    Kind,
    Live,
    SyncError,
    in_path,
)
from dashboards_as_code.kinds.comparable import Markers, content_sha
from dashboards_as_code.uids import accepted_uid

if TYPE_CHECKING:
    from dashboards_as_code.definitions.loading import Loading
    from dashboards_as_code.definitions.types import Project
    from dashboards_as_code.render.documents import Documents

DEFINITIONS_FILE = "datasources/correlations.py"
"""Where the project's correlations are expected (`CORRELATIONS`, re-exported by `datasources/`)."""
LIST_PAGE = 1000
"""Correlations asked for per page of `GET /api/datasources/correlations` (Grafana's default is 100)."""
LABEL_MAX = 255
"""A label longer than this is refused here; Grafana's column limit for it was not checked."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class CorrelationTransformation(_Model):
    """Makes a variable out of part of a source field: `regex` (first group -> `map_value`) or
    `logfmt` (every key=value pair of the field becomes a variable). Grafana accepts only these two."""

    type: Literal["regex", "logfmt"]
    field: str | None = None
    """The source field read; Grafana's default is the correlation's own field."""
    expression: str | None = None
    map_value: str | None = None

    @model_validator(mode="after")
    def _regex_needs_expression(self) -> CorrelationTransformation:
        if self.type == "regex" and not self.expression:
            raise ValueError("a regex transformation needs an expression (Grafana refuses it otherwise)")
        return self


class Correlation(_Model):
    """A link Explore shows on `field` of the source datasource's results, running `target` (the target
    datasource's query model, as Explore's query inspector shows it) on the target datasource.

    Variables in `target` are written as Grafana resolves them at run time (`${trace_id}`: the value
    of that field, or label, of the row); the provisioning file escapes them. Explore hides a link
    whose variables a row does not have, so a link needing `tenant_id` shows only on tenant series.
    """

    source_uid: str
    target_uid: str
    label: str
    """What the link says in Explore; unique per source datasource (it is the correlation's key)."""
    description: str = ""
    field: str
    target: dict[str, Any]
    transformations: list[CorrelationTransformation] = []

    @field_validator("source_uid", "target_uid")
    @classmethod
    def _grafana_accepts_uid(cls, uid: str) -> str:
        return accepted_uid(uid)

    @field_validator("label")
    @classmethod
    def _label_is_a_key(cls, label: str) -> str:
        if not label.strip():
            raise ValueError("the label is empty: it is what Explore shows, and the correlation's key")
        if len(label) > LABEL_MAX:
            raise ValueError(f"the label is {len(label)} characters long; at most {LABEL_MAX}")
        if not _slug(label):
            raise ValueError(f"the label {label!r} has no letter or digit to make a key from")
        return label

    @field_validator("target")
    @classmethod
    def _target_is_json(cls, target: dict[str, Any]) -> dict[str, Any]:
        """Sent as JSON and written as YAML: anything else (a set, NaN, an object) would fail there."""
        try:
            text = json.dumps(target, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"the target must be plain JSON: {error}") from None
        loaded: dict[str, Any] = json.loads(text)
        return loaded

    @field_validator("field")
    @classmethod
    def _field_is_named(cls, field: str) -> str:
        if not field.strip():
            raise ValueError("the field is empty: it names the source field the link is shown on")
        return field

    @property
    def key(self) -> str:
        return correlation_key(self.source_uid, self.label)

    def document(self) -> dict[str, Any]:
        """The compared form: what Grafana's API answers for it, without uid and markers."""
        config: dict[str, Any] = {"field": self.field, "target": self.target}
        if self.transformations:
            config["transformations"] = [
                t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in self.transformations
            ]
        return {
            "sourceUID": self.source_uid,
            "targetUID": self.target_uid,
            "label": self.label,
            "description": self.description,
            "type": "query",
            "config": config,
        }


def _slug(label: str) -> str:
    """Lower case, every run of other characters one `-`: letters and digits of any script stay."""
    return re.sub(r"[\W_]+", "-", label.lower()).strip("-")


def correlation_key(source_uid: str, label: str) -> str:
    """Our name for a correlation (Grafana names it with a uid of its own): `<source uid>.<label slug>`."""
    return f"{source_uid}.{_slug(label)}"


def provisioning_entry(document: dict[str, Any]) -> dict[str, Any]:
    """A correlation's entry under its source datasource in a datasources file, from the compared
    form. `label` and `description` are always strings (Grafana's provisioner asserts both). The type
    is `config.type: query`, the one form both provisioners read: the current one takes a missing
    top-level type as `query` and accepts a `config.type` of `query`; the one before Grafana 12.2
    required `config.type` and fails on a plain string at the top."""
    return {
        "targetUID": document["targetUID"],
        "label": document["label"],
        "description": document["description"],
        "config": {"type": document["type"], **document["config"]},
    }


# -- the owner marker, on the description's last line --------------------------------------------

_MARKER = re.compile(r"(?:\n\n)?\[dashboards-as-code project=(?P<owner>[^\s\]]+) sha256=(?P<sha>[0-9a-f]+)\]")


def mark(description: str, owner: str, sha: str) -> str:
    """The description to push: the definition's own, then a line naming the project and content hash."""
    line = f"[dashboards-as-code project={owner} sha256={sha}]"
    return f"{description}\n\n{line}" if description else line


def split_marker(description: str) -> tuple[str, Markers]:
    """A live description without our marker (exactly what `mark` added: the description's own
    trailing newlines stay), and what the marker recorded. Text someone added after the marker stays
    in the description, so it is an edit, not a correlation we never made."""
    found = list(_MARKER.finditer(description))
    if not found:
        return description, Markers()
    last = found[-1]
    rest = description[: last.start()] + description[last.end() :]
    return rest, Markers(sha=last["sha"], owner=last["owner"])


# -- Grafana's answers ------------------------------------------------------------------------------


class CorrelationAnswer(Answer):
    """One correlation as Grafana answers it; Grafana 10 answered `type` inside `config`, later ones at
    the top."""

    EXPECTED: ClassVar[str] = "a correlation (an object with uid and sourceUID)"
    uid: str
    sourceUID: str  # noqa: N815  (Grafana's spelling)
    targetUID: str | None = None  # noqa: N815
    label: str = ""
    description: str = ""
    type: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    provisioned: bool = False

    @property
    def key(self) -> str:
        return correlation_key(self.sourceUID, self.label)

    def compared(self) -> tuple[dict[str, Any], Markers]:
        """The compared form (as `Correlation.document`) and the markers read off the description."""
        config = {k: v for k, v in self.config.items() if k != "type"}
        if not config.get("transformations"):
            config.pop("transformations", None)
        description, markers = split_marker(self.description)
        document = {
            "sourceUID": self.sourceUID,
            "targetUID": self.targetUID,
            "label": self.label,
            "description": description,
            "type": self.type or self.config.get("type") or "query",
            "config": config,
        }
        return document, markers


def _parse_list(value: object, grafana_url: str, endpoint: str) -> list[CorrelationAnswer]:
    """The correlations of an answer: a plain list (by source), or `{correlations, totalCount, page,
    limit}` (the paged list of all; its totalCount counts every organisation's, so it is not used)."""
    if isinstance(value, dict) and isinstance(value.get("correlations"), list):
        value = value["correlations"]
    if not isinstance(value, list):
        raise SyncError(f"Grafana at {grafana_url} answered {endpoint} with {describe(value)}, not a list")
    try:
        return [parse(CorrelationAnswer, item, grafana_url, endpoint) for item in value]
    except BadAnswerError as error:
        raise SyncError(str(error)) from None


def _twins(key: str, found: list[CorrelationAnswer]) -> str:
    """Several correlations with one key: which is which, and what to do (nothing is chosen for you)."""

    def who(correlation: CorrelationAnswer) -> str:
        owner = split_marker(correlation.description)[1].owner
        if correlation.provisioned:
            return "provisioned"
        return f"pushed by project {owner!r}" if owner else "made in Grafana"

    listed = ", ".join(f"{c.uid} ({who(c)})" for c in found)
    return (
        f"Grafana holds {len(found)} correlations named {key!r} (same source and label): {listed}; "
        "Explore shows each link. Delete all but one (Administration > Plugins and data > Correlations), "
        "then push again"
    )


# -- the kind ---------------------------------------------------------------------------------------


class CorrelationKind(Kind):
    name: ClassVar[str] = "correlation"
    order: ClassVar[int] = 25
    """After the datasources: both ends of a correlation must exist before it."""
    host: ClassVar[str] = "datasource"
    """The kind whose provisioning entries carry these (NestedInProvisioning)."""

    # -- definitions and files

    @property
    def defined_in(self) -> str:
        return DEFINITIONS_FILE

    def discover(self, loading: Loading) -> list[Any]:
        module = loading.package("datasources")
        if not hasattr(module, "CORRELATIONS"):
            return []  # optional: a project without correlations
        own = loading.root / DEFINITIONS_FILE
        file = DEFINITIONS_FILE if own.is_file() else "datasources/__init__.py"
        found = loading.required(module, "CORRELATIONS", (list, tuple), file, "CORRELATIONS as a list")
        for index, item in enumerate(found):
            if not isinstance(item, Correlation):
                raise DefinitionError(
                    Location(file=file),
                    f"CORRELATIONS[{index}] is a {type(item).__name__}, not a Correlation "
                    "(from dashboards_as_code.define)",
                )
        return list(found)

    def render(self, project: Project) -> list[dict[str, Any]]:
        return [c.document() for c in self._definitions(project)]

    def nested_entries(self, project: Project) -> dict[str, dict[str, list[Any]]]:
        """Source datasource uid -> `{"correlations": [entries]}` for its entry of datasources.yaml."""
        entries: dict[str, dict[str, list[Any]]] = {}
        for correlation in self._definitions(project):
            entry = provisioning_entry(correlation.document())
            entries.setdefault(correlation.source_uid, {"correlations": []})["correlations"].append(entry)
        return entries

    def desired(self, documents: Documents) -> list[Desired]:
        owner = documents.project.config.name
        return [
            Desired(self.name, correlation_key(d["sourceUID"], d["label"]), d["label"], d, owner)
            for d in documents.by_kind[self.name]
        ]

    def references(self, documents: Documents) -> Iterator[tuple[Location, str]]:
        project = documents.project
        datasources = {d.uid for d in project.datasources}
        keys = Counter(c.key for c in self._definitions(project))
        for correlation in self._definitions(project):
            where = Location(file=project.source_of(correlation, DEFINITIONS_FILE))
            name = repr(correlation.label)
            for end, uid in (("source", correlation.source_uid), ("target", correlation.target_uid)):
                if uid not in datasources:
                    yield (
                        where,
                        (
                            f"{name}: {end} datasource {uid!r} is not in DATASOURCES "
                            f"(known: {', '.join(sorted(datasources))})"
                        ),
                    )
            if correlation.source_uid == correlation.target_uid:
                yield where, f"{name}: source and target are both {correlation.source_uid!r}"
            if keys[correlation.key] > 1:
                yield (
                    where,
                    (
                        f"{name}: another correlation of source {correlation.source_uid!r} has a label with "
                        f"the same key ({correlation.key!r}); labels that differ only in case or punctuation "
                        "name the same correlation"
                    ),
                )

    def _definitions(self, project: Project) -> list[Correlation]:
        found: list[Correlation] = project.definitions.get(self.name, [])
        return found

    # -- Grafana's API

    def summarise(self, live: Live, desired: Desired) -> str:
        line = super().summarise(live, desired)
        if live.document.get("targetUID") != desired.document["targetUID"]:
            return f"{line}; a new target replaces the correlation (Grafana cannot change a target)"
        return line

    def fetch(self, grafana: GrafanaHttp, uid: str) -> Live | None:
        found = self._named(grafana, uid)
        if not found:
            return None
        if len(found) > 1:
            raise SyncError(_twins(uid, found))
        document, markers = found[0].compared()
        return Live(
            document=document,
            raw=found[0].model_dump(),
            provisioned=found[0].provisioned,
            managed=markers.sha is not None,
            pushed_sha=markers.sha,
            owner=markers.owner,
        )

    def write(self, grafana: GrafanaHttp, desired: Desired, live: Live | None, *, force: bool) -> None:
        document = desired.document
        source = in_path(document["sourceUID"])
        what = f"correlation {desired.uid!r}"
        # Transformations always sent: a PATCH without them keeps the ones Grafana has.
        config = {**document["config"], "transformations": document["config"].get("transformations", [])}
        body = {
            "label": document["label"],
            "description": mark(document["description"], desired.owner, content_sha(document)),
            "type": document["type"],
            "config": config,
        }
        if live is not None and not force:
            current = self.fetch(grafana, desired.uid)
            if current is None or current.document != live.document or current.pushed_sha != live.pushed_sha:
                raise ConflictError(f"{what} changed in Grafana after the plan: not written", status=412)
        if live is not None and live.raw.get("targetUID") == document["targetUID"]:
            path = f"/datasources/uid/{source}/correlations/{in_path(str(live.raw['uid']))}"
            self._send(grafana, what, "PATCH", path, body)
            return
        create = {"targetUID": document["targetUID"], **body}
        answer = self._send(grafana, what, "POST", f"/datasources/uid/{source}/correlations", create)
        made = answer.get("result", {}).get("uid") if isinstance(answer, dict) else None
        # A create whose reply was lost and that was sent again leaves a twin with our exact marker.
        for twin in self._named(grafana, desired.uid):
            if twin.uid != made and not twin.provisioned and twin.description == body["description"]:
                self._remove(grafana, what, source, twin.uid)
        if live is not None:  # a new target: the old correlation goes once the new one exists
            self._remove(grafana, what, source, str(live.raw["uid"]))

    def list_managed(self, grafana: GrafanaHttp) -> list[tuple[str, str]]:
        """Every correlation of every source carrying our marker, from the paged list of all of them."""
        found: dict[str, CorrelationAnswer] = {}
        page = 1
        while True:
            answer = self._read(
                grafana, "list correlations", "/datasources/correlations", {"limit": LIST_PAGE, "page": page}
            )
            endpoint = "/api/datasources/correlations"
            correlations = [] if answer is None else _parse_list(answer, grafana.url, endpoint)
            new = {c.uid: c for c in correlations if c.uid not in found}
            found.update(new)
            # A server that ignores `page` answers the same page again: nothing new is the end too.
            if not new or len(correlations) < LIST_PAGE:
                break
            page += 1
        return sorted(
            (c.key, c.label) for c in found.values() if split_marker(c.description)[1].sha is not None
        )

    def delete(self, grafana: GrafanaHttp, uid: str) -> None:
        found = self._named(grafana, uid)
        if len(found) > 1:
            raise SyncError(_twins(uid, found))
        if found:
            self._remove(grafana, f"correlation {uid!r}", _source_of(uid), found[0].uid)

    # -- requests

    def _named(self, grafana: GrafanaHttp, key: str) -> list[CorrelationAnswer]:
        """Grafana's correlations with this key (its source and label), by uid."""
        found = [c for c in self._of_source(grafana, _source_of(key)) if c.key == key]
        return sorted(found, key=lambda c: c.uid)

    def _of_source(self, grafana: GrafanaHttp, source: str) -> list[CorrelationAnswer]:
        path = f"/datasources/uid/{in_path(source)}/correlations"
        answer = self._read(grafana, f"list the correlations of datasource {source!r}", path, None)
        return [] if answer is None else _parse_list(answer, grafana.url, f"/api{path}")

    def _read(self, grafana: GrafanaHttp, action: str, path: str, params: dict[str, Any] | None) -> object:
        """GET; a 404 is None: an unknown source, or an empty list (Grafana's correlations on the app
        platform answer 404 "No correlation found" for it)."""
        try:
            return grafana.read(action, path, params)
        except HttpError as error:
            if error.status == 404:
                return None
            raise SyncError(f"{action}: {error.status} {error.text}", status=error.status) from None

    def _remove(self, grafana: GrafanaHttp, what: str, source: str, grafana_uid: str) -> None:
        path = f"/datasources/uid/{source}/correlations/{in_path(grafana_uid)}"
        try:
            grafana.send(f"delete {what}", "DELETE", path)
        except HttpError as error:
            if error.status != 404:  # already gone: the goal is reached
                raise SyncError(f"delete {what}: {error.status} {error.text}", status=error.status) from None

    def _send(self, grafana: GrafanaHttp, what: str, method: str, path: str, body: object) -> object:
        verb = "create" if method == "POST" else "update"
        try:
            return grafana.send(f"{verb} {what}", method, path, body)
        except HttpError as error:
            if error.status == 404 and method == "PATCH" and "correlation" in error.text.lower():
                raise ConflictError(f"{what} was deleted in Grafana while we pushed", status=404) from None
            if error.status == 404:
                raise SyncError(
                    f"{what}: {error.text} (404): its source or target datasource is not in Grafana; "
                    "push the datasources first, or check the correlation's uids",
                    status=404,
                ) from None
            raise SyncError(f"{what}: {error.status} {error.text}", status=error.status) from None


def _source_of(key: str) -> str:
    """The source datasource's uid of a key, checked like every uid that goes into a request path."""
    source, dot, _ = key.partition(".")
    if not dot:
        raise SyncError(f"{key!r} is not a correlation key (<source uid>.<label>); not sent to Grafana")
    return in_path(source)


KIND = CorrelationKind()
