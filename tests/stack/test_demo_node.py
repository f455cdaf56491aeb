"""The compose demo runs on a Node.js LTS line that is still supported, and every place says which.

Node 20 left support on 2026-04-30 while the compose file still ran it: nothing noticed. The table
below is Node's release schedule (nodejs/Release, schedule.json); a line is supported from the day it
becomes LTS until its end of life. This test fails on the day the pinned line's support ends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from tests.conftest import REPO
from tests.stack.conftest import MONITORING


@dataclass(frozen=True)
class NodeLine:
    lts: date
    end: date


NODE_LINES = {
    20: NodeLine(lts=date(2023, 10, 24), end=date(2026, 4, 30)),
    22: NodeLine(lts=date(2024, 10, 29), end=date(2027, 4, 30)),
    24: NodeLine(lts=date(2025, 10, 28), end=date(2028, 4, 30)),
    26: NodeLine(lts=date(2026, 10, 28), end=date(2029, 4, 30)),
}
"""Even lines only: odd ones never become LTS. Source: nodejs/Release schedule.json ('lts', 'end')."""

NODE_IMAGE = re.compile(r"^node:(?P<version>(?P<major>\d+)\.\d+\.\d+)-[a-z]+(?:-slim)?$")


def demo_node(compose: dict[str, Any]) -> re.Match[str]:
    image = compose["services"]["demo"]["image"]
    found = NODE_IMAGE.match(image)
    assert found, f"the demo image {image} is not an official node:X.Y.Z-<debian> tag"
    return found


def test_the_demo_runs_on_a_supported_lts_line(compose: dict[str, Any]) -> None:
    major = int(demo_node(compose)["major"])
    assert major in NODE_LINES, (
        f"Node {major} is not an LTS line (even lines only; add it from schedule.json)"
    )
    line, today = NODE_LINES[major], date.today()
    assert line.lts <= today, f"Node {major} becomes LTS only on {line.lts}: pick the current Active LTS"
    assert today < line.end, (
        f"Node {major} is out of support since {line.end}: move to the current Active LTS"
    )


def test_every_place_names_the_node_the_demo_runs(compose: dict[str, Any]) -> None:
    found = demo_node(compose)
    readme = (REPO / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| demo ("))
    assert f"node {found['version']}" in row, f"README's service table says {row!r}"
    makefile = (REPO / "Makefile").read_text()
    assert f"runs {found['major']}" in makefile, "the Makefile's `make demo` hint names another Node"
    engines = json.loads((MONITORING / "demo" / "package.json").read_text())["engines"]["node"]
    minimum = re.fullmatch(r">=(\d+)", engines)
    assert minimum and int(minimum[1]) <= int(found["major"]), f"engines {engines} excludes the image's Node"
