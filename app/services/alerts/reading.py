"""What the ticket page and the back office read about alerts."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Alert, AlertPayload, AlertReceiver


def ticket_alerts(ticket_id: int, limit: int = 500) -> list[Alert]:
    """The alerts attached to a ticket, firing first, then by start time."""
    return list(db.session.execute(select(Alert).where(Alert.ticket_id == ticket_id)
                                   .order_by(Alert.status, Alert.starts_at, Alert.id).limit(limit)).scalars())


def recent_payloads(status: str | None = None, limit: int = 100) -> list[tuple[AlertPayload, AlertReceiver]]:
    """Received payloads, newest first (the back office's queue: rejected and failed ones with their reason)."""
    stmt = select(AlertPayload, AlertReceiver).join(AlertReceiver, AlertReceiver.id == AlertPayload.receiver_id)
    if status:
        stmt = stmt.where(AlertPayload.status == status)
    return [(p, r) for p, r in db.session.execute(stmt.order_by(AlertPayload.id.desc()).limit(limit)).all()]
