"""Cursor pagination over time-ordered ids: `{items, next_cursor}`."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select

from fieldpunch.kit.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> None:
        self.limit = limit
        self.after = decode_cursor(cursor) if cursor else None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


# What encode_cursor is given: an id from kit/ids.py (a lowercase prefix, then 26 Crockford
# base32 characters of a 128-bit value, so the first is 0-7).
_ISSUED = re.compile(r"[a-z]{1,16}_[0-7][0-9A-HJKMNP-TV-Z]{25}")


def decode_cursor(cursor: str) -> str:
    """The id a cursor from `encode_cursor` names; anything else is 422 naming `cursor`.

    Only what this API issues passes: the canonical unpadded base64url of an id's exact shape.
    (Base64 decoding alone let any text through, and ignored stray characters and padding.)
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not _ISSUED.fullmatch(raw) or encode_cursor(raw) != cursor:
        raise Invalid(["query", "cursor"], "not a cursor this API issued")
    return raw


def paginate(stmt: Select[Any], id_column: Any, params: PageParams) -> Select[Any]:
    """Order by id, start after the cursor and fetch one extra row to know if more follow."""
    if params.after is not None:
        stmt = stmt.where(id_column > params.after)
    return stmt.order_by(id_column).limit(params.limit + 1)


def page_of(rows: list[Any], params: PageParams, to_item: Any) -> dict[str, Any]:
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return {
        "items": [to_item(r) for r in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more and rows else None,
    }
