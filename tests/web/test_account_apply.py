"""The life of a 账号开通 (request) ticket through the browser-facing routes, as each user sees it."""
import re

from app.extensions import db
from app.models import Service, Ticket, TicketLog, TicketStep


def _service_id(app, key):
    with app.app_context():
        return db.session.query(Service.id).filter_by(key=key).scalar()


def _ticket(app, ticket_id):
    with app.app_context():
        t = db.session.get(Ticket, ticket_id)
        steps = db.session.query(TicketStep).filter_by(ticket_id=ticket_id).order_by(TicketStep.id).all()
        logs = [l.message for l in db.session.query(TicketLog).filter_by(ticket_id=ticket_id).order_by(TicketLog.id)]
        db.session.expunge_all()
        return t, steps, logs


def submit_account_apply(alice, app, **overrides):
    data = {"title": "申请 CRM 只读账号", "system": "crm", "account_type": "permanent", "permissions": ["read"],
            "reason": "销售数据分析需要"}
    data.update(overrides)
    response = alice.post(f"/submit/{_service_id(app, 'account_apply')}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/tickets/(\d+)", response.headers["Location"]).group(1))


def test_full_life_of_an_account_request(browser, demo):
    alice, leader, ops1 = browser("alice"), browser("leader"), browser("ops1")
    ticket_id = submit_account_apply(alice, demo)
    ticket, steps, logs = _ticket(demo, ticket_id)
    assert re.fullmatch(r"REQ\d{8}\d{6}", ticket.sn)
    assert ticket.status == "RUNNING" and logs[0] == "流程开始."
    assert [s.node_key for s in steps] == ["submit", "leader_approve"]

    # the leader sees it in the to-do list and approves
    assert ticket.sn in leader.get("/").get_data(as_text=True)
    page = leader.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "直属领导审批" in page and "leader_approve-leader_approve_result" in page
    r = leader.post(f"/tickets/{ticket_id}/steps/leader_approve/transition",
                    data={"leader_approve-leader_approve_result": "true", "leader_approve-leader_approve_remark": "同意"})
    assert r.status_code == 302

    # two ops people: the implement step waits to be claimed
    _, steps, _ = _ticket(demo, ticket_id)
    assert steps[-1].node_key == "implement" and steps[-1].status == "RECEIVING"
    assert ticket.sn in ops1.get("/tickets?tab=claim").get_data(as_text=True)
    assert ops1.post(f"/tickets/{ticket_id}/steps/implement/claim").status_code == 302
    r = ops1.post(f"/tickets/{ticket_id}/steps/implement/transition",
                  data={"implement-account_name": "alice.crm", "implement-impl_note": "初始密码已邮件发送"})
    assert r.status_code == 302

    # the requester confirms and the ticket ends
    r = alice.post(f"/tickets/{ticket_id}/steps/confirm/transition", data={"confirm-confirm_result": "confirmed"})
    assert r.status_code == 302
    ticket, steps, logs = _ticket(demo, ticket_id)
    assert ticket.status == "FINISHED" and ticket.end_at is not None
    assert all(not s.is_open for s in steps)
    assert logs[-1] == "单据流程结束"
    assert "ops1 认领了节点【账号开通实施】" in logs
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "已结束" in page and "alice.crm" in page


def test_invalid_step_form_keeps_typed_values_and_changes_nothing(browser, demo):
    alice, leader, ops1 = browser("alice"), browser("leader"), browser("ops1")
    ticket_id = submit_account_apply(alice, demo)
    leader.post(f"/tickets/{ticket_id}/steps/leader_approve/transition", data={"leader_approve-leader_approve_result": "true"})
    ops1.post(f"/tickets/{ticket_id}/steps/implement/claim")
    r = ops1.post(f"/tickets/{ticket_id}/steps/implement/transition",
                  data={"implement-account_name": "Bad Name", "implement-impl_note": "typed note"})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "小写字母开头" in page and "typed note" in page
    _, steps, _ = _ticket(demo, ticket_id)
    assert steps[-1].node_key == "implement" and steps[-1].status == "RUNNING"


def test_leader_rejection_ends_the_request(browser, demo):
    alice, leader = browser("alice"), browser("leader")
    ticket_id = submit_account_apply(alice, demo)
    leader.post(f"/tickets/{ticket_id}/steps/leader_approve/transition",
                data={"leader_approve-leader_approve_result": "false", "leader_approve-leader_approve_remark": "不需要"})
    ticket, steps, logs = _ticket(demo, ticket_id)
    assert ticket.status == "FINISHED"
    assert "leader 审批节点【直属领导审批】：拒绝，备注：不需要(拒绝)" in logs


def test_non_processor_cannot_approve(browser, demo):
    alice, bob = browser("alice"), browser("bob")
    ticket_id = submit_account_apply(alice, demo)
    r = bob.post(f"/tickets/{ticket_id}/steps/leader_approve/transition", data={"leader_approve-leader_approve_result": "true"})
    assert r.status_code == 403
    _, steps, logs = _ticket(demo, ticket_id)
    assert steps[-1].status == "RUNNING" and len(logs) == 2


def test_the_form_suggests_my_leader_as_approver_and_my_pick_decides(browser, demo):
    alice, ops2 = browser("alice"), browser("ops2")
    page = alice.get(f"/submit/{_service_id(demo, 'account_apply')}").get_data(as_text=True)
    assert '<option selected value="leader">' in page           # prefilled from the directory, changeable
    ticket_id = submit_account_apply(alice, demo, approver="ops2")
    _, steps, _ = _ticket(demo, ticket_id)
    assert steps[-1].node_key == "leader_approve" and steps[-1].processors == "ops2"
    assert browser("leader").post(f"/tickets/{ticket_id}/steps/leader_approve/transition",
                                  data={"leader_approve-leader_approve_result": "true"}).status_code == 403
    assert ops2.post(f"/tickets/{ticket_id}/steps/leader_approve/transition",
                     data={"leader_approve-leader_approve_result": "true"}).status_code == 302
    _, steps, _ = _ticket(demo, ticket_id)
    assert steps[-1].node_key == "implement"
    r = alice.post(f"/submit/{_service_id(demo, 'account_apply')}",
                   data={"title": "x", "system": "crm", "account_type": "permanent", "reason": "r", "approver": ""})
    assert r.status_code == 400 and "【审批人】为必填项" in r.get_data(as_text=True)
