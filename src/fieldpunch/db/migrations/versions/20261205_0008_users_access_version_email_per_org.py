"""users.access_version (the cached caller's key); emails unique per organization, not globally

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("access_version", sa.Integer(), server_default="1", nullable=False)
        )
        batch.drop_constraint("uq_users_email", type_="unique")
        batch.create_unique_constraint("uq_users_org_id_email", ["org_id", "email"])
        batch.create_index("ix_users_email", ["email"], unique=False)


def downgrade() -> None:
    # Fails while one email is used in two organizations: that state has no global form.
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_email")
        batch.drop_constraint("uq_users_org_id_email", type_="unique")
        batch.create_unique_constraint("uq_users_email", ["email"])
        batch.drop_column("access_version")
