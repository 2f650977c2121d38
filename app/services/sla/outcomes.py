"""Decided clocks as a rollup (`sla_outcomes`): what the attainment statistics read instead of every ticket.

A clock is decided when it is met (stopped within its target) or breached (past its target). The
ticket's `sla` JSON marks each decided clock (`clocks.<name>.decided`, set by `derived_times`); after
every flush, the tickets whose mark or priority changed get their rows written in the same
transaction (`INSERT ... ON CONFLICT DO UPDATE`, so a repeat is harmless). A ticket operation that
decides nothing costs no statement. `rebuild_outcomes` recomputes the whole table from the tickets.
"""
from __future__ import annotations

from datetime import datetime
from itertools import chain

from sqlalchemy import delete, event, inspect, select, tuple_

from app.extensions import db
from app.infra.database import dialect_insert
from app.models import SlaOutcome, Ticket
from app.services.sla.clocks import DECIDED, readings
from app.timeutil import local, utcnow


def decided_marks(sla: dict | None) -> dict[str, str]:
    """{clock: "met" | "breached"} as marked in a ticket's `sla` (empty: no agreement or nothing decided)."""
    if not sla:
        return {}
    return {name: clock["decided"] for name, clock in (sla.get("clocks") or {}).items() if clock.get("decided")}


def outcome_row(ticket: Ticket, clock: str, state: str) -> dict:
    """The rollup row of one decided clock of `ticket`."""
    return {"ticket_id": ticket.id, "clock": clock, "service_id": ticket.service_id,
            "service_type": ticket.service_type, "priority": ticket.priority, "created_at": ticket.created_at,
            "month": local(ticket.created_at).strftime("%Y-%m"), "met": state == "met"}


def upsert_statement(dialect: str, rows: list[dict]):
    stmt = dialect_insert(SlaOutcome.__table__, dialect).values(rows)
    return stmt.on_conflict_do_update(index_elements=["ticket_id", "clock"],
                                      set_={"priority": stmt.excluded.priority, "met": stmt.excluded.met})


def _changes(session) -> tuple[list[dict], list[tuple[int, str]]]:
    """Rows to write and (ticket, clock) pairs to drop, for the tickets of this flush."""
    rows, gone = [], []
    for obj in chain(session.new, session.dirty):
        if not isinstance(obj, Ticket):
            continue
        state = inspect(obj)
        sla_history, priority_history = state.attrs.sla.history, state.attrs.priority.history
        if obj in session.new:
            old, repriced = {}, False
        elif sla_history.has_changes() or priority_history.has_changes():
            old = decided_marks(sla_history.deleted[0]) if sla_history.deleted else (
                {} if sla_history.has_changes() else decided_marks(obj.sla))
            repriced = priority_history.has_changes()
        else:
            continue
        new = decided_marks(obj.sla)
        rows += [outcome_row(obj, name, mark) for name, mark in new.items() if repriced or old.get(name) != mark]
        gone += [(obj.id, name) for name in old if name not in new]
    return rows, gone


def _write_after_flush(session, _context) -> None:
    rows, gone = _changes(session)
    if not rows and not gone:
        return
    conn = session.connection()
    if rows:
        conn.execute(upsert_statement(conn.dialect.name, rows))
    if gone:
        conn.execute(delete(SlaOutcome).where(tuple_(SlaOutcome.ticket_id, SlaOutcome.clock).in_(gone)))


def install_outcome_rollup() -> None:
    """Keep `sla_outcomes` in step with the tickets in every unit of work (called once by the app factory)."""
    if not event.contains(db.session, "after_flush", _write_after_flush):
        event.listen(db.session, "after_flush", _write_after_flush)


# --- the rebuild -------------------------------------------------------------------------------

def rebuild_outcomes(now: datetime | None = None, batch: int = 1000) -> int:
    """`itsm sla rebuild-outcomes`: the table recomputed from every ticket's clocks at `now` (rows written)."""
    now = now or utcnow()
    db.session.execute(delete(SlaOutcome))
    dialect = db.engine.dialect.name
    count, last = 0, 0
    cols = (Ticket.id, Ticket.sla, Ticket.service_id, Ticket.service_type, Ticket.priority, Ticket.created_at)
    while True:
        chunk = db.session.execute(select(*cols).where(Ticket.sla.is_not(None), Ticket.id > last)
                                   .order_by(Ticket.id).limit(batch)).all()
        if not chunk:
            return count
        rows = [outcome_row(t, name, r.state) for t in chunk if t.sla
                for name, r in readings(t.sla, now).items() if r.state in DECIDED]
        if rows:
            db.session.execute(upsert_statement(dialect, rows))
        count, last = count + len(rows), chunk[-1].id
