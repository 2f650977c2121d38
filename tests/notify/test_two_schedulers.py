"""Two schedulers on PostgreSQL share due notices: each is emailed exactly once, and claims never overlap."""
from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter

import pytest
from notify_kit import scheduler_worker
from sqlalchemy import insert

from app.extensions import db
from app.infra.uow import commit
from app.models import Notification, Ticket
from app.timeutil import utcnow

COUNT = 200


def test_two_scheduler_processes_deliver_200_notices_with_no_duplicates(app, smtp, configure, notify_flow, submit,
                                                                        notices):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SKIP LOCKED claims across processes: PostgreSQL only")
    configure(smtp=smtp)
    ticket_id = submit(notify_flow())
    with app.app_context():
        db.session.query(Notification).delete()           # only the 200 below
        now = utcnow()
        db.session.execute(insert(Notification), [
            {"ticket_id": ticket_id, "kind": "supervise", "recipients": ["bob"], "message": f"#{i}",
             "status": "PENDING", "attempts": 0, "next_attempt_at": now, "created_at": now} for i in range(COUNT)])
        commit()
        expected = {n.id for n in db.session.query(Notification.id)}
        assert db.session.get(Ticket, ticket_id) is not None

    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Event(), spawn.Queue()
    workers = [spawn.Process(target=scheduler_worker, args=(app.config["DATABASE_URL"], start, 60, results))
               for _ in range(2)]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(180)
    assert [w.exitcode for w in workers] == [0, 0]
    attempted = dict(results.get(timeout=5) for _ in workers)

    per_notice = Counter(m.notification_id for m in smtp.mails)
    assert len(smtp.mails) == COUNT
    assert set(per_notice) == expected and max(per_notice.values()) == 1
    assert sum(attempted.values()) == COUNT, attempted       # no notice was taken by both
    assert {status for _, status, _, _ in notices()} == {"SENT"}


def test_a_second_scheduler_skips_the_notices_a_first_is_claiming_and_takes_the_next(app, smtp, configure,
                                                                                       notify_flow, submit, send):
    """The sharing, made deterministic: w1's claim is held open while w2 claims and sends."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SKIP LOCKED claims across connections: PostgreSQL only")
    from app.infra.uow import unit_of_work
    from app.services.notify.delivery import claim_due_notices

    configure(smtp=smtp)
    ticket_id = submit(notify_flow())
    with app.app_context():
        db.session.query(Notification).delete()
        now = utcnow()
        db.session.execute(insert(Notification), [
            {"ticket_id": ticket_id, "kind": "supervise", "recipients": ["bob"], "message": f"#{i}",
             "status": "PENDING", "attempts": 0, "next_attempt_at": now, "created_at": now} for i in range(30)])
        commit()
    claimed, release = {}, threading.Event()

    def first_scheduler():
        with app.app_context():
            with unit_of_work():
                claimed["w1"] = claim_due_notices("w1")      # rows locked until this unit of work ends
                claimed["locked"] = True
                release.wait(30)

    holder = threading.Thread(target=first_scheduler)
    holder.start()
    for _ in range(200):
        if claimed.get("locked"):
            break
        threading.Event().wait(0.05)
    try:
        assert len(claimed["w1"]) == 20
        began = time.monotonic()
        sent_by_w2 = send("w2")
        waited = time.monotonic() - began
    finally:
        release.set()
        holder.join(30)
    assert sent_by_w2 == 10 and waited < 10                   # skipped w1's locked rows instead of waiting 30 s
    sent_ids = {m.notification_id for m in smtp.mails}
    assert len(smtp.mails) == 10 and not sent_ids & set(claimed["w1"])
    with app.app_context():
        owners = Counter(n.claimed_by for n in db.session.query(Notification).filter(Notification.status == "PENDING"))
    assert owners == {"w1": 20}                                # w1's claim stands; nobody else took them


def test_a_killed_schedulers_notices_are_sent_by_another_after_the_lease_exactly_once(app, smtp, configure,
                                                                                      notify_flow, submit, send):
    import os
    import signal

    from notify_kit import BlackHole

    from app.services.notify import settings as notify_settings

    service_id = notify_flow()
    for i in range(3):
        submit(service_id, f"单据 {i}")
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Event(), spawn.Queue()
    with BlackHole() as hole:
        with app.app_context():                 # the first scheduler hangs talking to this "SMTP server"
            notify_settings.save_smtp(host="127.0.0.1", port=hole.port, security="none", username="", password="",
                                      sender="itsm@example.com", timeout=120, by="admin")
            commit()
        worker = spawn.Process(target=scheduler_worker, args=(app.config["DATABASE_URL"], start, 1, results))
        worker.start()
        start.set()
        deadline = time.monotonic() + 60
        while not hole.held and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hole.held, "the first scheduler never reached the SMTP server"
        with app.app_context():                 # while it waits on the network it holds no database lock
            began = time.monotonic()
            notify_settings.save_daily_time("09:00", by="admin")
            commit()
            assert time.monotonic() - began < 5
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
    assert worker.exitcode == -signal.SIGKILL
    with app.app_context():
        claimed = db.session.query(Notification).filter(Notification.claimed_by.isnot(None)).count()
        assert claimed == 3                     # its claims stay behind

    configure(smtp=smtp)
    assert send("w2") == 0                      # within the lease nobody takes them
    app.config["NOTIFY_LEASE_SECONDS"] = 1
    try:
        time.sleep(1.2)
        assert send("w2") == 3
    finally:
        app.config["NOTIFY_LEASE_SECONDS"] = 300
    assert Counter((m.notification_id, m.rcpt_tos[0]) for m in smtp.mails).most_common(1)[0][1] == 1
    assert len(smtp.mails) == 6                 # 3 notices x (bob, carol), each once
    assert send("w2") == 0
