"""visits and tasks: visits (plans and records), the org's visit outcomes and form fields,
visit_punches (visit punches applied, once each), tasks and task comments, outbox_cursors

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 13:54:02.258018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import fieldpunch.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_outbox_cursors")),
    )
    op.create_table(
        "visit_form_fields",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_visit_form_fields_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "key", name=op.f("pk_visit_form_fields")),
    )
    op.create_table(
        "visit_outcomes",
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_visit_outcomes_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "key", name=op.f("pk_visit_outcomes")),
    )
    op.create_table(
        "visit_punches",
        sa.Column("punch_id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("visit_id", sa.String(length=32), nullable=True),
        sa.Column("effect", sa.String(length=16), nullable=False),
        sa.Column("applied_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_visit_punches_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("punch_id", name=op.f("pk_visit_punches")),
    )
    with op.batch_alter_table("visit_punches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_visit_punches_pairing", ["org_id", "user_id", "customer_id", "at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_visit_punches_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "visits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("planned", sa.Boolean(), nullable=False),
        sa.Column("planned_start", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("planned_end", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expected_min", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("due_by", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("cancelled_by", sa.String(length=48), nullable=True),
        sa.Column("cancelled_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("in_punch_id", sa.String(length=32), nullable=True),
        sa.Column("out_punch_id", sa.String(length=32), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("next_follow_up", sa.Date(), nullable=True),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "photo_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=48), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_visits_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_visits_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_visits_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_visits_org_customer_day", ["org_id", "customer_id", "day"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_visits_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_visits_org_user_day", ["org_id", "user_id", "day"], unique=False)
        batch_op.create_index("ix_visits_state_due", ["state", "due_by"], unique=False)

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("visit_id", sa.String(length=32), nullable=True),
        sa.Column("assignee_id", sa.String(length=32), nullable=True),
        sa.Column("due", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=48), nullable=False),
        sa.Column("completed_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
            name=op.f("fk_tasks_assignee_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tasks_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_tasks_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_tasks_visit_id_visits"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tasks_org_assignee_status_due",
            ["org_id", "assignee_id", "status", "due"],
            unique=False,
        )
        batch_op.create_index("ix_tasks_org_customer", ["org_id", "customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tasks_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_tasks_org_visit", ["org_id", "visit_id"], unique=False)

    op.create_table(
        "task_comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=48), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_task_comments_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_comments_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_comments")),
    )
    with op.batch_alter_table("task_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_comments_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_task_comments_task", ["task_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_task_comments_task")
        batch_op.drop_index(batch_op.f("ix_task_comments_org_id"))

    op.drop_table("task_comments")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_org_visit")
        batch_op.drop_index(batch_op.f("ix_tasks_org_id"))
        batch_op.drop_index("ix_tasks_org_customer")
        batch_op.drop_index("ix_tasks_org_assignee_status_due")

    op.drop_table("tasks")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_state_due")
        batch_op.drop_index("ix_visits_org_user_day")
        batch_op.drop_index(batch_op.f("ix_visits_org_id"))
        batch_op.drop_index("ix_visits_org_customer_day")

    op.drop_table("visits")
    with op.batch_alter_table("visit_punches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_punches_visit_id"))
        batch_op.drop_index("ix_visit_punches_pairing")

    op.drop_table("visit_punches")
    op.drop_table("visit_outcomes")
    op.drop_table("visit_form_fields")
    op.drop_table("outbox_cursors")
