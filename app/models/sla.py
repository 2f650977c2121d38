"""Service level notices: each warning or breach of a ticket's clock, recorded once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class SlaNotice(db.Model):
    """A clock crossed its warning threshold or its target; the unique key makes the record happen once.

    Several schedulers may see the same crossing: the first insert wins (`ON CONFLICT DO NOTHING`),
    and only the winner queues the notice and runs the breach action.
    """

    __tablename__ = "sla_notices"
    __table_args__ = (UniqueConstraint("ticket_id", "clock", "kind", name="uq_sla_notices_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    clock: Mapped[str] = mapped_column(String(16))         # response, resolution
    kind: Mapped[str] = mapped_column(String(8))           # warning, breach
    crossed_at: Mapped[datetime]                           # when the threshold was reached (business time)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<SlaNotice {self.ticket_id}:{self.clock}:{self.kind}>"
