"""Claiming work items in the database, so several scheduler processes never do one item twice.

A work table has `status`, `next_attempt_at`, `claimed_by`, `claimed_at`. `claim`
marks up to `limit` due rows as this worker's in one statement (the job's unit of work commits):
PostgreSQL picks them with `SELECT ... FOR UPDATE SKIP LOCKED` (two workers never
block on or take the same rows); SQLite, which has no row locks, relies on the
`UPDATE ... WHERE claimed_by IS NULL` guard under its single writer. A claim older
than the lease (a crashed worker) is taken over by the next worker.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select, update

from app.extensions import db
from app.timeutil import utcnow

DEFAULT_LEASE = timedelta(minutes=5)


def claim(model, worker: str, *, limit: int = 20, lease: timedelta = DEFAULT_LEASE,
          due_status: str = "PENDING") -> list[int]:
    """Claim due rows of `model` for `worker`; returns their ids (the caller's unit of work commits the claim)."""
    now = utcnow()
    free = or_(model.claimed_by.is_(None), model.claimed_at < now - lease)
    due = (select(model.id).where(model.status == due_status, model.next_attempt_at <= now, free)
           .order_by(model.next_attempt_at, model.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
        ids = list(db.session.execute(due).scalars())
        if ids:
            db.session.execute(update(model).where(model.id.in_(ids)).values(claimed_by=worker, claimed_at=now),
                               execution_options={"synchronize_session": False})
    else:
        stmt = (update(model).where(model.id.in_(due.scalar_subquery()), free)
                .values(claimed_by=worker, claimed_at=now).returning(model.id))
        ids = list(db.session.execute(stmt, execution_options={"synchronize_session": False}).scalars())
    return ids


def backoff_seconds(attempts: int, *, base: int = 30, cap: int = 3600) -> int:
    """Exponential backoff: base, 2*base, 4*base ... capped."""
    return min(cap, base * 2 ** max(0, attempts - 1))
