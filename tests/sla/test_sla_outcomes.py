"""The attainment statistics read a rollup of decided clocks (`sla_outcomes`): after random tickets are
created, suspended, resumed, re-prioritised, finished and scanned, it gives the numbers the tickets
themselves give (`attainment_raw`), and `itsm sla rebuild-outcomes` reproduces it."""
from __future__ import annotations

import random
from datetime import timedelta

import time_machine
from sqlalchemy import select

from app.errors import ItsmError
from app.extensions import db
from app.infra.uow import commit
from app.models import SlaOutcome
from app.services import sla
from app.services.people.users import find_user
from app.services.sla.tickets import attainment_raw
from app.services.tickets import operate_step, operate_ticket
from sla_kit import check, create, utc

LEVELS = ["high", "medium", "low"]


def _try(app, at, operation) -> None:
    """Run one operation at `at`; a refused one (suspending a suspended ticket...) changes nothing."""
    with time_machine.travel(at, tick=False), app.app_context():
        try:
            operation()
            commit()
        except ItsmError:
            db.session.rollback()


def _table(app) -> set[tuple]:
    with app.app_context():
        return set(db.session.execute(select(
            SlaOutcome.ticket_id, SlaOutcome.clock, SlaOutcome.service_id, SlaOutcome.service_type,
            SlaOutcome.priority, SlaOutcome.created_at, SlaOutcome.month, SlaOutcome.met)).all())


def _random_history(app, service_id, rng: random.Random) -> list:
    """Twelve tickets over two months with random operations and scans in between; returns the last instant."""
    start = utc("2026-02-20 08:00")
    created = sorted(start + timedelta(minutes=rng.randrange(0, 60 * 24 * 40)) for _ in range(12))
    ids = [create(app, service_id, (t + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M"),
                   urgency=rng.choice(LEVELS), impact=rng.choice(LEVELS)) for t in created]
    ops1 = lambda: find_user("ops1")         # noqa: E731
    moves = [
        lambda tid: operate_ticket(tid, ops1(), "SUSPEND", message="等备件"),
        lambda tid: operate_ticket(tid, ops1(), "UNSUSPEND"),
        lambda tid: sla.change_priority(tid, ops1(), rng.choice(["P2", "P3"]), "重新评估"),
        lambda tid: operate_step(tid, ops1(), "TRANSITION", "handle", fields={}),
    ]
    at = created[-1] + timedelta(hours=1)
    for _ in range(40):
        at += timedelta(minutes=rng.randrange(10, 60 * 20))
        if rng.random() < 0.3:
            with time_machine.travel(at, tick=False):
                check(app, (at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M"))
        else:
            tid, move = rng.choice(ids), rng.choice(moves)
            _try(app, at, lambda: move(tid))
    return at


def test_attainment_from_the_rollup_equals_the_tickets_own_clocks_after_random_histories(app, sla_service):
    for seed in (1, 2):
        end = _random_history(app, sla_service, random.Random(seed))
        end_text = (end + timedelta(hours=8, minutes=1)).strftime("%Y-%m-%d %H:%M")
        check(app, end_text)                         # the scan has recorded every breach up to now
        now = utc(end_text)
        with app.app_context():
            got, want = sla.attainment(now=now), attainment_raw(now=now)
            assert got == want and sum(r["met"] + r["breached"] for r in got["service"]) > 0
            assert {g: [r["key"] for r in rows] for g, rows in got.items()}["priority"]
            window = dict(start=utc("2026-03-01 00:00"), end=utc("2026-04-01 00:00"))
            assert sla.attainment(**window) == attainment_raw(now=now, **window)
            assert sla.attainment(service_type="change") == attainment_raw(now=now, service_type="change") \
                == {"service": [], "priority": [], "month": []}


def test_rebuild_outcomes_reproduces_the_table_from_the_tickets(app, sla_service):
    end = _random_history(app, sla_service, random.Random(3))
    end_text = (end + timedelta(hours=8, minutes=1)).strftime("%Y-%m-%d %H:%M")
    check(app, end_text)
    kept = _table(app)
    assert kept
    with app.app_context():
        db.session.execute(SlaOutcome.__table__.delete())
        commit()
    assert _table(app) == set()
    with time_machine.travel(utc(end_text), tick=False):
        result = app.test_cli_runner().invoke(args=["itsm", "sla", "rebuild-outcomes"])
    assert result.exit_code == 0 and f"recorded {len(kept)} decided" in result.output
    assert _table(app) == kept


def test_only_the_operation_that_decides_a_clock_writes_its_outcome(app, sla_service):
    ticket_id = create(app, sla_service, "2026-03-09 09:00")
    assert _table(app) == set()                       # both clocks running
    _try(app, utc("2026-03-09 09:10"), lambda: operate_ticket(ticket_id, find_user("ops1"), "SUSPEND", message="等"))
    assert {(row[0], row[1], row[4], row[6], row[7]) for row in _table(app)} == {
        (ticket_id, "response", "P3", "2026-03", True)}          # suspending is acting: the response clock is met


def test_a_breach_scanned_at_the_target_to_the_second_is_counted_at_the_next_scan(app, sla_service):
    ticket_id = create(app, sla_service, "2026-03-09 09:00")          # P3: response 2h
    assert check(app, "2026-03-09 11:00") == 2          # warning and breach recorded: elapsed is the target, not past it
    assert _table(app) == set()
    assert check(app, "2026-03-09 11:30") == 0                         # nothing new to notify...
    assert {(row[0], row[1], row[7]) for row in _table(app)} == {(ticket_id, "response", False)}   # ...but decided
    with app.app_context():
        assert sla.attainment() == attainment_raw(now=utc("2026-03-09 11:30"))
