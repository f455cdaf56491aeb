"""The external checkers' answers are reused for the same question, and asked again for a new one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboards_as_code.checker_cache import CACHE_DIR, ask_node_checker, cached, tool_identity
from dashboards_as_code.external_tools import GRAFANA_SCHEMA


def test_same_question_is_answered_from_the_cache(tmp_path: Path) -> None:
    asked: list[str] = []

    def ask() -> str:
        asked.append("x")
        return f"answer {len(asked)}"

    tool = tmp_path / "tool"
    tool.write_text("v1")
    assert cached(tmp_path, "t", tool_identity(tool), "q", ask, parse=str) == "answer 1"
    assert cached(tmp_path, "t", tool_identity(tool), "q", ask, parse=str) == "answer 1"
    assert cached(tmp_path, "t", tool_identity(tool), "other q", ask, parse=str) == "answer 2"
    assert len(asked) == 2


def test_a_changed_tool_is_asked_again(tmp_path: Path) -> None:
    tool = tmp_path / "tool"
    tool.write_text("v1")
    before = tool_identity(tool)
    assert cached(tmp_path, "t", before, "q", lambda: "old", parse=str) == "old"
    tool.write_text("version 2")
    assert tool_identity(tool) != before
    assert cached(tmp_path, "t", tool_identity(tool), "q", lambda: "new", parse=str) == "new"


def test_an_unwritable_cache_still_answers(tmp_path: Path) -> None:
    (tmp_path / ".cache").write_text("a file where the cache folder would go")
    assert cached(tmp_path, "t", "id", "q", lambda: "fresh", parse=str) == "fresh"
    assert cached(tmp_path, "t", "id", "q", lambda: "fresh again", parse=str) == "fresh again"


def _shaped(answer: str) -> list[int]:
    """A caller's parse: a JSON list of numbers, or an exception."""
    found = json.loads(answer)
    if not isinstance(found, list) or not all(isinstance(n, int) for n in found):
        raise TypeError("not a list of numbers")
    return found


def _entry(root: Path) -> Path:
    (entry,) = (root / CACHE_DIR / "t").iterdir()
    return entry


@pytest.mark.parametrize(
    "damage",
    [
        lambda e: e.write_text("utf-8, but not JSON"),
        lambda e: e.write_text('{"a": "dict, not a list"}'),
        lambda e: e.write_text('["strings", "not numbers"]'),
        lambda e: e.write_bytes(b"\xff\xfe\x00binary"),
        lambda e: (e.unlink(), e.mkdir(), (e / "x").write_text("x")),
        lambda e: (e.unlink(), e.symlink_to(e.parent)),
    ],
    ids=["not-json", "wrong-shape", "wrong-items", "binary", "directory", "symlink-to-a-folder"],
)
def test_a_damaged_entry_is_asked_again_and_rewritten(
    tmp_path: Path, damage: Callable[[Path], object]
) -> None:
    assert cached(tmp_path, "t", "id", "q", lambda: "[1, 2]", parse=_shaped) == [1, 2]
    damage(_entry(tmp_path))
    assert cached(tmp_path, "t", "id", "q", lambda: "[3]", parse=_shaped) == [3]
    entry = _entry(tmp_path)
    assert entry.is_file() and not entry.is_symlink()
    assert entry.read_text() == "[3]"


def test_an_unreadable_entry_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads everything, so the permission error is simulated."""
    cached(tmp_path, "t", "id", "q", lambda: "[1]", parse=_shaped)

    def denied(self: Path, encoding: str | None = None) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)
    assert cached(tmp_path, "t", "id", "q", lambda: "[2]", parse=_shaped) == [2]


def test_a_failing_node_checker_says_what_node_said() -> None:
    """A checker that dies (here: input that is no JSON) is reported with Node's own message, which
    Node writes to stderr: the user sees the SyntaxError, not an empty "failed:"."""
    with pytest.raises(RuntimeError, match=r"(?s)checker failed: .*SyntaxError: .*JSON") as failure:
        ask_node_checker(GRAFANA_SCHEMA, None, "{not json", parse=str)
    assert "not json" in str(failure.value)


def test_a_new_install_of_the_checkers_packages_is_asked_again(tmp_path: Path) -> None:
    """`npm ci` after a lock file change installs another @grafana/schema under an unchanged check.js:
    the answers the old package gave must not be served for the new one (the cache keys on the lock)."""
    checker = tmp_path / "tools" / "grafana-schema"
    package = checker / "node_modules" / "@grafana" / "schema"
    package.mkdir(parents=True)
    (checker / "check.js").write_text(
        "const p = require('./node_modules/@grafana/schema/package.json');\n"
        "process.stdout.write(JSON.stringify('answered by ' + p.version));\n"
    )

    def install(version: str) -> None:
        (package / "package.json").write_text(json.dumps({"name": "@grafana/schema", "version": version}))
        lock = {"packages": {"node_modules/@grafana/schema": {"version": version}}}
        (checker / "package-lock.json").write_text(json.dumps(lock))

    install("13.2.0")
    assert ask_node_checker(GRAFANA_SCHEMA, tmp_path, "[]", parse=json.loads) == "answered by 13.2.0"
    install("13.3.0")
    assert ask_node_checker(GRAFANA_SCHEMA, tmp_path, "[]", parse=json.loads) == "answered by 13.3.0"
