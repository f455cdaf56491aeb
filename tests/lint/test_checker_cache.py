"""The external checkers' answers are reused for the same question, and asked again for a new one."""

from __future__ import annotations

from pathlib import Path

from engine.lint.checker_cache import cached, tool_identity


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
