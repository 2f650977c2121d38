"""The demo request flow 账号开通 through the BlueKing API, both databases: the requester picks the approver
(审批人), that person approves or rejects, the ticket ends accordingly. Without a pick the requester's leader
approves; a pick of nobody, or of someone unknown, creates nothing."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Service, Ticket

ACCOUNT = dict(title="申请 CRM 只读账号", system="crm", account_type="permanent", permissions=["read"],
               reason="销售数据分析需要")


def fields(**values):
    return [{"key": k, "value": v} for k, v in values.items()]


def service_id(app) -> int:
    with app.app_context():
        return db.session.execute(select(Service.id).where(Service.key == "account_apply")).scalar_one()


def ticket_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(Ticket.id))).scalar_one()


def create(api, app, **values):
    return api("create_ticket", username="alice", service_id=service_id(app), creator="alice",
               fields=fields(**{**ACCOUNT, **values}))


def current(api, sn):
    return {s["name"]: s for s in api("get_ticket_status", sn=sn, operator="admin")["data"]["current_steps"]}


def operate(api, sn, step, who, action="TRANSITION", **values):
    return api("operate_node", username=who, sn=sn, operator=who, state_id=step["state_id"], action_type=action,
               fields=fields(**values))


def logs(api, sn):
    return [lg["message"] for lg in api("get_ticket_logs", sn=sn)["data"]["logs"]]


def test_the_approver_the_requester_picked_approves_and_the_request_runs_to_its_end(api, demo):
    sn = create(api, demo, approver="ops2")["data"]["sn"]
    step = current(api, sn)["直属领导审批"]
    assert step["processors"] == "ops2" and step["type"] == "APPROVAL" and step["pending_approvers"] == "ops2"

    refused = operate(api, sn, step, "leader", leader_approve_result="true")      # the leader was not picked
    assert refused["code"] == 3900004 and not refused["result"], refused
    assert api("ticket_approval_result", sn=[sn])["data"][0]["approve_result"] is False    # still running

    assert operate(api, sn, step, "ops2", leader_approve_result="true", leader_approve_remark="同意开通")["result"]
    implement = current(api, sn)["账号开通实施"]
    assert operate(api, sn, implement, "ops1", action="CLAIM")["result"]
    assert operate(api, sn, implement, "ops1", account_name="alice.crm")["result"]
    assert operate(api, sn, current(api, sn)["申请人确认"], "alice", confirm_result="confirmed")["result"]

    status = api("get_ticket_status", sn=sn)["data"]
    assert status["current_status"] == "FINISHED" and status["current_steps"] == []
    assert api("ticket_approval_result", sn=[sn])["data"][0]["approve_result"] is True
    assert "ops2 审批节点【直属领导审批】：通过，备注：同意开通(通过)" in logs(api, sn)


def test_the_picked_approver_rejects_and_the_request_ends_not_approved(api, demo):
    sn = create(api, demo, approver="bob")["data"]["sn"]
    step = current(api, sn)["直属领导审批"]
    assert step["processors"] == "bob"
    assert operate(api, sn, step, "bob", leader_approve_result="false", leader_approve_remark="权限过大")["result"]

    status = api("get_ticket_status", sn=sn)["data"]
    assert status["current_status"] == "FINISHED" and status["current_steps"] == []
    assert api("ticket_approval_result", sn=[sn])["data"][0]["approve_result"] is False
    assert "bob 审批节点【直属领导审批】：拒绝，备注：权限过大(拒绝)" in logs(api, sn)
    again = operate(api, sn, step, "bob", leader_approve_result="true")
    assert again["code"] == 3900004 and not again["result"]


def test_without_a_pick_the_requesters_leader_approves(api, demo):
    sn = create(api, demo)["data"]["sn"]
    step = current(api, sn)["直属领导审批"]
    assert step["processors"] == "leader"
    detail = api("get_ticket_info", sn=sn)["data"]
    assert {f["key"]: f["value"] for f in detail["fields"]}["approver"] == "leader"
    assert operate(api, sn, step, "leader", leader_approve_result="true")["result"]
    assert sorted(current(api, sn)) == ["账号开通实施"]


def test_an_empty_or_unknown_approver_creates_nothing(api, demo):
    before = ticket_count(demo)
    empty = create(api, demo, approver="")
    assert empty["code"] == 3900003 and "【审批人】为必填项" in empty["message"], empty
    unknown = create(api, demo, approver="nobody")
    assert not unknown["result"] and "nobody" in unknown["message"], unknown
    assert ticket_count(demo) == before
