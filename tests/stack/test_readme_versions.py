"""The README names the versions the compose file pins: the service table and every `image:tag` in a
command (the live-test `docker run` named a Grafana two releases older than the stack's)."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import REPO

README = REPO / "README.md"
VERSION = re.compile(r"\d+\.\d+\.\d+")


def _images(compose: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each service's image, split into the repository and the tag."""
    images = {}
    for name, service in compose["services"].items():
        if "image" in service:
            repository, _, tag = service["image"].rpartition(":")
            images[name] = (repository, tag)
    return images


def test_every_image_named_in_the_readme_has_the_tag_compose_pins(compose: dict[str, Any]) -> None:
    text = README.read_text()
    for repository, tag in _images(compose).values():
        named = re.findall(re.escape(repository) + r":([\w.-]+)", text)
        wrong = sorted({found for found in named if found != tag})
        assert not wrong, f"README names {repository}:{wrong}; monitoring's compose file pins {tag}"


def test_the_service_table_gives_each_service_the_version_compose_pins(compose: dict[str, Any]) -> None:
    rows = {
        match[1]: match[0]
        for match in re.findall(r"^(\| ([\w-]+) \(.*)$", README.read_text(), flags=re.MULTILINE)
    }
    images = _images(compose)
    assert set(rows) == set(images), "the README's service table lists every service of the compose file"
    for name, (_, tag) in images.items():
        version = VERSION.search(tag)
        assert version, f"{name}: the tag {tag!r} has no x.y.z version"
        cell = rows[name].split("|")[1]
        assert VERSION.findall(cell) == [version[0]], (
            f"README's row for {name} says {cell.strip()!r}, compose pins {tag}"
        )
