"""Flow templates (editable YAML) and deployed flow versions (immutable JSON snapshots)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

FLOW_STATUS_NAMES = {"DRAFT": "草稿", "ENABLED": "启用", "CLOSED": "关闭"}


class Flow(db.Model):
    __tablename__ = "flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    desc: Mapped[str] = mapped_column(Text, default="")
    service_type: Mapped[str] = mapped_column(String(16))
    biz_related: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="DRAFT")
    source: Mapped[str] = mapped_column(Text)                  # the YAML text
    source_path: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")

    def __repr__(self) -> str:
        return f"<Flow {self.key}>"


class FlowVersion(db.Model):
    """A deployed, immutable version. Tickets and services point here; deleting the template keeps it."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_key", "version_number", name="uq_flow_versions_flow_key_version"),
                      {"sqlite_autoincrement": True})   # ids are never reused: compiled flows are cached by id

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int | None] = mapped_column(ForeignKey("flows.id", ondelete="SET NULL"), index=True)
    flow_key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    version_number: Mapped[int]
    service_type: Mapped[str] = mapped_column(String(16))
    definition: Mapped[dict] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="system")

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version_number}"

    def __repr__(self) -> str:
        return f"<FlowVersion {self.flow_key} v{self.version_number}>"
