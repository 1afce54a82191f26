from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped, Timestamps


class User(OrgScoped, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        # Unique within an organization only: a global rule made "email in use" tell one tenant
        # who is registered in another. Sign-in finds the accounts by email (auth/service.py).
        UniqueConstraint("org_id", "email"),
        Index("ix_users_email", "email"),
        Index("uq_users_org_employee_no", "org_id", "employee_no", unique=True),
        # A sign-in name too (normalised, users/phones.py); several people may have none.
        Index("uq_users_org_phone", "org_id", "phone", unique=True),
        # People by name (reports' pages, lists): walked in order, a page stops after its rows.
        Index("ix_users_org_name", "org_id", "name", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("teams.id", ondelete="RESTRICT"), index=True
    )
    phone: Mapped[str | None] = mapped_column(String(40))
    employee_no: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change, deactivation or a new role: every token of the old version
    # stops working (access and refresh).
    token_version: Mapped[int] = mapped_column(default=1)
    # Bumped on any other change to what this person may see or do (team, managed teams, the
    # team tree under them): read with the person on every request, it keys the cached caller
    # (auth/principal.py), so a change holds from its commit on, in every process.
    access_version: Mapped[int] = mapped_column(default=1, server_default="1")
    last_login_at: Mapped[datetime | None] = mapped_column()


class ManagedTeam(Base):
    """A manager's teams (each includes its sub-teams)."""

    __tablename__ = "managed_teams"

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    org_id: Mapped[str] = mapped_column(String(32), ForeignKey("orgs.id", ondelete="CASCADE"))
