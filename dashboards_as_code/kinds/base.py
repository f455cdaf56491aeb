"""What a kind of Grafana object is: the one interface every workflow iterates.

A kind (folder, datasource, dashboard, ...) is one module in this package that defines `KIND`, an
instance of a `Kind` subclass. The kind says, in one place, everything the workflows need about
its objects:

- `discover`: its definitions, read from the project (the loader calls it);
- `render`: its normalised documents, made once per command (`build_documents`);
- `outputs`: the provisioning files Grafana loads on startup (`build`, `check`);
- `desired`: the objects `push` and `diff` compare with Grafana's, in the compared form;
- `references`: what must hold between its definitions and the others' (`check`);
- `fetch` and `write`: Grafana's HTTP API for one object (`diff`, `push`, `pull`).

Optional capabilities are separate protocols, as in Grizzly's handler registry: a kind whose
objects `push --prune` may delete is also `Prunable`. Nothing here talks HTTP itself: a kind asks
a `GrafanaHttp` (the engine's Grafana client is one), so `build` and `check` load every kind without
the Grafana client.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from dashboards_as_code.errors import Location
from dashboards_as_code.kinds.answers import Answer, BadAnswerError, parse
from dashboards_as_code.kinds.changes import summarise_fields
from dashboards_as_code.kinds.comparable import content_sha
from dashboards_as_code.text import printable
from dashboards_as_code.uids import UnsafeUidError, path_uid

if TYPE_CHECKING:
    from dashboards_as_code.definitions.loading import Loading
    from dashboards_as_code.definitions.types import Project, SectionsInV2
    from dashboards_as_code.render.documents import Documents
    from dashboards_as_code.render.formats import Output


class SyncError(Exception):
    """A failed request, with a message a user can act on. `fatal` stops the whole run.

    The message is passed through `printable` here, once: it may quote a server's error text, and
    whatever reaches the terminal from Grafana's side must not carry escape sequences.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        fatal: bool = False,
        bad_setting: bool = False,
        answer: str | None = None,
    ) -> None:
        super().__init__(printable(message, limit=2000))
        self.status = status
        self.fatal = fatal or bad_setting
        self.bad_setting = bad_setting
        """GRAFANA_URL does not lead to a Grafana: a settings problem (exit 2), not a failed write."""
        self.answer = answer
        """What came back instead of an API answer (an HTML page, a redirect), when that was the failure."""


class ConflictError(SyncError):
    """Grafana holds a version we did not push (an edit made in Grafana, or a race)."""


class ProvisionedError(SyncError):
    """Grafana loads this object from provisioning files; the API may not change it."""


class HttpError(Exception):
    """Grafana answered a request with a 4xx the kind has to interpret (404, 409, 412, 400...).

    Retries, 401, 403, 5xx and answers that are not Grafana's are the client's business and arrive
    as SyncErrors; this one carries what a kind needs to decide: the status and Grafana's answer.
    """

    def __init__(self, status: int, text: str, answer: object = None) -> None:
        super().__init__(f"{status} {text}")
        self.status = status
        self.text = printable(text)
        """Grafana's error text (its `message`, or the body), escaped: it is quoted in messages."""
        self.answer = answer

    def field(self, name: str) -> str | None:
        """A string field of Grafana's JSON error answer (`status`, `message`), if there is one."""
        value = self.answer.get(name) if isinstance(self.answer, dict) else None
        return value if isinstance(value, str) else None


class GrafanaHttp(Protocol):
    """What a kind may ask of Grafana. Paths are below `/api` (`/apis` for the `resource_api()` view);
    bodies and answers are JSON."""

    url: str

    def read(self, action: str, path: str, params: dict[str, Any] | None = None) -> object:
        """GET `path`; a 4xx (404 too: a JSON `null` is an answer) is an HttpError. `action` names it
        in messages."""
        ...

    def send(self, action: str, method: str, path: str, body: object = None) -> object:
        """POST, PUT, PATCH or DELETE `path` (a write: counted, retried the same way); 4xx is an HttpError."""
        ...


