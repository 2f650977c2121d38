"""The percentile charts (handling per step and per service, approval time per approver) give the same numbers as the old window-function computation, on random data.

PostgreSQL now uses percentile_disc within GROUP BY; the reference below is the query both databases
ran before (row_number/count windows, nearest rank), kept here to compare against.
"""
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import DateTime, case, cast, func, select, true, update
from stats_kit import account_request, incident

from app.extensions import db
from app.infra.uow import commit
from app.models import Service, Ticket, TicketStep
from app.services.stats import charts as stats

START, END = datetime(2024, 3, 1), datetime(2024, 4, 1)


def _reference_by_service(f):
    duration = stats.seconds_between(Ticket.created_at, Ticket.end_at)
    inner = select(Ticket.service_id.label("s"), duration.label("d"),
                   func.row_number().over(partition_by=Ticket.service_id, order_by=duration).label("rn"),
                   func.count().over(partition_by=Ticket.service_id).label("n")) \
        .where(Ticket.status == "FINISHED", Ticket.end_at.is_not(None), *stats._ticket_filters(f)).subquery()
    result = db.session.execute(
        select(Service.name, func.count(), func.avg(inner.c.d),
               func.max(case((inner.c.rn == stats._percentile_rank(inner.c.n, 50), inner.c.d))),
               func.max(case((inner.c.rn == stats._percentile_rank(inner.c.n, 90), inner.c.d))))
        .join(Service, Service.id == inner.c.s).group_by(Service.id, Service.name)
        .order_by(func.avg(inner.c.d).desc(), Service.name)).all()
    return [[name, n, stats._hours(a), stats._hours(p50), stats._hours(p90)] for name, n, a, p50, p90 in result]


def _reference_by_step(f, limit=20):
    duration = stats.seconds_between(TicketStep.opened_at, TicketStep.closed_at)
    part = (Ticket.service_id, TicketStep.node_key)
    inner = select(Ticket.service_id.label("s"), TicketStep.node_key.label("k"), TicketStep.name.label("name"),
                   duration.label("d"),
                   func.row_number().over(partition_by=part, order_by=duration).label("rn"),
                   func.count().over(partition_by=part).label("n")) \
        .join(Ticket, Ticket.id == TicketStep.ticket_id) \
        .where(TicketStep.closed_at.is_not(None), TicketStep.kind != "start", *stats._ticket_filters(f)).subquery()
    avg = func.avg(inner.c.d)
    result = db.session.execute(
        select(Service.name, func.max(inner.c.name), func.count(), avg,
               func.max(case((inner.c.rn == stats._percentile_rank(inner.c.n, 50), inner.c.d))),
               func.max(case((inner.c.rn == stats._percentile_rank(inner.c.n, 90), inner.c.d))))
        .join(Service, Service.id == inner.c.s).group_by(Service.id, Service.name, inner.c.k)
        .order_by(avg.desc(), Service.name, inner.c.k).limit(limit)).all()
    return [[f"{s} · {step}", n, stats._hours(a), stats._hours(p50), stats._hours(p90)]
            for s, step, n, a, p50, p90 in result]


def _reference_by_approver(f, limit=20):
    votes, member = stats._votes()
    voted_at = cast(member("at"), DateTime) if stats.is_postgres() else member("at")
    duration = stats.seconds_between(TicketStep.opened_at, voted_at)
    who = member("username")
    inner = select(who.label("u"), member("result").label("r"), duration.label("d"),
                   func.row_number().over(partition_by=who, order_by=duration).label("rn"),
                   func.count().over(partition_by=who).label("n")) \
        .select_from(TicketStep).join(Ticket, Ticket.id == TicketStep.ticket_id).join(votes, true()) \
        .where(TicketStep.kind == "approval", TicketStep.approval.is_not(None), *stats._ticket_filters(f)).subquery()
    n = func.count()
    result = db.session.execute(
        select(inner.c.u, n, func.sum(case((inner.c.r == "true", 1), else_=0)),
               func.sum(case((inner.c.r == "false", 1), else_=0)), func.avg(inner.c.d),
               func.max(case((inner.c.rn == stats._percentile_rank(inner.c.n, 50), inner.c.d))),
               func.max(case((inner.c.rn == stats._percentile_rank(inner.c.n, 90), inner.c.d))))
        .group_by(inner.c.u).order_by(n.desc(), inner.c.u).limit(limit)).all()
    return [[u, count, int(agreed or 0), int(rejected or 0), stats._hours(a), stats._hours(p50), stats._hours(p90)]
            for u, count, agreed, rejected, a, p50, p90 in result]


@pytest.fixture
def random_tickets(demo):
    """40 tickets of two services, created, ended and with steps closed at random times (ties included)."""
    rng = random.Random(20)
    with demo.app_context():
        ids = [account_request(rng.choice(["alice", "bob"]), reject=rng.random() < 0.6) if i % 3
               else incident(finish=rng.random() < 0.7) for i in range(40)]
        for ticket_id in ids:
            created = START + timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
            moment = created
            for step_id, kind, closed in db.session.execute(
                    select(TicketStep.id, TicketStep.kind, TicketStep.closed_at)
                    .where(TicketStep.ticket_id == ticket_id).order_by(TicketStep.id)).all():
                if kind == "start":
                    db.session.execute(update(TicketStep).where(TicketStep.id == step_id)
                                       .values(opened_at=created, closed_at=created))
                    continue
                took = timedelta(minutes=rng.choice([30, 60, 90, 120]) * rng.randrange(1, 20))
                db.session.execute(update(TicketStep).where(TicketStep.id == step_id)
                                   .values(opened_at=moment, closed_at=moment + took if closed else None))
                step = db.session.get(TicketStep, step_id)
                if closed and step.approval and step.approval.get("votes"):      # the approver voted at closing
                    at = (moment + took).strftime("%Y-%m-%d %H:%M:%S")
                    step.approval = {**step.approval, "votes": [{**v, "at": at} for v in step.approval["votes"]]}
                moment += took
            status = db.session.get(Ticket, ticket_id).status
            db.session.execute(update(Ticket).where(Ticket.id == ticket_id).values(
                created_at=created, end_at=moment if status != "RUNNING" else None))
        commit()
    return ids


@pytest.mark.parametrize("kw", [{}, {"service_type": "event"}, {"start": datetime(2024, 3, 10)}])
def test_percentile_charts_equal_the_window_function_computation(demo, random_tickets, kw):
    with demo.test_request_context():
        f = stats.StatsFilter(**{"start": START, "end": END, **kw})
        by_step, by_service = stats.handling_time_by_step(f).rows, stats.handling_time_by_service(f).rows
        assert by_step == _reference_by_step(f)
        assert by_service == _reference_by_service(f)
        by_approver = stats.approval_time_by_approver(f).rows
        assert by_approver == _reference_by_approver(f)
    if not kw:      # the data is varied enough to tell a wrong rank from the right one
        assert len(by_step) >= 3 and any(p50 != p90 for *_, p50, p90 in by_step)
        assert sum(row[1] for row in by_service) >= 5
        assert by_approver and by_approver[0][1] >= 5 and by_approver[0][5] != by_approver[0][6]
