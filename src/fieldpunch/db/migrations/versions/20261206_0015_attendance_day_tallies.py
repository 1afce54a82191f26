"""attendance day tallies: what a day counts for in a month's summary, as columns

`attended`, `late`, `serious_late`, `early_leave`, `absent`, `missing_punches` and `corrections`
(attendance/tallies.py), so the monthly and department summaries are summed in SQL instead of
reading every day's result JSON. Existing days are filled in here from their `statuses` and
`result`, a thousand at a time, by the same rules the recompute now applies.

And `ix_users_org_name` (org_id, name, id): a summary's page of people, by name, walks it and
stops after its rows instead of sorting the org's people for every page.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 03:00:00.000000
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FLAGS = ("attended", "late", "serious_late", "early_leave", "absent")
_COUNTS = ("missing_punches", "corrections")
_BATCH = 1000


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _tallies(statuses: list[str], worked_min: int, result: dict[str, Any]) -> dict[str, Any]:
    """As attendance/tallies.columns at this revision (a migration keeps its own copy: the
    app's code may change after it)."""
    edges = list(result.get("edges") or [])
    s = set(statuses)
    return {
        "attended": worked_min > 0 or any(e.get("punch") for e in edges),
        "late": bool(s & {"late", "serious_late"}),
        "serious_late": "serious_late" in s,
        "early_leave": "early_leave" in s,
        "absent": "absent" in s,
        "missing_punches": 0
        if "absent" in s
        else sum(1 for e in edges if e.get("state") == "missing"),
        "corrections": sum(
            1 for e in edges if e.get("punch") and (e["punch"] or {}).get("method") == "correction"
        ),
    }


def upgrade() -> None:
    with op.batch_alter_table("attendance_days") as batch:
        for name in _FLAGS:
            batch.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
        for name in _COUNTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_users_org_name", "users", ["org_id", "name", "id"], unique=False)
    conn = op.get_bind()
    days = sa.table(
        "attendance_days",
        sa.column("org_id"),
        sa.column("user_id"),
        sa.column("day"),
        sa.column("statuses"),
        sa.column("worked_min"),
        sa.column("result"),
        *(sa.column(n) for n in (*_FLAGS, *_COUNTS)),
    )
    key = (days.c.org_id, days.c.user_id, days.c.day)
    update = (
        days.update()
        .where(
            days.c.org_id == sa.bindparam("k_org"),
            days.c.user_id == sa.bindparam("k_user"),
            days.c.day == sa.bindparam("k_day"),
        )
        .values({n: sa.bindparam(n) for n in (*_FLAGS, *_COUNTS)})
    )
    after: tuple[Any, ...] | None = None
    while True:
        stmt = sa.select(*key, days.c.statuses, days.c.worked_min, days.c.result)
        if after is not None:
            stmt = stmt.where(sa.tuple_(*key) > sa.tuple_(*after))
        rows = conn.execute(stmt.order_by(*key).limit(_BATCH)).all()
        if not rows:
            break
        conn.execute(
            update,
            [
                {
                    "k_org": r[0],
                    "k_user": r[1],
                    "k_day": r[2],
                    **_tallies(_json(r[3]) or [], r[4] or 0, _json(r[5]) or {}),
                }
                for r in rows
            ],
        )
        after = tuple(rows[-1][:3])


def downgrade() -> None:
    op.drop_index("ix_users_org_name", table_name="users")
    with op.batch_alter_table("attendance_days") as batch:
        for name in (*_COUNTS, *reversed(_FLAGS)):
            batch.drop_column(name)
