"""attendance rules: shifts, attendance groups (people, teams, places), roster entries, the org
calendar, requests (leave, trip, out, overtime), and attendance_dirty (person-days to recompute)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 13:13:02.098589
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import fieldpunch.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_dirty",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("marked_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_attendance_dirty_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "day", "user_id", name=op.f("pk_attendance_dirty")),
    )
    with op.batch_alter_table("attendance_dirty", schema=None) as batch_op:
        batch_op.create_index("ix_attendance_dirty_marked", ["marked_at"], unique=False)

    op.create_table(
        "calendar_days",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_calendar_days_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "day", name=op.f("pk_calendar_days")),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "periods",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "breaks",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("grace_late_min", sa.Integer(), nullable=False),
        sa.Column("grace_early_min", sa.Integer(), nullable=False),
        sa.Column("serious_late_min", sa.Integer(), nullable=True),
        sa.Column("absent_late_min", sa.Integer(), nullable=True),
        sa.Column("flex_min", sa.Integer(), nullable=False),
        sa.Column("earliest_in_min", sa.Integer(), nullable=False),
        sa.Column("latest_in_min", sa.Integer(), nullable=True),
        sa.Column("earliest_out_min", sa.Integer(), nullable=True),
        sa.Column("latest_out_min", sa.Integer(), nullable=False),
        sa.Column("deleted_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_shifts_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shifts_org_id"), ["org_id"], unique=False)

    op.create_table(
        "attendance_groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("schedule", sa.String(length=16), nullable=False),
        sa.Column("shift_id", sa.String(length=32), nullable=True),
        sa.Column(
            "workdays",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("required_min", sa.Integer(), nullable=True),
        sa.Column("follows_calendar", sa.Boolean(), nullable=False),
        sa.Column("field_punch", sa.String(length=16), nullable=False),
        sa.Column("overtime_after_shift", sa.Boolean(), nullable=False),
        sa.Column("overtime_after_min", sa.Integer(), nullable=False),
        sa.Column("overtime_on_rest_days", sa.Boolean(), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_attendance_groups_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shifts.id"],
            name=op.f("fk_attendance_groups_shift_id_shifts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_groups")),
    )
    with op.batch_alter_table("attendance_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_groups_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attendance_groups_shift_id"), ["shift_id"], unique=False
        )

    op.create_table(
        "attendance_group_places",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.Column("place_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["attendance_groups.id"],
            name=op.f("fk_attendance_group_places_group_id_attendance_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_attendance_group_places_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["places.id"],
            name=op.f("fk_attendance_group_places_place_id_places"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "place_id", name=op.f("pk_attendance_group_places")),
    )
    with op.batch_alter_table("attendance_group_places", schema=None) as batch_op:
        batch_op.create_index("ix_attendance_group_places_place", ["place_id"], unique=False)

    op.create_table(
        "attendance_group_teams",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["attendance_groups.id"],
            name=op.f("fk_attendance_group_teams_group_id_attendance_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_attendance_group_teams_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_attendance_group_teams_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "team_id", name=op.f("pk_attendance_group_teams")),
    )
    with op.batch_alter_table("attendance_group_teams", schema=None) as batch_op:
        batch_op.create_index("ix_attendance_group_teams_group", ["group_id"], unique=False)

    op.create_table(
        "attendance_group_users",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["attendance_groups.id"],
            name=op.f("fk_attendance_group_users_group_id_attendance_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_attendance_group_users_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_attendance_group_users_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "user_id", name=op.f("pk_attendance_group_users")),
    )
    with op.batch_alter_table("attendance_group_users", schema=None) as batch_op:
        batch_op.create_index("ix_attendance_group_users_group", ["group_id"], unique=False)

    op.create_table(
        "attendance_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("leave_type", sa.String(length=32), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("start_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=48), nullable=True),
        sa.Column("decided_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("cancelled_by", sa.String(length=48), nullable=True),
        sa.Column("cancelled_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_attendance_requests_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_attendance_requests_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_requests")),
    )
    with op.batch_alter_table("attendance_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_requests_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_attendance_requests_org_status", ["org_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_attendance_requests_org_user_start", ["org_id", "user_id", "start_at"], unique=False
        )

    op.create_table(
        "roster_entries",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift_id", sa.String(length=32), nullable=True),
        sa.Column("updated_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=48), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_roster_entries_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"],
            ["shifts.id"],
            name=op.f("fk_roster_entries_shift_id_shifts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_roster_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "user_id", "day", name=op.f("pk_roster_entries")),
    )
    with op.batch_alter_table("roster_entries", schema=None) as batch_op:
        batch_op.create_index("ix_roster_entries_org_day", ["org_id", "day"], unique=False)
        batch_op.create_index("ix_roster_entries_shift_day", ["shift_id", "day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("roster_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_roster_entries_shift_day")
        batch_op.drop_index("ix_roster_entries_org_day")

    op.drop_table("roster_entries")
    with op.batch_alter_table("attendance_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_requests_org_user_start")
        batch_op.drop_index("ix_attendance_requests_org_status")
        batch_op.drop_index(batch_op.f("ix_attendance_requests_org_id"))

    op.drop_table("attendance_requests")
    with op.batch_alter_table("attendance_group_users", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_group_users_group")

    op.drop_table("attendance_group_users")
    with op.batch_alter_table("attendance_group_teams", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_group_teams_group")

    op.drop_table("attendance_group_teams")
    with op.batch_alter_table("attendance_group_places", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_group_places_place")

    op.drop_table("attendance_group_places")
    with op.batch_alter_table("attendance_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_groups_shift_id"))
        batch_op.drop_index(batch_op.f("ix_attendance_groups_org_id"))

    op.drop_table("attendance_groups")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shifts_org_id"))

    op.drop_table("shifts")
    op.drop_table("calendar_days")
    with op.batch_alter_table("attendance_dirty", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_dirty_marked")

    op.drop_table("attendance_dirty")
