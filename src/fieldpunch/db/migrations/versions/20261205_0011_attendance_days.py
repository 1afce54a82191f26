"""attendance days: one row per (org, person, local date) as computed, with the statuses, the
minutes the reports sum, the rules used and the result as JSON

Revises 0010 (visits and tasks).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 13:56:50.745494
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import fieldpunch.db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_days",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=True),
        sa.Column(
            "statuses",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("holiday_name", sa.String(length=200), nullable=False),
        sa.Column("schedule", sa.String(length=16), nullable=False),
        sa.Column("scheduled_min", sa.Integer(), nullable=False),
        sa.Column("worked_min", sa.Integer(), nullable=False),
        sa.Column("late_min", sa.Integer(), nullable=False),
        sa.Column("early_leave_min", sa.Integer(), nullable=False),
        sa.Column("overtime_workday_min", sa.Integer(), nullable=False),
        sa.Column("overtime_rest_day_min", sa.Integer(), nullable=False),
        sa.Column("overtime_holiday_min", sa.Integer(), nullable=False),
        sa.Column("leave_min", sa.Integer(), nullable=False),
        sa.Column(
            "leave_by_type",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("trip_min", sa.Integer(), nullable=False),
        sa.Column("out_min", sa.Integer(), nullable=False),
        sa.Column("field_day", sa.Boolean(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("first_in", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_out", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("group_id", sa.String(length=32), nullable=True),
        sa.Column("shift_id", sa.String(length=32), nullable=True),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("computed_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_attendance_days_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_attendance_days_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "user_id", "day", name=op.f("pk_attendance_days")),
    )
    with op.batch_alter_table("attendance_days", schema=None) as batch_op:
        batch_op.create_index("ix_attendance_days_incomplete", ["complete", "day"], unique=False)
        batch_op.create_index("ix_attendance_days_org_day", ["org_id", "day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attendance_days", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_days_org_day")
        batch_op.drop_index("ix_attendance_days_incomplete")

    op.drop_table("attendance_days")
