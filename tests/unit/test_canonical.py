"""The fast canonical JSON writer is rfc8785, byte for byte (or the same exception)."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fieldpunch.kit.canonical import canonical


class Kind(enum.StrEnum):
    clock_in = "clock_in"


keys = st.text(max_size=6) | st.sampled_from(["a", "B", "_", "é", "\U0001f600", "\ue000", "aa"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats()
    | st.floats(min_value=-1e6, max_value=1e6).map(lambda f: round(f, 7))
    | st.floats(min_value=-1e6, max_value=1e6).map(lambda f: float(round(f)))
    | st.text()
    | st.sampled_from([Kind.clock_in, "\ud800", "a\x00b\x1f\x7f\u2028", 1e21, 1e-7, 5e-324])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=25,
)


def _outcome(f: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", f(value)
    except Exception as exc:
        return "error", type(exc)


@settings(max_examples=2000, deadline=None)
@given(values)
@example({"lat": 31.2304, "lon": 121.4737, "accuracy_m": 20.0, "n": 2**53, "k": {"é": 1}})
@example({"x": 1e16, "y": 123456789.0, "z": 0.0001, "w": -0.0, "v": 1e-5})
def test_same_bytes_as_rfc8785(value: Any) -> None:
    assert _outcome(canonical, value) == _outcome(rfc8785.dumps, value)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 2**53, {1: "x"}, object()])
def test_same_refusals(bad: Any) -> None:
    assert _outcome(canonical, bad) == _outcome(rfc8785.dumps, bad)
