"""Result callbacks: when a ticket created with meta.callback_url ends, POST its result there.

Rows are claimed in the database (an UPDATE ... RETURNING claim that works on
SQLite and PostgreSQL, with a lease so a crashed worker's claims come back),
so several scheduler processes never deliver one callback twice.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import and_, select, update

from app.extensions import db
from app.models import Ticket, TicketCallback
from app.timeutil import fmt, utcnow

from .api_auth import callback_token
from .workqueue import backoff_seconds, claim

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)


def ticket_url(ticket: Ticket) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/tickets/{ticket.id}"


def result_payload(ticket: Ticket) -> dict:
    """What the creating system receives (upstream's callback body)."""
    last_approver = ticket.updated_by
    return {"title": ticket.title, "current_status": ticket.status, "sn": ticket.sn,
            "ticket_url": ticket_url(ticket), "update_at": fmt(ticket.updated_at), "updated_by": ticket.updated_by,
            "approve_result": bool(ticket.approve_result), "token": callback_token(ticket.sn),
            "last_approver": last_approver}


def enqueue_callback(ticket: Ticket) -> None:
    """Called when a ticket ends: queue the POST if the creator asked for one."""
    url = (ticket.meta or {}).get("callback_url")
    if url:
        db.session.add(TicketCallback(ticket_id=ticket.id, url=url, payload=result_payload(ticket)))


def claim_due(worker: str, limit: int = 20) -> list[int]:
    """Claim up to `limit` due callbacks for this worker; returns their ids."""
    return claim(TicketCallback, worker, limit=limit, lease=LEASE)


def deliver(callback_id: int, worker: str) -> bool:
    """POST one claimed callback; on failure schedule the next attempt with exponential backoff."""
    cb = db.session.execute(select(TicketCallback).where(
        and_(TicketCallback.id == callback_id, TicketCallback.claimed_by == worker))).scalar_one_or_none()
    if cb is None:
        return False
    started = time.monotonic()
    try:
        response = requests.post(cb.url, json=cb.payload, timeout=current_app.config["CALLBACK_TIMEOUT"])
        ok = 200 <= response.status_code < 300
        error = "" if ok else f"HTTP {response.status_code}: {response.text[:200]}"
    except requests.RequestException as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
    log.info("callback %s for ticket %s -> %s in %.0f ms", cb.id, cb.payload.get("sn"), "ok" if ok else error,
             (time.monotonic() - started) * 1000)
    cb.attempts += 1
    cb.claimed_by, cb.claimed_at, cb.updated_at = None, None, utcnow()
    if ok:
        cb.status, cb.last_error = "SUCCEEDED", ""
    else:
        cb.last_error = error
        if cb.attempts >= current_app.config["CALLBACK_MAX_ATTEMPTS"]:
            cb.status = "FAILED"
        else:
            cb.next_attempt_at = utcnow() + timedelta(seconds=backoff_seconds(cb.attempts))
    db.session.commit()
    return ok


def deliver_due_callbacks(worker: str, limit: int = 20) -> int:
    """One scheduler tick: claim and deliver due callbacks; returns how many were attempted."""
    ids = claim_due(worker, limit)
    for callback_id in ids:
        deliver(callback_id, worker)
    return len(ids)


def failed_callback_sns() -> list[str]:
    """Tickets whose callback has failed at least once and not yet succeeded (until read by approval_result)."""
    rows = db.session.execute(
        select(Ticket.sn).join(TicketCallback, TicketCallback.ticket_id == Ticket.id)
        .where(TicketCallback.status != "SUCCEEDED", TicketCallback.attempts > 0, TicketCallback.reported.is_(False))
        .order_by(Ticket.sn).distinct()).scalars()
    return list(rows)


def mark_reported(ticket_ids: list[int]) -> None:
    if ticket_ids:
        db.session.execute(update(TicketCallback).where(TicketCallback.ticket_id.in_(ticket_ids),
                                                        TicketCallback.status != "SUCCEEDED")
                           .values(reported=True), execution_options={"synchronize_session": False})
