"""Grafana's answers, parsed at the edge into typed models before any handler uses them.

A proxy, an older or newer Grafana, or something else on the port can answer with any JSON; a
handler that indexes into it raises KeyError or TypeError far from the request. Here each answer the
handlers use is checked once, and a bad one becomes one line naming the endpoint and what was wrong.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr, TypeAdapter, ValidationError

from dashboards_as_code.text import printable


class Answer(BaseModel):
    """An answer's fields the engine reads; any other field is kept (`extra="allow"`) but not checked."""

    model_config = ConfigDict(extra="allow")
    EXPECTED: ClassVar[str] = "an object"


class Health(Answer):
    """`GET /api/health` as Grafana answers it with 200: `database` is always "ok" (a failing database
    is a 503), `version` and `commit` are strings, both left out when `[auth.anonymous] hide_version`
    is set. Any other JSON object (another service's health, a proxy's) is not Grafana."""

    EXPECTED: ClassVar[str] = 'Grafana\'s health JSON (an object with database "ok" and a string version)'
    database: Literal["ok"]
    version: StrictStr | None = None
    commit: StrictStr | None = None


class DashboardMeta(Answer):
    provisioned: bool = False
    folderUid: str | None = None  # noqa: N815  (Grafana's spelling)


class DashboardAnswer(Answer):
    EXPECTED: ClassVar[str] = "an object with dashboard and meta"
    dashboard: dict[str, Any]
    meta: DashboardMeta


class ObjectMeta(Answer):
    """A resource's `metadata` as the resource API answers it (Kubernetes ObjectMeta): what we read."""

    name: StrictStr
    resourceVersion: StrictStr = ""  # noqa: N815  (Grafana's spelling)
    annotations: dict[str, str] = {}


class Conversion(Answer):
    """`status.conversion`: set when Grafana answered in another version than the one it stores."""

    failed: bool = False
    storedVersion: StrictStr | None = None  # noqa: N815  (Grafana's spelling)


class ObjectStatus(Answer):
    conversion: Conversion | None = None


class ResourceObject(Answer):
    """One object of the resource API (`/apis/<group>/<version>/namespaces/<ns>/<resource>/<name>`)."""

    EXPECTED: ClassVar[str] = "a resource object (an object with metadata and spec)"
    metadata: ObjectMeta
    spec: dict[str, Any]
    status: ObjectStatus = ObjectStatus()


class ListMeta(Answer):
    continue_: StrictStr = Field("", alias="continue")


class ResourceList(Answer):
    """A page of a resource API list; `metadata.continue` asks for the next page, absent on the last."""

    EXPECTED: ClassVar[str] = "a resource list (an object with items)"
    metadata: ListMeta = ListMeta()
    items: list[ResourceObject]


class GroupVersion(Answer):
    version: StrictStr


class ApiGroup(Answer):
    """`GET /apis/<group>`: the versions of the group the server serves (Kubernetes APIGroup)."""

    EXPECTED: ClassVar[str] = "an API group (an object with versions)"
    versions: list[GroupVersion]


class FolderAnswer(Answer):
    EXPECTED: ClassVar[str] = "a folder (an object with uid and title)"
    uid: str
    title: str


class DatasourceAnswer(Answer):
    EXPECTED: ClassVar[str] = "a datasource (an object with uid and name)"
    uid: str
    name: str
    readOnly: bool = False  # noqa: N815  (Grafana's spelling)


class SearchHit(Answer):
    uid: str
    title: str = ""


SEARCH_HITS: TypeAdapter[list[SearchHit]] = TypeAdapter(list[SearchHit])


class BadAnswerError(ValueError):
    """An answer of the wrong shape; the message names the endpoint and what came back."""


def describe(value: object) -> str:
    """What a JSON value is, in words, without quoting it (it may be long, or hold anything)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, int | float):
        return "a JSON number"
    if isinstance(value, str):
        return "an HTML page" if value.lstrip().startswith("<") else "a string"
    if isinstance(value, list):
        return "a JSON list"
    return "a JSON object"


A = TypeVar("A", bound=Answer)


def _problem(error: ValidationError) -> str:
    first = error.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "the value"
    return printable(f"{where}: {first['msg']}")


def parse(model: type[A], value: object, grafana_url: str, endpoint: str) -> A:
    """`value` as `model`, or BadAnswerError: "Grafana at URL answered /api/... with a JSON list, not ..."."""
    said = f"Grafana at {grafana_url} answered {endpoint} with"
    if not isinstance(value, dict):
        raise BadAnswerError(f"{said} {describe(value)}, not {model.EXPECTED}")
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise BadAnswerError(f"{said} an object that is not {model.EXPECTED} ({_problem(error)})") from None


def parse_search(value: object, grafana_url: str, endpoint: str) -> list[SearchHit]:
    """A page of search hits, or BadAnswerError naming the endpoint."""
    said = f"Grafana at {grafana_url} answered {endpoint} with"
    if not isinstance(value, list):
        raise BadAnswerError(f"{said} {describe(value)}, not a list of search hits")
    try:
        return SEARCH_HITS.validate_python(value)
    except ValidationError as error:
        raise BadAnswerError(f"{said} a list that is not one of search hits ({_problem(error)})") from None
