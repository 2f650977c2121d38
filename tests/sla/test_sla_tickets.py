"""Service levels end to end, with frozen time: clocks through suspend, resume and the Spring Festival,
warnings and breaches recorded once (also with two schedulers at once), escalation, priority changes."""
from __future__ import annotations

import threading

import pytest
import time_machine
from sqlalchemy import func, select

from app.errors import OperationRefused, ValidationFailed
from app.extensions import db
from app.infra.uow import commit
from app.models import Notification, SlaNotice, Ticket, TicketLog
from app.services import sla
from app.services.people.users import find_user
from app.services.tickets import get_ticket, operate_step, operate_ticket
from sla_kit import HOUR, check, create, utc


def _do(app, at, operation):
    with time_machine.travel(utc(at), tick=False), app.app_context():
        operation()
        commit()


def _clocks(app, ticket_id, at):
    with app.app_context():
        return {c.clock: c for c in sla.ticket_clocks(get_ticket(ticket_id), utc(at))}


def _notices(app):
    with app.app_context():
        return sorted(db.session.execute(select(Notification.kind, Notification.recipients)
                                         .where(Notification.kind.like("sla_%"))).all())


def test_a_ticket_suspended_over_the_spring_festival_meets_its_target_and_one_left_alone_breaches(app, sla_service):
    kept = create(app, sla_service, "2026-02-13 16:00")
    alone = create(app, sla_service, "2026-02-13 16:00")
    _do(app, "2026-02-13 16:30", lambda: operate_ticket(kept, find_user("ops1"), "SUSPEND", message="等备件"))
    _do(app, "2026-02-24 09:00", lambda: operate_ticket(kept, find_user("ops1"), "UNSUSPEND"))

    clocks = _clocks(app, kept, "2026-02-24 10:00")
    assert (clocks["response"].state, clocks["response"].elapsed_seconds) == ("met", 0.5 * HOUR)   # suspending is acting
    resolution = clocks["resolution"]
    assert (resolution.state, resolution.elapsed_seconds) == ("running", 1.5 * HOUR)
    assert [(p["start"], p["end"], p["reason_name"]) for p in resolution.pauses] == [
        ("2026-02-13 16:30:00", "2026-02-24 09:00:00", "单据挂起")]
    assert resolution.due_at == "2026-02-24 18:00:00"        # 7.5h left at Tuesday 09:00: 09-12, 13:30-18:00

    _do(app, "2026-02-24 11:00", lambda: operate_step(kept, find_user("ops1"), "TRANSITION", "handle", fields={}))
    assert _clocks(app, kept, "2026-03-01 00:00")["resolution"].state == "met"

    left = _clocks(app, alone, "2026-02-24 10:00")["resolution"]
    assert (left.state, left.due_at) == ("breached", "2026-02-14 16:30:00")   # Fri 2h + the working Saturday 6h


def test_warning_then_breach_are_each_recorded_and_notified_once(app, sla_service):
    ticket_id = create(app, sla_service, "2026-03-09 09:00")           # Monday, P3: response 2h, resolution 8h
    assert check(app, "2026-03-09 10:30") == 0
    assert check(app, "2026-03-09 10:37") == 1                         # response warning at 1h36m
    assert check(app, "2026-03-09 10:40") == 0
    assert check(app, "2026-03-09 11:00") == 1                         # response breach
    assert check(app, "2026-03-09 11:30") == 0
    assert _notices(app) == [("sla_breach", ["boss", "ops1"]), ("sla_warning", ["ops1"])]
    with app.app_context():
        ticket = get_ticket(ticket_id)
        assert ticket.priority == "P2"                                  # the breach action raised it
        logs = [lg.action for lg in db.session.execute(select(TicketLog).where(TicketLog.ticket_id == ticket_id))
                .scalars()]
        assert logs.count("SLA_WARNING") == 1 and logs.count("SLA_BREACH") == 1 and "PRIORITY" in logs


