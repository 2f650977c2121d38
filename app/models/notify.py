"""Notification delivery: users' channel choices, per-channel delivery records, daily reminder marks."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class NotifyPreference(db.Model):
    """The channels a user chose in their profile (email / wecom / log); no row means every channel."""

    __tablename__ = "notify_preferences"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    channels: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<NotifyPreference {self.username} {self.channels}>"


class NotificationDelivery(db.Model):
    """One send of a notification on one channel to one target (a username, or `*` for a group channel).

    A retry resends only the targets not yet SENT, so a half-delivered notice never sends twice.
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (UniqueConstraint("notification_id", "channel", "target", name="uq_notification_deliveries_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))            # SENT / FAILED / SKIPPED
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<NotificationDelivery {self.notification_id} {self.channel}:{self.target} {self.status}>"


class StepReminder(db.Model):
    """A daily reminder queued for an open step on a local day: the primary key makes it once per step per day."""

    __tablename__ = "step_reminders"

    step_id: Mapped[int] = mapped_column(ForeignKey("ticket_steps.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)          # local YYYYMMDD
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"),
                                                        index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<StepReminder {self.step_id} {self.day}>"