@dataclass(frozen=True)
class Desired:
    """An object as the definitions want it, in the compared form."""

    kind: str
    uid: str
    title: str
    document: dict[str, Any]
    owner: str
    """The project pushing it (its config name): recorded on the object as the owner marker."""
    folder_uid: str | None = None
    form: str = "classic"
    """The schema `document` is in: `classic`, or a kind's other form (a dashboard stored as `v2`),
    chosen by `Kind.in_grafana_form` to match what Grafana holds or will hold."""
    create_as: str = "classic"
    """The schema to create it in where Grafana offers a choice (`ProjectConfig.push_dashboards_as`)."""
    sections_in_v2: SectionsInV2 = "rows"
    """How its other form lays out its sections, where that form offers a choice (a dashboard's rows
    as tabs in schema v2: `DashboardDefinition.sections_in_v2`)."""
    write_only: Mapping[str, Any] = field(default_factory=dict)
    """Fields a write sends that are never compared, because Grafana never gives them back (a
    datasource's `secureJsonData`); `document` holds their hash instead."""


@dataclass(frozen=True)
class Live:
    """An object as Grafana has it: compared form, raw JSON, and what Grafana says about it."""

    document: dict[str, Any]
    raw: dict[str, Any]
    provisioned: bool = False
    managed: bool = True
    pushed_sha: str | None = None
    owner: str | None = None
    """The project whose push wrote it, from the owner marker; None: unknown (older version, or not ours)."""
    folder_uid: str | None = None
    version: int | None = None
    """The legacy API's version counter, sent back as its optimistic lock (412 if it moved)."""
    resource_version: str | None = None
    """The resource API's `metadata.resourceVersion`, sent back as its optimistic lock (409 if it moved)."""
    form: str = "classic"
    """The schema Grafana stores it in, which `document` is in: `classic`, or `v2` for a dashboard saved
    as v2 (read in that form, never down-converted)."""
    stored_version: str | None = None
    """The resource API version it is stored in (`v1`, `v2beta1`...): an overwrite is sent in it."""

    @property
    def edited_since_push(self) -> bool:
        """True unless the live content is exactly what our last push wrote."""
        return not self.managed or self.pushed_sha != content_sha(self.document)


class Kind:
    """One kind of Grafana object. Subclass it in a module of this package and set `KIND`.

    Every method has a harmless default except `fetch` and `write`, so a kind says only what it has:
    folders have no definitions of their own (they come from the dashboards), a kind without
    provisioning files writes no outputs.
    """

    name: ClassVar[str]
    """Singular, lower case: `dashboard`. Names the kind in every message and in `diff`'s paths."""
    order: ClassVar[int]
    """Push order, lowest first: what others refer to (folders, datasources) exists before them."""
    concurrent: ClassVar[bool] = False
    """Plan and write this kind's objects in parallel (they are many and independent)."""
    marks_owner: ClassVar[bool] = True
    """Its objects carry the owner marker, so an edit in Grafana or another project's object is a
    conflict; a kind whose objects cannot carry it (folders) is updated without that check."""
    definition_package: ClassVar[str | None] = None
    """The project's top-level package its definitions live in (`dashboards`), if it has its own:
    the loader imports it from the project root, never from elsewhere on sys.path."""

    @property
    def defined_in(self) -> str:
        """Where its definitions live, for messages: "no longer defined in dashboards/"."""
        return f"{self.definition_package or self.name + 's'}/"

    def discover(self, loading: Loading) -> list[Any]:
        """The project's definitions of this kind, in a stable order."""
        return []

    def render(self, project: Project) -> Any:
        """This kind's normalised documents, made once per command; kept in `Documents.by_kind`."""
        return None

    def outputs(self, documents: Documents) -> list[Output]:
        """The files `build` writes for this kind (paths relative to the project root)."""
        return []

    def desired(self, documents: Documents) -> list[Desired]:
        """Every object of this kind that `push` manages, in the compared form, owned by the project."""
        return []

    def references(self, documents: Documents) -> Iterator[tuple[Location, str]]:
        """Problems between this kind's definitions and the rest (an unknown uid...), for `check`."""
        return iter(())

    def summarise(self, live: Live, desired: Desired) -> str:
        """One line on what a push would change, for `diff` and the push report."""
        return summarise_fields(live.document, desired.document)

    def fetch(self, grafana: GrafanaHttp, uid: str) -> Live | None:
        """The live object in the compared form, or None if Grafana has none with this uid."""
        raise NotImplementedError

    def in_grafana_form(self, grafana: GrafanaHttp, desired: Desired, live: Live | None) -> Desired:
        """`desired` in the schema Grafana stores it in (`live`'s), or will create it in (`live` is
        None), so the two compare field by field. Most kinds have one schema; a dashboard stored as v2
        is compared (and overwritten) as v2."""
        return desired

    def write(self, grafana: GrafanaHttp, desired: Desired, live: Live | None, *, force: bool) -> None:
        """Create (`live` is None) or update the object; `force` overwrites what Grafana holds."""
        raise NotImplementedError


