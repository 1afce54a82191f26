"""users.phone: stored normalised and unique per organization (a sign-in name beside the email)

Existing numbers are normalised as users/phones.py does (spaces, dashes and brackets dropped,
+86 / 0086 / 86 before a Chinese mobile dropped). Where two people of one organization then
share a number, the earliest account keeps it and the others' phone is cleared: a sign-in
name cannot name two people, and the index could not be built otherwise.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 14:20:00.000000
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of users/phones.py at this revision: a migration must not change with the app's code.
_SEPARATORS = re.compile(r"[\s\-().·]")
_CN = re.compile(r"^(?:\+86|0086|86)?(1[3-9]\d{9})$")


def _normalize(raw: str | None) -> str | None:
    compact = _SEPARATORS.sub("", (raw or "").strip())
    if not compact:
        return None
    if m := _CN.match(compact):
        return m.group(1)
    return "+" + compact[2:] if compact.startswith("00") else compact


def upgrade() -> None:
    bind = op.get_bind()
    users = sa.table(
        "users", sa.column("id", sa.String), sa.column("org_id", sa.String), sa.column("phone")
    )
    rows = bind.execute(
        sa.select(users.c.id, users.c.org_id, users.c.phone)
        .where(users.c.phone.is_not(None))
        .order_by(users.c.id)
    ).all()
    taken: set[tuple[str, str]] = set()
    for user_id, org_id, phone in rows:
        stored = _normalize(phone)
        if stored is not None and (org_id, stored) in taken:
            stored = None
        if stored is not None:
            taken.add((org_id, stored))
        if stored != phone:
            bind.execute(users.update().where(users.c.id == user_id).values(phone=stored))
    with op.batch_alter_table("users") as batch:
        batch.create_index("uq_users_org_phone", ["org_id", "phone"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index("uq_users_org_phone")
