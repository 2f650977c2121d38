"""Two scheduler processes on PostgreSQL share 200 due notices: each is emailed exactly once."""
from __future__ import annotations

import multiprocessing
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
    assert sum(attempted.values()) == COUNT and all(attempted.values()), attempted    # both took a share
    assert {status for _, status, _, _ in notices()} == {"SENT"}


def test_a_killed_schedulers_notices_are_sent_by_another_after_the_lease_exactly_once(app, smtp, configure,
                                                                                      notify_flow, submit, send):
    import os
    import signal
    import time

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
