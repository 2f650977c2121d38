"""Hand-made tickets with known times for the statistics tests (used by conftest.py and the tests).

Tickets are created and moved through the ticket services; then their times are set
directly in the database. All times below are local (Asia/Shanghai, UTC+8).

| ticket | service (type)          | created          | outcome                         | end           |
|--------|-------------------------|------------------|---------------------------------|---------------|
| T1     | 账号开通 (request)      | 03-01 09:00      | leader rejects, step 2 h        | 03-01 11:00   |
| T2     | 账号开通 (request)      | 03-02 10:00      | leader rejects, step 4 h        | 03-02 14:00   |
| T3     | 账号开通 (request)      | 03-03 07:00 (= 03-02 23:00 UTC) | leader rejects, step 12 h | 03-03 19:00 |
| T4     | 故障处理 (event)        | 03-01 08:00      | handle 7 h (eng1), confirm 3 h (alice) | 03-01 18:00 |
| T5     | 故障处理 (event)        | 03-02 12:00      | running: handle waits for eng1  |               |
| T6     | 账号开通 (request)      | 03-03 09:00      | running: waits for leader       |               |
| T7     | 账号开通 (request)      | 02-20 09:00 (outside the range) | running: waits for leader |           |

All in 2024; the range under test is 2024-03-01 .. 2024-03-03.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update

from app.extensions import db
from app.infra.uow import commit
from app.models import Service, StepProcessor, Ticket, TicketParticipant, TicketStep
from app.services.people.users import find_user
from app.services.tickets.operations import create_ticket, operate_step

RANGE = {"from": "2024-03-01", "to": "2024-03-03"}
ACCOUNT = {"title": "申请 CRM 账号", "system": "crm", "account_type": "permanent", "permissions": ["read"],
           "reason": "统计测试"}
INCIDENT = {"title": "订单服务 502", "event_type": "fault", "event_source": "monitor", "impact": "high",
            "urgency": "high", "occurred_at": "2024-03-01 08:00:00", "description": "下单接口 502"}


def utc(local_text: str) -> datetime:
    return datetime.strptime(local_text, "%Y-%m-%d %H:%M") - timedelta(hours=8)


def _service(key):
    return db.session.query(Service.id).filter_by(key=key).scalar()


def _set_times(ticket_id, created, end=None, steps=None):
    """Backdate a ticket and its steps, with the copies of its creation time the lists are ordered by.

    The closers' day counters are derived data: call `rebuild_counters()` after the last change.
    """
    db.session.execute(update(Ticket).where(Ticket.id == ticket_id).values(created_at=utc(created),
                                                                          end_at=utc(end) if end else None))
    for model in (StepProcessor, TicketParticipant):
        db.session.execute(update(model).where(model.ticket_id == ticket_id).values(ticket_created_at=utc(created)))
    db.session.execute(update(TicketStep).where(TicketStep.ticket_id == ticket_id, TicketStep.kind == "start")
                       .values(opened_at=utc(created), closed_at=utc(created)))
    for node_key, (opened, closed) in (steps or {}).items():
        db.session.execute(update(TicketStep).where(TicketStep.ticket_id == ticket_id, TicketStep.node_key == node_key)
                           .values(opened_at=utc(opened), closed_at=utc(closed) if closed else None))
        for step in db.session.query(TicketStep).filter_by(ticket_id=ticket_id, node_key=node_key, kind="approval"):
            if closed and step.approval and step.approval.get("votes"):      # approvers voted when it closed
                at = utc(closed).strftime("%Y-%m-%d %H:%M:%S")
                step.approval = {**step.approval, "votes": [{**v, "at": at} for v in step.approval["votes"]]}


def account_request(creator: str, *, reject: bool) -> int:
    ticket = create_ticket(service_id=_service("account_apply"), creator=find_user(creator), fields=ACCOUNT)
    if reject:
        operate_step(ticket.id, find_user("leader"), "TRANSITION", "leader_approve",
                     fields={"leader_approve_result": "false", "leader_approve_remark": "不需要"})
    return ticket.id


def incident(*, finish: bool) -> int:
    ticket = create_ticket(service_id=_service("incident_handle"), creator=find_user("alice"), fields=INCIDENT)
    operate_step(ticket.id, find_user("desk"), "DISTRIBUTE", "handle", processors_type="PERSON", processors="eng1")
    if finish:
        operate_step(ticket.id, find_user("eng1"), "TRANSITION", "handle", fields={"cause": "c", "solution": "s"})
        operate_step(ticket.id, find_user("alice"), "TRANSITION", "confirm", fields={"confirm_result": "solved"})
    return ticket.id


def rebuild_counters() -> None:
    """The handled-steps day counters, recomputed from the (backdated) steps, as a migration would."""
    from app.services.tickets.counters import rebuild

    rebuild(db.session.connection())


def many_tickets(app, count: int) -> None:
    """`count` finished account requests spread over the range (for statement counts)."""
    with app.app_context():
        for i in range(count):
            ticket_id = account_request("alice", reject=i % 2 == 0)
            day = 1 + i % 3
            _set_times(ticket_id, f"2024-03-0{day} 10:00", f"2024-03-0{day} 12:00" if i % 2 == 0 else None,
                       {"leader_approve": (f"2024-03-0{day} 10:00", f"2024-03-0{day} 12:00" if i % 2 == 0 else None)})
        rebuild_counters()
        commit()
