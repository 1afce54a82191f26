"""anomalies policy corrections audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 03:13:30.855212
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import fieldpunch.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=48), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_audit_log_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_audit_log_subject", ["org_id", "subject_type", "subject_id"], unique=False
        )

    op.create_table(
        "policy_overrides",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("scope_id", sa.String(length=32), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=48), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.id"],
            name=op.f("fk_policy_overrides_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_overrides")),
        sa.UniqueConstraint(
            "org_id", "scope", "scope_id", name=op.f("uq_policy_overrides_org_id_scope_scope_id")
        ),
    )
    with op.batch_alter_table("policy_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_overrides_org_id"), ["org_id"], unique=False)

    op.create_table(
        "corrections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("place_id", sa.String(length=32), nullable=True),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("photo_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=48), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("punch_id", sa.String(length=32), nullable=True),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_corrections_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_corrections_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_corrections_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            "ix_corrections_org_user_created", ["org_id", "user_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_corrections_status"), ["status"], unique=False)

    op.create_table(
        "anomalies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("punch_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("punch_time", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", fieldpunch.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=48), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("org_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.id"], name=op.f("fk_anomalies_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["punch_id"],
            ["punches.id"],
            name=op.f("fk_anomalies_punch_id_punches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomalies")),
        sa.UniqueConstraint("punch_id", "rule", name=op.f("uq_anomalies_punch_id_rule")),
    )
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anomalies_org_id"), ["org_id"], unique=False)
        batch_op.create_index("ix_anomalies_org_status", ["org_id", "status", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_anomalies_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("punches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw_lat", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("raw_lon", sa.Double(), nullable=True))
        batch_op.add_column(
            sa.Column("mock", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "facts",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default=sa.text("'{}'"),
                nullable=False,
            )
        )
    # Punches stored before this revision: their fused position is the best raw value we have.
    op.execute("UPDATE punches SET raw_lat = lat, raw_lon = lon")
    with op.batch_alter_table("punches", schema=None) as batch_op:
        batch_op.alter_column("raw_lat", existing_type=sa.Double(), nullable=False)
        batch_op.alter_column("raw_lon", existing_type=sa.Double(), nullable=False)
        batch_op.create_index(
            "ix_punches_org_device_time", ["org_id", "device_id", "trusted_time"], unique=False
        )
        batch_op.create_index("ix_punches_org_raw", ["org_id", "raw_lat", "raw_lon"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("punches", schema=None) as batch_op:
        batch_op.drop_index("ix_punches_org_raw")
        batch_op.drop_index("ix_punches_org_device_time")
        batch_op.drop_column("facts")
        batch_op.drop_column("mock")
        batch_op.drop_column("raw_lon")
        batch_op.drop_column("raw_lat")

    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anomalies_user_id"))
        batch_op.drop_index("ix_anomalies_org_status")
        batch_op.drop_index(batch_op.f("ix_anomalies_org_id"))

    op.drop_table("anomalies")
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corrections_status"))
        batch_op.drop_index("ix_corrections_org_user_created")
        batch_op.drop_index(batch_op.f("ix_corrections_org_id"))

    op.drop_table("corrections")
    with op.batch_alter_table("policy_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_overrides_org_id"))

    op.drop_table("policy_overrides")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_subject")
        batch_op.drop_index(batch_op.f("ix_audit_log_org_id"))

    op.drop_table("audit_log")
