"""Datasources: the `DATASOURCES` list of `datasources/__init__.py`, one provisioning file for all of
them (`datasources/datasources.yaml`), one object each in Grafana.

Push creates and updates them (the owner and content hash ride in `jsonData`); it never deletes one,
and provisioning has no `prune: true` either: Grafana 13 is reported to fail at startup on it ("data
source not found"), and a Grafana that does not start is worse than a stale datasource. To remove
one, delete it in the UI or with the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from dashboards_as_code import kinds
from dashboards_as_code.definitions.datasource import Datasource
from dashboards_as_code.definitions.loading import Loading
from dashboards_as_code.kinds.answers import DatasourceAnswer
from dashboards_as_code.kinds.base import (
    Desired,
    GrafanaHttp,
    Kind,
    Live,
    create_or_update,
    in_path,
    read_answer,
)
from dashboards_as_code.kinds.comparable import (
    datasource_write_only,
    desired_datasource,
    mark_datasource,
    split_datasource,
)
from dashboards_as_code.render.formats import Output, dump_provisioning_yaml

if TYPE_CHECKING:
    from dashboards_as_code.definitions.types import Project
    from dashboards_as_code.render.documents import Documents


def datasources_document(
    datasources: Sequence[Datasource], nested: Mapping[str, dict[str, list[Any]]] | None = None
) -> dict[str, Any]:
    """The datasource provisioning file, with runtime values (escaping happens when it is written).

    `nested` adds what other kinds keep inside a datasource's entry (`kinds.nested_entries`: the
    correlations whose source it is), by datasource uid."""
    nested = nested or {}
    return {"apiVersion": 1, "datasources": [{**d.document(), **nested.get(d.uid, {})} for d in datasources]}


class DatasourceKind(Kind):
    name: ClassVar[str] = "datasource"
    order: ClassVar[int] = 20
    definition_package: ClassVar[str | None] = "datasources"

    def discover(self, loading: Loading) -> list[Any]:
        module = loading.package("datasources")
        found = loading.required(
            module, "DATASOURCES", (list, tuple), "datasources/__init__.py", "a DATASOURCES list"
        )
        return list(found)

    def render(self, project: Project) -> dict[str, Any]:
        return datasources_document(project.datasources, kinds.nested_entries(self.name, project))

    def outputs(self, documents: Documents) -> list[Output]:
        path = f"{documents.project.config.provisioning_dir}/datasources/datasources.yaml"
        return [Output(path, dump_provisioning_yaml(documents.datasources, "datasources/"))]

    def desired(self, documents: Documents) -> list[Desired]:
        owner = documents.project.config.name
        return [
            Desired(
                self.name,
                d["uid"],
                d["name"],
                desired_datasource(d),
                owner,
                write_only=datasource_write_only(d),
            )
            for d in documents.datasources["datasources"]
        ]

    def fetch(self, grafana: GrafanaHttp, uid: str) -> Live | None:
        datasource = read_answer(
            grafana, f"read datasource {uid!r}", f"/datasources/uid/{in_path(uid)}", DatasourceAnswer
        )
        if datasource is None:
            return None
        raw = datasource.model_dump(exclude_unset=True)
        document, markers = split_datasource(raw)
        return Live(
            document=document,
            raw=raw,
            provisioned=datasource.readOnly,
            managed=markers.sha is not None,
            pushed_sha=markers.sha,
            owner=markers.owner,
        )

    def write(self, grafana: GrafanaHttp, desired: Desired, live: Live | None, *, force: bool) -> None:
        body = {**mark_datasource(desired.document, desired.owner), **desired.write_only}
        create_or_update(
            grafana,
            f"datasource {desired.uid!r}",
            create=None if live else (f"create datasource {desired.uid!r}", "POST", "/datasources", body),
            update=(
                f"update datasource {desired.uid!r}",
                "PUT",
                f"/datasources/uid/{in_path(desired.uid)}",
                body,
            ),
            on_conflict=f"Grafana already has a datasource named {desired.title!r} with another uid (409); "
            "rename one of them",
        )


KIND = DatasourceKind()
