"""ledger_heads.detector_memory: the detectors' state after the person's latest punch;
punches indexed by (org, device, user, time) for shared_device and by (org, raw position, time)
for too_perfect

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: existing heads have no memory and fall back to re-reading the window.
    with op.batch_alter_table("ledger_heads") as batch:
        batch.add_column(
            sa.Column(
                "detector_memory",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
    # The shared-device read skips the owner's punches by user id (two index ranges).
    op.drop_index("ix_punches_org_device_time", table_name="punches")
    op.create_index(
        "ix_punches_org_device_user_time",
        "punches",
        ["org_id", "device_id", "user_id", "trusted_time"],
    )
    # too_perfect's read: with the time in the index, SQLite without statistics uses it
    # instead of reading the organisation's last 30 days by time on every punch.
    op.drop_index("ix_punches_org_raw", table_name="punches")
    op.create_index(
        "ix_punches_org_raw_time", "punches", ["org_id", "raw_lat", "raw_lon", "trusted_time"]
    )


def downgrade() -> None:
    op.drop_index("ix_punches_org_raw_time", table_name="punches")
    op.create_index("ix_punches_org_raw", "punches", ["org_id", "raw_lat", "raw_lon"])
    op.drop_index("ix_punches_org_device_user_time", table_name="punches")
    op.create_index(
        "ix_punches_org_device_time", "punches", ["org_id", "device_id", "trusted_time"]
    )
    with op.batch_alter_table("ledger_heads") as batch:
        batch.drop_column("detector_memory")
