"""JSON columns are read with orjson where it agrees with json, and with json elsewhere."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from fieldpunch.db.engine import json_loads
from fieldpunch.punches.store.onestatement import _json_text

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)  # type: ignore[attr-defined, index]
    return a == b


@settings(max_examples=500, deadline=None)
@given(values)
def test_reads_exactly_what_json_reads(value: object) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
        assert _same(json_loads(text), json.loads(text))


def test_the_cases_where_orjson_alone_would_differ() -> None:
    for text in ("123456789012345678901234567890", "[NaN, Infinity]", "[1e400]", '"\\ud800"'):
        assert _same(json_loads(text), json.loads(text))


finite = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text() | st.integers(), inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(finite)
def test_postgresql_writes_the_values_json_dumps_writes(value: object) -> None:
    """The one-statement write's JSON text (orjson, json.dumps where orjson refuses) reads back
    as json.dumps's text does: jsonb keeps the values."""
    assert _same(json.loads(_json_text(value)), json.loads(json.dumps(value)))
