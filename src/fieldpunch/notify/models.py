from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped
from fieldpunch.db.types import JSONType


class Notification(OrgScoped, Base):
    """One message in one person's in-app inbox; the record every other channel points back to."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The same event never reaches a person's inbox twice, however often its job runs.
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_id_id", "user_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column()
    read_at: Mapped[datetime | None] = mapped_column()


class NotificationPreference(OrgScoped, Base):
    """A person's channels per kind and quiet hours; no row means the defaults."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    channels: Mapped[dict[str, list[str]]] = mapped_column(JSONType)
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # HH:MM, org time zone
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[datetime] = mapped_column()


class PushSubscription(OrgScoped, Base):
    """A browser's Web Push subscription (`PushSubscription.toJSON()`), owned by one person."""

    __tablename__ = "push_subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(Text)
    # Endpoints can be long: the unique index is on their SHA-256.
    endpoint_hash: Mapped[str] = mapped_column(String(64), unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(40))
    user_agent: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()


class RobotTarget(OrgScoped, Base):
    """A chat-tool robot (WeCom, DingTalk, Feishu, Slack) that gets some kinds of notifications."""

    __tablename__ = "robot_targets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(16))
    # The webhook URL holds the robot's token and `secret` signs: neither is ever answered back.
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(String(200))
    kinds: Mapped[list[str]] = mapped_column(JSONType)
    # Only about people in this team and its sub-teams (None: the whole org).
    team_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("teams.id", ondelete="CASCADE")
    )
    enabled: Mapped[bool] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    last_sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
