"""Concurrent submits: one step submitted by 8 processors at once, 8 tickets created at once."""
import threading

from app.errors import ItsmError
from app.extensions import db
from app.infra.uow import commit, unit_of_work
from app.models import Ticket, TicketLog, TicketStep
from app.services.people.users import find_user
from app.services.tickets.operations import create_ticket, operate_step

FLOW = """
key: race
name: 并发测试
service_type: request
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING, required: true}]}
  - key: approve
    name: 审批
    kind: manual
    processors: {type: GENERAL, value: [approvers]}
    fields: [{key: result, name: 结果, type: RADIO, required: true, choices: [{key: ok, name: 同意}]}]
  - key: implement
    name: 实施
    kind: manual
    processors: {type: PERSON, value: [impl]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve}
  - {from: approve, to: implement}
  - {from: implement, to: end}
"""
APPROVERS = [f"u{i}" for i in range(8)]


def _run_in_threads(app, n, work):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        with app.app_context():
            barrier.wait()
            try:
                with unit_of_work():
                    results[i] = work(i)
            except ItsmError as exc:
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_eight_processors_submitting_one_step_at_once_only_one_wins(app, make_service):
    service_id = make_service(FLOW, roles={"approvers": APPROVERS}, users=("alice", "impl"))
    with app.app_context():
        ticket = create_ticket(service_id=service_id, creator=find_user("alice"), fields={"title": "race"})
        commit()
        ticket_id = ticket.id

    def submit(i):
        operate_step(ticket_id, find_user(APPROVERS[i]), "TRANSITION", "approve", fields={"result": "ok"})
        return "ok"

    results = _run_in_threads(app, 8, submit)
    assert results.count("ok") == 1, results
    assert all(isinstance(r, ItsmError) for r in results if r != "ok")
    with app.app_context():
        steps = db.session.query(TicketStep).filter_by(ticket_id=ticket_id).order_by(TicketStep.id).all()
        assert [s.node_key for s in steps] == ["submit", "approve", "implement"]
        assert sum(1 for s in steps if s.is_open) == 1
        approve_logs = db.session.query(TicketLog).filter_by(ticket_id=ticket_id, node_key="approve").count()
        assert approve_logs == 1


def test_eight_tickets_created_at_once_get_eight_distinct_numbers(app, make_service):
    service_id = make_service(FLOW, roles={"approvers": APPROVERS}, users=("alice", "impl"))

    def create(i):
        return create_ticket(service_id=service_id, creator=find_user("alice"), fields={"title": f"t{i}"}).sn

    numbers = _run_in_threads(app, 8, create)
    assert all(isinstance(n, str) for n in numbers), numbers
    assert len(set(numbers)) == 8
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, 9))
    with app.app_context():
        assert db.session.query(Ticket).count() == 8
