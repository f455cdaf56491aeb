"""A new kind of Grafana object is one module: a throwaway kind, registered and nothing else, is
loaded, rendered, written, checked, diffed, pushed and pruned by the engine's own workflows.

The kind (`NoteKind`) is a made-up one: notes about dashboards, defined as `NOTES` in a `notes/`
package of the project, written to `provisioning/notes/<uid>.json`, and kept "in Grafana" in a
dictionary (the Grafana test server serves the real kinds beside it). If any workflow still listed
the kinds by hand, one of the steps below would not see it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from dashboards_as_code import kinds
from dashboards_as_code.definitions.loader import load_project
from dashboards_as_code.definitions.loading import Loading
from dashboards_as_code.definitions.types import Project
from dashboards_as_code.errors import Location
from dashboards_as_code.grafana_api.client import Grafana
from dashboards_as_code.grafana_api.plan import Decision, synchronise
from dashboards_as_code.kinds.base import Desired, GrafanaHttp, Kind, Live
from dashboards_as_code.kinds.comparable import content_sha
from dashboards_as_code.lint import LintContext, run_checks
from dashboards_as_code.render.documents import Documents, build_documents
from dashboards_as_code.render.files import render_outputs, write_outputs
from dashboards_as_code.render.formats import Output, dump_json
from dashboards_as_code.settings import Settings
from tests.grafana_server.server import FakeGrafana


@dataclass(frozen=True)
class Note:
    uid: str
    text: str
    dashboard: str


class NoteKind(Kind):
    name: ClassVar[str] = "note"
    order: ClassVar[int] = 40
    definition_package: ClassVar[str | None] = "notes"

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        """What "Grafana" holds: uid -> the document as pushed, with the owner beside it."""

    def discover(self, loading: Loading) -> list[Any]:
        module = loading.package("notes")
        return list(loading.required(module, "NOTES", (list, tuple), "notes/__init__.py", "a NOTES list"))

    def render(self, project: Project) -> list[dict[str, str]]:
        found: list[Note] = project.definitions["note"]
        return [{"uid": n.uid, "text": n.text, "dashboard": n.dashboard} for n in found]

    def outputs(self, documents: Documents) -> list[Output]:
        base = documents.project.config.provisioning_dir
        return [Output(f"{base}/notes/{d['uid']}.json", dump_json(d)) for d in documents.by_kind["note"]]

    def desired(self, documents: Documents) -> list[Desired]:
        owner = documents.project.config.name
        return [Desired(self.name, d["uid"], d["text"], d, owner) for d in documents.by_kind["note"]]

    def references(self, documents: Documents) -> Iterator[tuple[Location, str]]:
        boards = {board.uid for board in documents.dashboards}
        for note in documents.by_kind["note"]:
            if note["dashboard"] not in boards:
                yield Location(file="notes/__init__.py"), f"{note['uid']} is about unknown dashboard"

    def fetch(self, grafana: GrafanaHttp, uid: str) -> Live | None:
        found = self.stored.get(uid)
        if found is None:
            return None
        document = found["document"]
        return Live(document, document, pushed_sha=content_sha(document), owner=found["owner"])

    def write(self, grafana: GrafanaHttp, desired: Desired, live: Live | None, *, force: bool) -> None:
        self.stored[desired.uid] = {"document": desired.document, "owner": desired.owner}

    def list_managed(self, grafana: GrafanaHttp) -> list[tuple[str, str]]:
        return [(uid, found["document"]["text"]) for uid, found in self.stored.items()]

    def delete(self, grafana: GrafanaHttp, uid: str) -> None:
        del self.stored[uid]


@pytest.fixture
def board(project_copy: Path) -> str:
    """A dashboard of the copied project, for the notes to be about (read before notes/ exists)."""
    return load_project(project_copy).dashboards[0].uid


@pytest.fixture
def note_kind(board: str) -> Iterator[NoteKind]:
    """Registered once the project is copied and loaded without it."""
    kind = NoteKind()
    kinds.register(kind)
    yield kind
    kinds.unregister(kind)


def _with_notes(root: Path, *notes: tuple[str, str, str]) -> None:
    listed = ", ".join(f"Note({uid!r}, {text!r}, {board!r})" for uid, text, board in notes)
    (root / "notes").mkdir(exist_ok=True)
    (root / "notes" / "__init__.py").write_text(
        f"from tests.kinds.test_a_new_kind import Note\n\nNOTES = [{listed}]\n"
    )


def test_a_registered_kind_is_loaded_rendered_written_and_checked(
    note_kind: NoteKind, project_copy: Path, board: str
) -> None:
    _with_notes(project_copy, ("first", "Look at this", board), ("stray", "About nothing", "no-such-board"))
    documents = build_documents(load_project(project_copy))

    assert [d["uid"] for d in documents.by_kind["note"]] == ["first", "stray"]
    outputs = render_outputs(documents)
    report = write_outputs(project_copy, outputs, documents.project.config.provisioning_dir)
    assert "provisioning/notes/first.json" in report.written
    assert json.loads((project_copy / "provisioning/notes/first.json").read_text())["text"] == "Look at this"

    findings = [f for f in run_checks(LintContext(documents, outputs)) if f.check == "kind-references"]
    assert [f.message for f in findings] == ["note: stray is about unknown dashboard"]


def test_a_registered_kind_is_diffed_pushed_and_pruned(
    note_kind: NoteKind, project_copy: Path, board: str
) -> None:
    _with_notes(project_copy, ("first", "Look at this", board), ("second", "And this", board))
    documents = build_documents(load_project(project_copy))
    owner = documents.project.config.name
    desired = [d for kind in kinds.registry() for d in kind.desired(documents)]

    with FakeGrafana() as server:
        grafana = Grafana(Settings(grafana_url=server.url, grafana_token="glsa_admin"))
        backups = project_copy / ".backups"

        planned = synchronise(grafana, desired, apply=False, backup_dir=backups)
        notes = {a.uid: a.op for a in planned.actions if a.kind == "note"}
        assert notes == {"first": Decision.CREATE, "second": Decision.CREATE}
        assert note_kind.stored == {}, "diff wrote nothing"

        pushed = synchronise(grafana, desired, apply=True, backup_dir=backups)
        assert pushed.ok, [a.error for a in pushed.actions if a.failed]
        assert set(note_kind.stored) == {"first", "second"}
        # the kind was pushed after the kinds of lower order, in push order
        assert [a.kind for a in pushed.actions][-2:] == ["note", "note"]

        without_second = [d for d in desired if (d.kind, d.uid) != ("note", "second")]
        pruned = synchronise(grafana, without_second, apply=True, backup_dir=backups, prune_owner=owner)
        deleted = [(a.kind, a.uid) for a in pruned.actions if a.op is Decision.DELETE and a.done]
        assert deleted == [("note", "second")]
        assert set(note_kind.stored) == {"first"}
