"""outbox_cursors.holes: the ids a follower read past that may still commit

A follower used to stop its cursor below a hole and re-read from there, at most a batch at a
time, so an event more than a batch past a young hole waited for the hole's grace (minutes at a
busy hour). The cursor now reads on and remembers the holes it passed, each with the time it
gives up on it; `last_id` is the highest id read.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_cursors") as batch:
        batch.add_column(
            sa.Column(
                "holes",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="[]",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_cursors") as batch:
        batch.drop_column("holes")
