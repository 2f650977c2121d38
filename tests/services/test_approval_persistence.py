"""Approval steps in the database: votes on the step row, the to-do index, the ticket's result, statement counts."""
from sqlalchemy import select

from app.extensions import db
from app.infra.uow import commit
from app.models import StepProcessor, Ticket, TicketLog, TicketStep
from app.services.people.users import find_user
from app.services.tickets.operations import create_ticket, operate_step
from tests.statement_counter import StatementCounter


def _flow(n: int, key: str) -> tuple[str, list[str]]:
    approvers = [f"ap{i}" for i in range(n)]
    return f"""
key: {key}
name: 会签{n}
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields: [{{key: title, name: 标题, type: STRING, required: true}}]
  - key: cab
    name: CAB 评审
    kind: approval
    processors: {{type: PERSON, value: [{", ".join(approvers)}]}}
    multi: true
  - {{key: end, name: 结束, kind: end}}
  - {{key: rejected, name: 审批不通过, kind: end, approve_result: false}}
transitions:
  - {{from: submit, to: cab}}
  - {{from: cab, to: end, when: {{field: cab_result, value: "true"}}}}
  - {{from: cab, to: rejected, when: {{field: cab_result, value: "false"}}}}
""", approvers


def _vote(app, ticket_id, username, result, remark=""):
    with app.test_request_context():
        with StatementCounter(db.engine) as c:
            operate_step(ticket_id, find_user(username), "TRANSITION", "cab",
                         fields={"cab_result": result, "cab_remark": remark})
            commit()
    return c.count


def _run(app, make_service, n: int) -> tuple[int, dict]:
    text, approvers = _flow(n, f"cs{n}")
    service_id = make_service(text, users=("alice", *approvers))
    with app.test_request_context():
        ticket_id = create_ticket(service_id=service_id, creator=find_user("alice"), fields={"title": "t"}).id
        commit()
    counts = {"first vote": _vote(app, ticket_id, approvers[0], "true", "看过了")}
    for name in approvers[1:-1]:
        _vote(app, ticket_id, name, "true")
    counts["last vote"] = _vote(app, ticket_id, approvers[-1], "true")
    return ticket_id, counts


def test_statements_per_vote_do_not_grow_with_the_number_of_approvers(app, make_service):
    _, three = _run(app, make_service, 3)
    _, eight = _run(app, make_service, 8)
    assert three == eight, (three, eight)
    assert three["first vote"] <= 12 and three["last vote"] <= 16, three
    print(f"\nstatements per vote ({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}): {three}")


def test_votes_live_on_the_step_row_and_the_ticket_records_the_outcome(app, make_service):
    ticket_id, _ = _run(app, make_service, 3)
    with app.app_context():
        steps = db.session.execute(select(TicketStep).where(TicketStep.ticket_id == ticket_id,
                                                            TicketStep.node_key == "cab")).scalars().all()
        assert len(steps) == 1 and not steps[0].is_open
        votes = steps[0].approval["votes"]
        assert [(v["username"], v["result"], v["remark"]) for v in votes] == [
            ("ap0", "true", "看过了"), ("ap1", "true", ""), ("ap2", "true", "")]
        assert all(v["at"] for v in votes) and steps[0].approval["approvers"] == ["ap0", "ap1", "ap2"]
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status == "FINISHED" and ticket.approve_result is True
        assert ticket.last_approver == "ap0,ap1,ap2"
        assert ticket.values["cab_result"] == "true"
        assert db.session.execute(select(StepProcessor).where(StepProcessor.ticket_id == ticket_id)).first() is None
        messages = db.session.execute(select(TicketLog.message).where(TicketLog.ticket_id == ticket_id)
                                      .order_by(TicketLog.id)).scalars().all()
        assert "ap0 审批节点【CAB 评审】：通过，备注：看过了" in messages
        assert "节点【CAB 评审】会签结束：通过（同意 3 人，不同意 0 人，共 3 人）(提交)" in messages


def test_a_vote_takes_the_approver_off_the_to_do_index_and_a_second_vote_is_refused(app, make_service):
    text, approvers = _flow(3, "cs_once")
    service_id = make_service(text, users=("alice", *approvers))
    with app.test_request_context():
        ticket_id = create_ticket(service_id=service_id, creator=find_user("alice"), fields={"title": "t"}).id
        commit()
    _vote(app, ticket_id, "ap1", "true")
    with app.test_request_context():
        waiting = db.session.execute(select(StepProcessor.username).where(StepProcessor.ticket_id == ticket_id)
                                     .order_by(StepProcessor.username)).scalars().all()
        assert waiting == ["ap0", "ap2"]
        import pytest

        from app.errors import OperationRefused

        with pytest.raises(OperationRefused, match="你已审批过节点【CAB 评审】"):
            operate_step(ticket_id, find_user("ap1"), "TRANSITION", "cab", fields={"cab_result": "false"})
        db.session.rollback()


def test_a_rejected_countersign_leaves_the_ticket_not_approved(app, make_service):
    text, approvers = _flow(3, "cs_reject")
    service_id = make_service(text, users=("alice", *approvers))
    with app.test_request_context():
        ticket_id = create_ticket(service_id=service_id, creator=find_user("alice"), fields={"title": "t"}).id
        commit()
    _vote(app, ticket_id, "ap2", "false", "不行")
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status == "FINISHED" and ticket.approve_result is False and ticket.last_approver == "ap2"
