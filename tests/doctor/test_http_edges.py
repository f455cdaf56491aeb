"""A datasource's answer at its bounds: a body of exactly MAX_BODY is read whole, one byte more is
refused naming the limit; and a `true` where an object is due is named a boolean, not a number."""

from __future__ import annotations

import io

import pytest

from dashboards_as_code.doctor.http import MAX_BODY, _kind_of, _read_all


def test_a_body_of_exactly_the_limit_is_read_whole() -> None:
    assert len(_read_all(io.BytesIO(b"x" * MAX_BODY))) == MAX_BODY


def test_a_body_one_byte_over_the_limit_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"^answer larger than 64 MiB$"):
        _read_all(io.BytesIO(b"x" * (MAX_BODY + 1)))


@pytest.mark.parametrize(
    ("value", "kind"),
    [(True, "a boolean"), (False, "a boolean"), (1, "a number"), (1.5, "a number"), (None, "null"),
     ({}, "an object"), ([], "a list"), ("x", "a string")],
)  # fmt: skip
def test_each_json_value_is_named_by_its_kind(value: object, kind: str) -> None:
    assert _kind_of(value) == kind