def test_the_priority_comes_from_urgency_and_impact_and_a_processor_changes_it_with_a_reason(app, sla_service):
    ticket_id = create(app, sla_service, "2026-03-09 09:00", urgency="high", impact="medium")
    with app.app_context():
        ticket = get_ticket(ticket_id)
        assert ticket.priority == "P2" and ticket.sla["clocks"]["resolution"]["target"] == 4 * HOUR
        with pytest.raises(ValidationFailed, match="原因"):
            sla.change_priority(ticket_id, find_user("ops1"), "P3", " ")
        with pytest.raises(OperationRefused, match="当前处理人"):
            sla.change_priority(ticket_id, find_user("alice"), "P3", "不急")
        db.session.rollback()
    _do(app, "2026-03-09 10:00", lambda: sla.change_priority(ticket_id, find_user("ops1"), "P3", "用户说不急"))
    with app.app_context():
        ticket = get_ticket(ticket_id)
        assert ticket.priority == "P3" and ticket.sla["clocks"]["resolution"]["target"] == 8 * HOUR
        assert ticket.sla_due_at == utc("2026-03-09 11:00")      # the response clock (2h) comes first
        assert sla.ticket_clocks(ticket)[1].due_at == "2026-03-10 09:30:00"    # 8h: a working day is 7.5h
        log = db.session.execute(select(TicketLog).where(TicketLog.action == "PRIORITY")).scalar_one()
        assert log.message == "ops1 将优先级由 P2 调整为 P3，原因：用户说不急"


def test_rebuild_derives_the_same_clocks_from_the_tickets_history(app, sla_service):
    ticket_id = create(app, sla_service, "2026-02-13 16:00")
    _do(app, "2026-02-13 16:30", lambda: operate_ticket(ticket_id, find_user("ops1"), "SUSPEND", message="等备件"))
    _do(app, "2026-02-24 09:00", lambda: operate_ticket(ticket_id, find_user("ops1"), "UNSUSPEND"))
    with app.app_context():
        before = get_ticket(ticket_id)
        stored = (before.sla, before.sla_due_at, before.sla_check_at)
        db.session.execute(Ticket.__table__.update().values(sla_due_at=None, sla_check_at=None))
        commit()
    with time_machine.travel(utc("2026-02-24 09:00"), tick=False), app.app_context():
        assert sla.rebuild() == 1
        commit()
    with app.app_context():
        after = get_ticket(ticket_id)
        assert (after.sla, after.sla_due_at, after.sla_check_at) == stored


def test_two_schedulers_at_once_record_one_warning_and_one_breach_per_clock(app, sla_service):
    ids = [create(app, sla_service, "2026-03-09 09:00") for _ in range(12)]
    barrier, results = threading.Barrier(2), []

    def scheduler():
        barrier.wait()
        results.append(check(app, "2026-03-10 12:00"))     # past every warning and breach of both clocks

    with time_machine.travel(utc("2026-03-10 12:00"), tick=False):
        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert sum(results) == 12 * 4
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(SlaNotice)).scalar_one() == 12 * 4
        per_ticket = db.session.execute(select(Notification.ticket_id, Notification.kind, func.count())
                                        .where(Notification.kind.like("sla_%"))
                                        .group_by(Notification.ticket_id, Notification.kind)).all()
    assert sorted({(k, n) for _, k, n in per_ticket}) == [("sla_breach", 2), ("sla_warning", 2)]   # one per clock
    assert {t for t, _, _ in per_ticket} == set(ids)


def _statements_of_one_check(app, at):
    from sqlalchemy import event

    seen = []
    with app.app_context():
        engine = db.engine

    def grab(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))
    event.listen(engine, "before_cursor_execute", grab)
    try:
        recorded = check(app, at)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return recorded, seen


def test_a_check_records_every_crossed_threshold_of_a_ticket_in_one_statement(app, sla_service):
    create(app, sla_service, "2026-03-09 09:00")
    recorded, statements = _statements_of_one_check(app, "2026-03-10 12:00")   # both clocks warned and breached
    assert recorded == 4
    assert len([s for s in statements if s.startswith("INSERT INTO sla_notices")]) == 1
    assert len([s for s in statements if s.startswith("SELECT users.leader")]) == 1        # escalation: once
    with app.app_context():     # the scan, the ticket, its open steps, one insert per table, the update
        limit = 9 if db.engine.dialect.name == "postgresql" else 19          # before batching: 20 and 24
    assert len(statements) <= limit, statements
    assert _notices(app) == [("sla_breach", ["boss", "ops1"]), ("sla_breach", ["boss", "ops1"]),
                             ("sla_warning", ["ops1"]), ("sla_warning", ["ops1"])]
