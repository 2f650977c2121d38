"""The HTTP API's own data: registered apps, call log, ticket comments, result callbacks."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class ApiApp(db.Model):
    """A client system (bk_app_code + secret). The secret is stored as a SHA-256 digest only."""

    __tablename__ = "api_apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    secret_digest: Mapped[str] = mapped_column(String(64))
    act_for_users: Mapped[bool] = mapped_column(default=False)   # may name any user with bk_username
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # where its tickets' meta.callback_url may point: hosts, one a line (`*.example.com` for subdomains);
    # empty = no callbacks. Private/loopback addresses only with callback_private (an admin's explicit choice).
    callback_hosts: Mapped[str] = mapped_column(Text, default="", server_default="")
    callback_private: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ApiApp {self.app_code}>"


class ApiRequestLog(db.Model):
    """One call to our HTTP API: who, which endpoint, the result code and the time it took (never secrets)."""

    __tablename__ = "api_request_logs"
    __table_args__ = (Index("ix_api_request_logs_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_code: Mapped[str] = mapped_column(String(64), default="", index=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    endpoint: Mapped[str] = mapped_column(String(64))
    code: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketComment(db.Model):
    """评价: one rating and comment per finished ticket."""

    __tablename__ = "ticket_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    operator: Mapped[str] = mapped_column(String(64))
    stars: Mapped[int]
    comments: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(8), default="API")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketCallback(db.Model):
    """A POST of a ticket's result to the creating system's callback_url, retried with backoff."""

    __tablename__ = "ticket_callbacks"
    __table_args__ = (Index("ix_ticket_callbacks_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="PENDING")   # PENDING / SUCCEEDED / FAILED
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    reported: Mapped[bool] = mapped_column(default=False)   # failure already read via ticket_approval_result
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
