from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped, Timestamps
from fieldpunch.db.types import JSONType


class Photo(OrgScoped, Timestamps, Base):
    """A re-encoded image (no EXIF) whose bytes live in the photo storage under `storage_key`.

    Uploaded since migration 0014, the untouched upload is kept too (`original_key`, evidence
    with its EXIF), with the picture's pHash, what its EXIF says and the nearest earlier photo
    of the org at upload time (`reuse`); older photos have None there.
    """

    __tablename__ = "photos"
    __table_args__ = (
        # photo_reused: the org's photos of the last days, newest first.
        Index("ix_photos_org_created", "org_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    original_key: Mapped[str | None] = mapped_column(String(200))
    original_type: Mapped[str | None] = mapped_column(String(32))
    original_sha256: Mapped[str | None] = mapped_column(String(64))
    phash: Mapped[int | None] = mapped_column(BigInteger)  # 64 bits, signed
    exif: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    reuse: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