@runtime_checkable
class OffersResourceApi(Protocol):
    """A GrafanaHttp that can also speak Grafana's resource API: the same server, paths below `/apis`.
    A kind that has a resource-API form asks for it, and falls back to `/api` when the server has none
    (or the GrafanaHttp cannot offer it: a test double)."""

    def resource_api(self) -> GrafanaHttp:
        """The same Grafana, same credentials and limits, with paths below `/apis`."""
        ...


@runtime_checkable
class Prunable(Protocol):
    """A kind whose objects `push --prune` deletes once no definition makes them any more."""

    def list_managed(self, grafana: GrafanaHttp) -> list[tuple[str, str]]:
        """(uid, title) of every object of this kind in Grafana under the managed marker."""
        ...

    def delete(self, grafana: GrafanaHttp, uid: str) -> None:
        """Delete one object; one already gone is not an error."""
        ...


@runtime_checkable
class NestedInProvisioning(Protocol):
    """A kind whose provisioning entries Grafana reads inside another kind's file entries, so it writes
    no file of its own: correlations ride in their source datasource's entry (`correlations:`). The
    host kind (`host`) asks `kinds.nested_entries` while it renders its file."""

    host: ClassVar[str]

    def nested_entries(self, project: Project) -> dict[str, dict[str, list[Any]]]:
        """Host object uid -> the keys to add to its entry, each with its list of entries."""
        ...


def in_path(uid: str) -> str:
    """Every uid that goes into a request path passes here (Grafana's uid rule), or is a SyncError."""
    try:
        return path_uid(uid)
    except UnsafeUidError as error:
        raise SyncError(str(error)) from None


A = TypeVar("A", bound=Answer)


def read_answer(
    grafana: GrafanaHttp,
    action: str,
    path: str,
    model: type[A],
    *,
    params: dict[str, Any] | None = None,
    root: str = "/api",
) -> A | None:
    """GET `path` parsed as `model`; None on 404; any other 4xx or a bad answer is a SyncError.
    `root` is what `grafana`'s paths are below (`/apis` for its `resource_api()` view), for messages
    that name the endpoint a bad answer came from."""
    try:
        result = grafana.read(action, path, params)
    except HttpError as error:
        if error.status == 404:
            return None
        raise SyncError(f"{action}: {error.status} {error.text}", status=error.status) from None
    try:
        return parse(model, result, grafana.url, f"{root}{path}")
    except BadAnswerError as error:
        raise SyncError(f"{error} (while trying to {action})") from None


def create_or_update(
    grafana: GrafanaHttp,
    what: str,
    *,
    create: tuple[str, str, str, object] | None,
    update: tuple[str, str, str, object],
    on_conflict: str,
) -> None:
    """Send the create request (when there is one) or else the update, each `(action, method, path,
    body)`; a 409 is a SyncError saying `on_conflict`, any other 4xx one quoting Grafana."""
    action, method, path, body = create or update
    try:
        grafana.send(action, method, path, body)
    except HttpError as error:
        if error.status == 409:
            raise SyncError(f"{what}: {on_conflict}", status=409) from None
        raise SyncError(f"{what}: {error.status} {error.text}", status=error.status) from None
