"""The punch intake's repository: every SQL statement the intake runs lives in this package.

`store_for(session)` gives the implementation for the session's database; the service above
it has no dialect branch. `IntakeStore` (base.py) is the interface.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.punches.store.base import Head, IntakeStore, Opened, OrgView, Write
from fieldpunch.punches.store.postgres import PostgresStore
from fieldpunch.punches.store.sqlite import SQLiteStore

__all__ = ["Head", "IntakeStore", "Opened", "OrgView", "Write", "store_for"]

_STORES: dict[str, type[IntakeStore]] = {"postgresql": PostgresStore, "sqlite": SQLiteStore}


def store_for(session: AsyncSession) -> IntakeStore:
    """The intake's store on this session's database."""
    return _STORES[session.get_bind().dialect.name](session)
