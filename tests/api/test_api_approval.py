"""Approval nodes through the BlueKing API: decisions as upstream's fields, steps, workflow detail, roles."""
import pytest

CAB_FLOW = """
key: api_cab
name: 审批演示
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields: [{key: title, name: 标题, type: STRING, required: true}]
  - key: lead
    name: 领导审批
    kind: approval
    processors: {type: PERSON, value: [lead1, lead2]}
  - key: cab
    name: CAB 评审
    kind: approval
    processors: {type: PERSON, value: [cab1, cab2, cab3]}
    multi: true
    finish_condition: {agree: all}
  - {key: end, name: 结束, kind: end}
  - {key: rejected, name: 审批不通过, kind: end, approve_result: false}
transitions:
  - {from: submit, to: lead}
  - {from: lead, to: cab, when: {field: lead_result, value: "true"}}
  - {from: lead, to: rejected, when: {field: lead_result, value: "false"}}
  - {from: cab, to: end, when: {field: cab_result, value: "true"}}
  - {from: cab, to: rejected, when: {field: cab_result, value: "false"}}
"""
PEOPLE = ("alice", "lead1", "lead2", "cab1", "cab2", "cab3")


@pytest.fixture
def cab_service(api, make_service):
    return make_service(CAB_FLOW, users=PEOPLE)


def _create(api, service_id):
    created = api("create_ticket", service_id=service_id, creator="alice", fields=[{"key": "title", "value": "发布"}])
    assert created["result"], created
    return created["data"]["sn"]


def _decide(api, sn, state_id, operator, value, remark=""):
    fields = [{"key": f"{'lead' if state_id == 2 else 'cab'}_result", "value": value}]
    if remark:
        fields.append({"key": f"{'lead' if state_id == 2 else 'cab'}_remark", "value": remark})
    return api("operate_node", sn=sn, operator=operator, state_id=state_id, action_type="TRANSITION", fields=fields)


def test_workflow_detail_and_service_roles_describe_approval_nodes(api, cab_service):
    service = api("get_service_detail", service_id=cab_service)["data"]
    detail = api("get_workflow_detail", workflow_id=service["workflow_id"])["data"]
    states = {s["key"]: s for s in detail["states"]}
    assert states["lead"]["type"] == "APPROVAL" and states["lead"]["is_multi"] is False
    assert states["cab"]["type"] == "APPROVAL" and states["cab"]["is_multi"] is True
    assert states["cab"]["finish_condition"] == {"agree": "all"}
    roles = {r["name"]: r for r in api("get_service_roles", service_id=cab_service)["data"]}
    assert roles["领导审批"]["sign_type"] == "or" and roles["CAB 评审"]["sign_type"] == "and"
    assert roles["CAB 评审"]["processors"] == "cab1,cab2,cab3"


def test_a_ticket_is_approved_through_an_or_sign_and_a_countersign(api, cab_service):
    sn = _create(api, cab_service)
    status = api("get_ticket_status", sn=sn, operator="lead2")["data"]
    step = status["current_steps"][0]
    assert step["type"] == "APPROVAL" and step["is_multi"] is False
    assert [f["key"] for f in step["fields"]] == ["lead_result", "lead_remark"]
    assert [c["key"] for c in step["fields"][0]["choice"]] == ["true", "false"]
    assert [o["key"] for o in step["operations"]] == ["TRANSITION"]
    assert _decide(api, sn, 2, "lead2", "true", "可以")["result"] is True

    info = api("get_ticket_info", sn=sn)["data"]
    cab = info["current_steps"][0]
    assert cab["name"] == "CAB 评审" and cab["is_multi"] is True
    assert cab["pending_approvers"] == "cab1,cab2,cab3" and cab["votes"] == []
    assert api("operate_node", sn=sn, operator="cab2", state_id=3, action_type="TRANSITION",
               fields=[{"key": "cab_result", "value": True}])["result"] is True       # a JSON boolean is accepted
    cab = api("get_ticket_info", sn=sn)["data"]["current_steps"][0]
    assert cab["pending_approvers"] == "cab1,cab3"
    assert [(v["processor"], v["approve_result"]) for v in cab["votes"]] == [("cab2", True)]
    assert cab["votes"][0]["operate_at"]

    again = _decide(api, sn, 3, "cab2", "true")
    assert again["code"] == 3900004 and "你已审批过节点【CAB 评审】" in again["message"]
    stranger = _decide(api, sn, 3, "alice", "true")
    assert stranger["result"] is False and "待审批人" in stranger["message"]
    assert _decide(api, sn, 3, "cab1", "true")["result"] is True
    assert _decide(api, sn, 3, "cab3", "true")["result"] is True
    assert api("get_ticket_info", sn=sn)["data"]["current_status"] == "FINISHED"
    result = api("ticket_approval_result", sn=[sn])["data"][0]
    assert result["approve_result"] is True
    messages = [lg["message"] for lg in api("get_ticket_logs", sn=sn)["data"]["logs"]]
    assert "lead2 审批节点【领导审批】：通过，备注：可以(提交)" in messages
    assert "节点【CAB 评审】会签结束：通过（同意 3 人，不同意 0 人，共 3 人）(提交)" in messages


def test_a_bad_decision_value_is_refused_and_changes_nothing(api, cab_service):
    sn = _create(api, cab_service)
    bad = _decide(api, sn, 2, "lead1", "maybe")
    assert bad["code"] == 3900005 and bad["result"] is False, bad
    missing = api("operate_node", sn=sn, operator="lead1", state_id=2, action_type="TRANSITION", fields=[])
    assert missing["code"] == 3900005 and "lead_result" in missing["message"]
    step = api("get_ticket_info", sn=sn)["data"]["current_steps"][0]
    assert step["name"] == "领导审批" and step["votes"] == []


