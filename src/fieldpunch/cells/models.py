from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped, Timestamps


class Cell(OrgScoped, Timestamps, Base):
    """A cell tower's estimated position and coverage (an OpenCelliD row)."""

    __tablename__ = "cells"
    __table_args__ = (UniqueConstraint("org_id", "radio", "mcc", "mnc", "lac", "cid"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    radio: Mapped[str] = mapped_column(String(8))
    mcc: Mapped[int] = mapped_column(Integer)
    mnc: Mapped[int] = mapped_column(Integer)
    lac: Mapped[int] = mapped_column(BigInteger)
    cid: Mapped[int] = mapped_column(BigInteger)
    lat: Mapped[float] = mapped_column()
    lon: Mapped[float] = mapped_column()
    range_m: Mapped[float] = mapped_column()
    samples: Mapped[int] = mapped_column(Integer, default=0)
