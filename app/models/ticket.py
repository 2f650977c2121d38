"""Tickets and everything that hangs off one: steps, processors, logs, links, files, notices."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.engine.state import TICKET_OVER
from app.extensions import db
from app.timeutil import utcnow

SN_PREFIX = {"request": "REQ", "change": "CRQ", "event": "INC", "question": "PBI"}


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_creator_created", "creator", "created_at"),
        Index("ix_tickets_status_created", "status", "created_at"),
        Index("ix_tickets_type_created", "service_type", "created_at"),
        Index("ix_tickets_service_created", "service_id", "created_at"),
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_creator_updated", "creator", "updated_at"),     # "others acted on my tickets"
        Index("ix_tickets_sla_due", "sla_due_at"),          # time-to-breach sort, the workbench's "about to breach"
        Index("ix_tickets_sla_check", "sla_check_at"),      # the scheduler's next warning or breach to record
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sn: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    catalog_id: Mapped[int | None] = mapped_column(ForeignKey("catalogs.id"))
    service_type: Mapped[str] = mapped_column(String(16))
    flow_version_id: Mapped[int] = mapped_column(ForeignKey("flow_versions.id"), index=True)
    creator: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="RUNNING")
    pre_status: Mapped[str | None] = mapped_column(String(16))
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    others_acted: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(8), default="WEB")
    bk_biz_id: Mapped[int] = mapped_column(default=-1)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)      # callback_url etc.
    is_commented: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    end_at: Mapped[datetime | None]
    approve_result: Mapped[bool | None]      # the last approval node's outcome, then the end's (API, callbacks)
    last_approver: Mapped[str | None] = mapped_column(String(255))   # who decided the last approval node, "a,b"
    lock_version: Mapped[int] = mapped_column(default=0)
    # service levels (app/services/sla): the priority, the agreement's clocks and their events, derived times
    priority: Mapped[str | None] = mapped_column(String(8))
    sla: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))     # None is SQL NULL (tickets without an agreement)
    sla_due_at: Mapped[datetime | None]           # when the first running clock reaches its target
    sla_check_at: Mapped[datetime | None]         # the next threshold not yet recorded (warning or breach)

    steps: Mapped[list["TicketStep"]] = relationship(back_populates="ticket", order_by="TicketStep.id",
                                                     cascade="all, delete-orphan")

    @property
    def is_over(self) -> bool:
        return self.status in TICKET_OVER

    def __repr__(self) -> str:
        return f"<Ticket {self.sn} {self.status}>"


class TicketStep(db.Model):
    """One visit of the ticket to a node. Open while its status is WAIT/RUNNING/RECEIVING/DISTRIBUTING/FAILED/SUSPEND."""

    __tablename__ = "ticket_steps"
    __table_args__ = (Index("ix_ticket_steps_ticket_open", "ticket_id", "is_open"),
                      Index("ix_ticket_steps_closed_by", "closed_by"))      # the workbench's "handled by me"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    node_key: Mapped[str] = mapped_column(String(64))
    state_id: Mapped[int]                                  # the node's number in its flow version (API state_id)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="manual")
    status: Mapped[str] = mapped_column(String(16))
    pre_status: Mapped[str | None] = mapped_column(String(16))
    is_open: Mapped[bool] = mapped_column(default=True)
    processors_type: Mapped[str] = mapped_column(String(16), default="")
    processors: Mapped[str] = mapped_column(Text, default="")      # comma string, as BlueKing reports it
    users: Mapped[list] = mapped_column(JSON, default=list)       # resolved usernames while open
    data: Mapped[dict] = mapped_column(JSON, default=dict)        # values this step submitted
    # approval steps: {"approvers": [...] (countersign), "votes": [{username, result, remark, values, at}]}
    approval: Mapped[dict | None] = mapped_column(JSON)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))

    ticket: Mapped[Ticket] = relationship(back_populates="steps")

    def __repr__(self) -> str:
        return f"<TicketStep {self.node_key} {self.status}>"


class StepProcessor(db.Model):
    """Who may act on an open step right now: the index behind to-do and to-claim lists."""

    __tablename__ = "step_processors"
    __table_args__ = (
        # one status (to-claim, counts): an exact range, newest first; several statuses (to-do): the second
        Index("ix_step_processors_user", "username", "step_status", "ticket_created_at", "ticket_id"),
        Index("ix_step_processors_user_created", "username", "ticket_created_at", "step_status", "ticket_id"),
    )

    step_id: Mapped[int] = mapped_column(ForeignKey("ticket_steps.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    step_status: Mapped[str] = mapped_column(String(16))
    # the ticket's creation time, copied (it never changes): "waiting for me, newest first" is one index range
    ticket_created_at: Mapped[datetime] = mapped_column()

    def __repr__(self) -> str:
        return f"<StepProcessor {self.step_id}:{self.username}>"


class TicketParticipant(db.Model):
    """Everyone a ticket ever involved: its creator, every processor it waited for, every operator.

    Written with the ticket's steps and logs (one upsert per operation, never deleted
    while the ticket lives). "Tickets involving me, newest first" is one index range
    on (username, ticket_created_at); "may I see this ticket" is one primary-key probe.
    """

    __tablename__ = "ticket_participants"
    __table_args__ = (Index("ix_ticket_participants_user_created", "username", "ticket_created_at", "ticket_id"),)

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    ticket_created_at: Mapped[datetime] = mapped_column()
    is_creator: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<TicketParticipant {self.ticket_id}:{self.username}>"


class UserDayCounter(db.Model):
    """Steps a user handled per local day, and the time they were open: the workbench's running totals.

    Kept by the services with an upsert when a step closes, so "handled, all time" and
    "handled in the last 30 days" read a few dozen rows instead of aggregating every
    step a busy processor ever closed.
    """

    __tablename__ = "user_day_counters"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)          # local YYYYMMDD
    handled_steps: Mapped[int] = mapped_column(default=0)
    handling_seconds: Mapped[float] = mapped_column(default=0.0)


class TicketLog(db.Model):
    __tablename__ = "ticket_logs"
    __table_args__ = (
        Index("ix_ticket_logs_ticket", "ticket_id", "id"),
        Index("ix_ticket_logs_operator", "operator", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    node_key: Mapped[str | None] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(8), default="WEB")    # WEB / MOBILE / API / SYS
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<TicketLog {self.ticket_id} {self.action}>"


class SnCounter(db.Model):
    """Daily counter per ticket-number prefix, incremented atomically with an upsert."""

    __tablename__ = "sn_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class TicketLink(db.Model):
    """Related tickets (关联单), stored once per pair and shown both ways."""

    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("from_ticket_id", "to_ticket_id", name="uq_ticket_links_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    to_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketFollower(db.Model):
    """关注: who follows a ticket (add_follower; get_tickets_by_user's my_attention, newest first)."""

    __tablename__ = "ticket_followers"
    __table_args__ = (Index("ix_ticket_followers_user_created", "username", "ticket_created_at", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_created_at: Mapped[datetime] = mapped_column()      # copied: "followed by me, newest first" is one range
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<TicketFollower {self.ticket_id}:{self.username}>"


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    field_key: Mapped[str] = mapped_column(String(64), default="")
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(128), default="application/octet-stream")
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(db.Model):
    """Outbox of notices to send (to-do, supervise, ...); delivered by the scheduler's jobs."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipients: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