def test_one_rejection_ends_an_all_agree_countersign_rejected(api, cab_service):
    sn = _create(api, cab_service)
    _decide(api, sn, 2, "lead1", "true")
    assert _decide(api, sn, 3, "cab3", "false", "窗口不对")["result"] is True
    info = api("get_ticket_info", sn=sn)["data"]
    assert info["current_status"] == "FINISHED" and info["current_steps"] == []
    assert api("ticket_approval_result", sn=[sn])["data"][0]["approve_result"] is False


PICKED_FLOW = """
key: api_pick
name: 提单人选审批人
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: approver, name: 审批人, type: MEMBER, required: true}
  - key: approve
    name: 审批
    kind: approval
    processors: {type: VARIABLE, value: [approver]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve}
  - {from: approve, to: end}
"""


def test_the_approver_picked_in_a_member_field_decides(api, make_service):
    service_id = make_service(PICKED_FLOW, users=PEOPLE)
    sn = api("create_ticket", service_id=service_id, creator="alice",
             fields=[{"key": "title", "value": "x"}, {"key": "approver", "value": "lead2"}])["data"]["sn"]
    step = api("get_ticket_info", sn=sn)["data"]["current_steps"][0]
    assert (step["processors_type"], step["processors"]) == ("PERSON", "lead2")
    refused = api("operate_node", sn=sn, operator="lead1", state_id=2, action_type="TRANSITION",
                  fields=[{"key": "approve_result", "value": "true"}])
    assert refused["result"] is False
    assert api("operate_node", sn=sn, operator="lead2", state_id=2, action_type="TRANSITION",
               fields=[{"key": "approve_result", "value": "true"}])["result"] is True


def test_meta_state_processors_set_a_nodes_approvers_for_this_ticket(api, cab_service):
    created = api("create_ticket", service_id=cab_service, creator="alice", fields=[{"key": "title", "value": "x"}],
                  meta={"state_processors": {"3": "cab2,lead1"}})
    sn = created["data"]["sn"]
    _decide(api, sn, 2, "lead1", "true")
    cab = api("get_ticket_info", sn=sn)["data"]["current_steps"][0]
    assert cab["approvers"] == "cab2,lead1" and cab["processors"] == "cab2,lead1"
    assert _decide(api, sn, 3, "cab1", "true")["result"] is False        # not an approver of this ticket
    _decide(api, sn, 3, "cab2", "true")
    _decide(api, sn, 3, "lead1", "true")
    assert api("get_ticket_info", sn=sn)["data"]["current_status"] == "FINISHED"


@pytest.mark.parametrize("state_processors, message", [
    ({"9": "cab1"}, "节点 9 不存在"),
    ({"3": "nobody"}, "处理人不存在或已停用：nobody"),
    ({"3": ""}, "处理人为空"),
])
def test_bad_state_processors_are_refused_and_no_ticket_is_created(api, cab_service, state_processors, message):
    before = api("get_tickets", creator="alice")["data"]["count"]
    created = api("create_ticket", service_id=cab_service, creator="alice", fields=[{"key": "title", "value": "x"}],
                  meta={"state_processors": state_processors})
    assert created["code"] == 3900003 and message in created["message"], created
    assert api("get_tickets", creator="alice")["data"]["count"] == before


SIGN_FLOW = """
key: api_sign
name: 会签投票
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields: [{key: title, name: 标题, type: STRING, required: true}]
  - key: vote
    name: 方案投票
    kind: sign
    processors: {type: PERSON, value: [cab1, cab2, cab3]}
    fields:
      - {key: plan, name: 方案, type: RADIO, required: true, choices: [{key: a, name: A}, {key: b, name: B}]}
  - {key: end, name: 结束, kind: end}
  - {key: rejected, name: 不采用, kind: end, approve_result: false}
transitions:
  - {from: submit, to: vote}
  - {from: vote, to: end, when: {field: plan_count_a, op: ">=", value: 2}}
  - {from: vote, to: rejected}
"""


def test_a_sign_node_collects_every_processors_form_and_routes_on_the_counts(api, make_service):
    service_id = make_service(SIGN_FLOW, users=PEOPLE)
    sn = _create(api, service_id)
    service = api("get_service_detail", service_id=service_id)["data"]
    states = {s["key"]: s for s in api("get_workflow_detail", workflow_id=service["workflow_id"])["data"]["states"]}
    assert states["vote"]["type"] == "SIGN" and states["vote"]["is_multi"] is True
    for who, plan in (("cab1", "a"), ("cab3", "b")):
        assert api("operate_node", sn=sn, operator=who, state_id=2, action_type="TRANSITION",
                   fields=[{"key": "plan", "value": plan}])["result"] is True
    step = api("get_ticket_info", sn=sn)["data"]["current_steps"][0]
    assert step["type"] == "SIGN" and step["pending_approvers"] == "cab2"
    assert [(v["processor"], v["fields"]) for v in step["votes"]] == [("cab1", {"plan": "a"}), ("cab3", {"plan": "b"})]
    assert api("operate_node", sn=sn, operator="cab2", state_id=2, action_type="TRANSITION",
               fields=[{"key": "plan", "value": "a"}])["result"] is True
    info = api("get_ticket_info", sn=sn)["data"]
    assert info["current_status"] == "FINISHED"
    assert api("ticket_approval_result", sn=[sn])["data"][0]["approve_result"] is True
