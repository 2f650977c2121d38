"""Service level notices: each warning or breach of a ticket's clock, recorded once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
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


class SlaOutcome(db.Model):
    """A decided clock (met or breached) with what the statistics group by: a rollup derived from `tickets.sla`.

    Written in the transaction that decides the clock (`app.services.sla.outcomes`), recomputed by
    `itsm sla rebuild-outcomes`; the attainment statistics read this table instead of every ticket.
    """

    __tablename__ = "sla_outcomes"
    __table_args__ = (Index("ix_sla_outcomes_created", "created_at"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    clock: Mapped[str] = mapped_column(String(16), primary_key=True)      # response, resolution
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    service_type: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime]                                          # the ticket's
    month: Mapped[str] = mapped_column(String(7))                         # local YYYY-MM of created_at
    met: Mapped[bool]

    def __repr__(self) -> str:
        return f"<SlaOutcome {self.ticket_id}:{self.clock}:{'met' if self.met else 'breached'}>"
