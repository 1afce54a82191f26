"""photo evidence: the untouched original, a perceptual hash, EXIF facts; punches by photo

Photos keep the uploaded bytes beside the re-encoded copy (`original_key`), their pHash (64 bits
as a signed BIGINT) and what their EXIF says (`exif`), and the nearest earlier photo of the org
found at upload (`reuse`). Reuse is searched over the org's recent photos (org_id, created_at).
A punch is found by the photo it cites (the watermark names that punch's time and place); the
index is partial, so punches without a photo (nearly all) cost it nothing.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("photos") as batch:
        batch.add_column(sa.Column("original_key", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("original_type", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("original_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("phash", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("exif", _JSON, nullable=True))
        batch.add_column(sa.Column("reuse", _JSON, nullable=True))
        batch.create_index("ix_photos_org_created", ["org_id", "created_at"], unique=False)
    op.create_index(
        "ix_punches_org_photo",
        "punches",
        ["org_id", "photo_id"],
        unique=False,
        postgresql_where=sa.text("photo_id IS NOT NULL"),
        sqlite_where=sa.text("photo_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_punches_org_photo", table_name="punches")
    with op.batch_alter_table("photos") as batch:
        batch.drop_index("ix_photos_org_created")
        for column in ("reuse", "exif", "phash", "original_sha256", "original_type"):
            batch.drop_column(column)
        batch.drop_column("original_key")
