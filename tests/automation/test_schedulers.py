"""Several scheduler processes on PostgreSQL: every automatic step runs exactly once, even when one dies."""
import multiprocessing
import os
import signal
import time
from collections import Counter

import pytest
from scheduler_worker import run_worker
from sqlalchemy import func, select

from app.extensions import db
from app.infra.uow import commit
from app.models import ApiDef, ApiSystem, AutomaticRun, Ticket, TicketLog
from app.services.people.users import find_user
from app.services.tickets.operations import create_ticket

FLOW = """
key: auto_once
name: 自动执行一次
service_type: request
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING, required: true},
                                                   {key: username, name: 账号, type: STRING, required: true}]}
  - key: create
    name: 创建账号
    kind: api
    api: idm.create_account
    params:
      timeout: 60
      request: {user: "{{ fields.username }}", sn: "{{ ticket.sn }}"}
      success: {field: code, op: "==", value: 0}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: create}
  - {from: create, to: end}
"""
SUCCESS = "系统执行节点【创建账号】成功(完成)"


@pytest.fixture
def many_tickets(app, demo, make_service, fake_api, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent schedulers are tested on PostgreSQL (SQLite serializes all writers)")

    def make(count: int) -> list[str]:
        with app.app_context():
            system = ApiSystem(key="idm", name="身份管理", base_url=fake_api.url)
            db.session.add(system)
            db.session.flush()
            db.session.add(ApiDef(system_id=system.id, key="create_account", name="创建账号", method="POST",
                                  path="/accounts"))
            commit()
        service_id = make_service(FLOW)
        with app.app_context():
            alice = find_user("alice")
            sns = [create_ticket(service_id=service_id, creator=alice, fields={"title": f"t{i}", "username": f"u{i}"}).sn
                   for i in range(count)]
            commit()
        return sns

    return make


def _successes(app) -> Counter:
    with app.app_context():
        rows = db.session.execute(select(Ticket.sn).join(TicketLog, TicketLog.ticket_id == Ticket.id)
                                  .where(TicketLog.message == SUCCESS)).scalars()
        return Counter(rows)


def _spawn(database_url, name, lease, seconds):
    process = multiprocessing.get_context("spawn").Process(target=run_worker, args=(database_url, name, lease, seconds))
    process.start()
    return process


def test_two_schedulers_execute_500_due_steps_exactly_once(app, many_tickets, fake_api, database_url):
    sns = many_tickets(500)
    workers = [_spawn(database_url, f"scheduler-{i}", 600, 120) for i in range(2)]
    for w in workers:
        w.join(150)
        assert w.exitcode == 0
    calls = Counter(c["sn"] for c in fake_api.calls)
    assert set(calls) == set(sns) and set(calls.values()) == {1}          # the external API saw each once
    assert _successes(app) == Counter({sn: 1 for sn in sns})
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Ticket).where(Ticket.status == "FINISHED")).scalar() == 500
        by_worker = Counter(db.session.execute(select(AutomaticRun.status)).scalars())
        assert by_worker == Counter({"DONE": 500})


def test_a_killed_scheduler_loses_nothing_the_lease_hands_its_work_over(app, many_tickets, fake_api, database_url):
    sns = many_tickets(30)
    fake_api.mode = "hang"                       # the first worker's call never returns
    doomed = _spawn(database_url, "doomed", 600, 60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not fake_api.calls:
        time.sleep(0.1)
    with app.app_context():
        claimed = db.session.execute(select(func.count()).select_from(AutomaticRun)
                                     .where(AutomaticRun.claimed_by == "doomed")).scalar()
    assert fake_api.calls and claimed > 0
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(10)
    fake_api.mode = "ok"
    survivor = _spawn(database_url, "survivor", 2, 90)      # a 2-second lease: the dead claims expire quickly
    survivor.join(120)
    assert survivor.exitcode == 0
    assert _successes(app) == Counter({sn: 1 for sn in sns})     # every step completed exactly once
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Ticket).where(Ticket.status == "FINISHED")).scalar() == 30
