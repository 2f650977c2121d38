"""Outbound integrations (API 配置): API systems, their APIs, and the log of every call made."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow

API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class ApiSystem(db.Model):
    """A third-party system reached over HTTP; `auth_headers` are secrets (never shown back in full)."""

    __tablename__ = "api_systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    base_url: Mapped[str] = mapped_column(String(255))
    auth_headers: Mapped[dict] = mapped_column(JSON, default=dict)
    desc: Mapped[str] = mapped_column(Text, default="")
    is_enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")
    apis: Mapped[list["ApiDef"]] = relationship(back_populates="system", order_by="ApiDef.key")

    def __repr__(self) -> str:
        return f"<ApiSystem {self.key}>"


class ApiDef(db.Model):
    """One API of a system: method + path, a JSON request template and a response mapping."""

    __tablename__ = "api_defs"
    __table_args__ = (UniqueConstraint("system_id", "key", name="uq_api_defs_system_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("api_systems.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(8), default="GET")
    path: Mapped[str] = mapped_column(String(255))
    request_template: Mapped[str] = mapped_column(Text, default="")    # JSON text
    response_mapping: Mapped[str] = mapped_column(Text, default="")    # JSON text: {name: "dotted.path"}
    desc: Mapped[str] = mapped_column(Text, default="")
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # outbound calls never follow redirects unless the admin allows it for this API
    follow_redirects: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")
    system: Mapped[ApiSystem] = relationship(back_populates="apis")

    def __repr__(self) -> str:
        return f"<ApiDef {self.key}>"


class ApiCallLog(db.Model):
    """One outbound call: request, response, duration, status. Bodies are stored with secrets masked."""

    __tablename__ = "api_call_logs"
    __table_args__ = (
        Index("ix_api_call_logs_created", "created_at"),
        Index("ix_api_call_logs_system_created", "system_id", "created_at"),
        Index("ix_api_call_logs_ok_created", "ok", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int | None] = mapped_column(ForeignKey("api_systems.id", ondelete="SET NULL"))
    api_id: Mapped[int | None] = mapped_column(ForeignKey("api_defs.id", ondelete="SET NULL"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    method: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(String(1024))
    request_headers: Mapped[dict] = mapped_column(JSON, default=dict)
    request_body: Mapped[str] = mapped_column(Text, default="")
    status_code: Mapped[int | None]
    ok: Mapped[bool] = mapped_column(default=False)
    response_body: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(default=0)
    called_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    system: Mapped[ApiSystem | None] = relationship()
    api: Mapped[ApiDef | None] = relationship()

    def __repr__(self) -> str:
        return f"<ApiCallLog {self.method} {self.url} {self.status_code}>"
