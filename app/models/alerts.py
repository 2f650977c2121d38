"""Alerts from monitoring systems: receivers, the queue of received payloads, alert groups and their alerts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

RECEIVER_KINDS = ("alertmanager", "grafana", "generic")


class AlertReceiver(db.Model):
    """A stable URL `/alerts/<kind>/<name>` and the secret a monitoring system sends to it (stored hashed)."""

    __tablename__ = "alert_receivers"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_alert_receivers_kind_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))                 # alertmanager | grafana | generic
    name: Mapped[str] = mapped_column(String(64))
    auth: Mapped[str] = mapped_column(String(8), default="bearer")   # bearer | basic
    username: Mapped[str] = mapped_column(String(64), default="")    # basic auth only
    secret_hash: Mapped[str] = mapped_column(String(64))             # sha256 hex of a generated secret
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<AlertReceiver {self.kind}/{self.name}>"


class AlertPayload(db.Model):
    """One notification as received, stored before any processing: the queue the processor claims from."""

    __tablename__ = "alert_payloads"
    __table_args__ = (Index("ix_alert_payloads_due", "status", "next_attempt_at"),
                      Index("ix_alert_payloads_receiver", "receiver_id", "received_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    receiver_id: Mapped[int] = mapped_column(ForeignKey("alert_receivers.id", ondelete="CASCADE"))
    body: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="PENDING")   # PENDING DONE FAILED
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<AlertPayload {self.id} {self.status}>"


class AlertGroup(db.Model):
    """One alert group of one rule (Alertmanager's groupKey) and the incident it currently feeds.

    The unique (rule_key, group_key) row is what concurrent processors lock, so a group never
    opens two incidents; a re-fire after the window points the same row at a new incident.
    """

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("rule_key", "group_key", name="uq_alert_groups_rule_group"),
                      Index("ix_alert_groups_rule_opened", "rule_key", "opened_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(String(255))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    storm_parent: Mapped[bool] = mapped_column(default=False)     # attached to the rule's storm incident
    status: Mapped[str] = mapped_column(String(16), default="firing")   # firing | resolved
    opened_at: Mapped[datetime | None]                            # when its current incident was opened
    resolved_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<AlertGroup {self.rule_key} {self.group_key[:40]} {self.status}>"


class AlertRuleState(db.Model):
    """Per rule: incidents opened in the current minute and the storm incident (locked to count new incidents)."""

    __tablename__ = "alert_rule_states"

    rule_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    window_count: Mapped[int] = mapped_column(default=0)
    storm_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    storm_started_at: Mapped[datetime | None]


class Alert(db.Model):
    """One alert (a fingerprint) attached to one incident: labels, times, state, a link back to the source."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("ticket_id", "fingerprint", name="uq_alerts_ticket_fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="firing")    # firing | resolved
    labels: Mapped[dict] = mapped_column(JSON, default=dict)
    annotations: Mapped[dict] = mapped_column(JSON, default=dict)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    source_url: Mapped[str] = mapped_column(Text, default="")
    received_count: Mapped[int] = mapped_column(default=1)
    first_received_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_received_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Alert {self.fingerprint} {self.status}>"
