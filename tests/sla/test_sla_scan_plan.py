"""The scheduler's SLA scan reads an index, not the tickets table, however many tickets run (PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from app.extensions import db
from app.infra.uow import commit
from app.models import Service, Ticket
from app.services import sla
from app.services.people.users import find_user
from app.services.tickets import create_ticket
from app.timeutil import utcnow

COPIES = 30_000


def _many_running_tickets(now) -> None:
    """COPIES running tickets cloned from one real ticket, their next SLA threshold spread over the next days."""
    service = db.session.execute(select(Service).where(Service.key == "incident_handle")).scalar_one()
    first = create_ticket(service_id=service.id, creator=find_user("alice"), source="WEB", fields={
        "title": "订单服务 502", "event_type": "fault", "event_source": "monitor", "impact": "high",
        "urgency": "high", "occurred_at": "2030-01-05 09:30", "description": "下单接口持续返回 502"})
    commit()
    columns = [c.name for c in Ticket.__table__.columns if c.name not in ("id", "sn", "sla_check_at")]
    quoted = ", ".join(f'"{c}"' for c in columns)
    db.session.execute(text(
        f'INSERT INTO tickets (sn, sla_check_at, {quoted}) '
        f"SELECT 'SLA' || g, CAST(:now AS timestamp) + g * interval '1 minute', {quoted} "
        f"FROM tickets, generate_series(1, {COPIES}) AS g WHERE tickets.id = :id"), {"now": now, "id": first.id})
    db.session.execute(text("UPDATE tickets SET sla_check_at = NULL WHERE id = :id"), {"id": first.id})
    commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE tickets"))


def test_the_sla_scan_reads_the_check_index_not_the_tickets_table(demo):
    with demo.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the plan is PostgreSQL's")
        now = utcnow()
        _many_running_tickets(now)
        try:
            _scan_reads_the_index(now)
        finally:
            _drop_the_copies()


def _drop_the_copies() -> None:
    """Empty the tickets (and what references them) in one statement: the suite's cleanup deletes row by row, and
    30,000 rows each checked against twenty referencing tables took minutes on PostgreSQL."""
    db.session.remove()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("TRUNCATE tickets CASCADE"))


def _scan_reads_the_index(now) -> None:
    """The due-ticket query of one scan, captured, then EXPLAINed."""
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "sla_check_at <=" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        due = sla.due_tickets(now + timedelta(minutes=90))
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert len(due) == 90            # one threshold a minute: the first 90 copies, oldest first
    assert due == sorted(due)
    [(statement, params)] = seen
    plan = "\n".join(r[0] for r in db.session.connection().exec_driver_sql("EXPLAIN " + statement, params))
    db.session.rollback()
    assert "ix_tickets_sla_check" in plan, plan
    assert "Seq Scan on tickets" not in plan, plan
