"""Approval nodes on the ticket page: approve/reject buttons with a comment, the countersign panel."""
import pytest

FLOW = """
key: web_cab
name: 会签演示
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields: [{key: title, name: 标题, type: STRING, required: true}]
  - key: cab
    name: CAB 评审
    kind: approval
    processors: {type: PERSON, value: [cab1, cab2, cab3]}
    multi: true
  - {key: end, name: 结束, kind: end}
  - {key: rejected, name: 审批不通过, kind: end, approve_result: false}
transitions:
  - {from: submit, to: cab}
  - {from: cab, to: end, when: {field: cab_result, value: "true"}}
  - {from: cab, to: rejected, when: {field: cab_result, value: "false"}}
"""


@pytest.fixture
def ticket_id(itsm, browser, make_service):
    make_service(FLOW, users=("cab1", "cab2", "cab3"))
    return itsm.submit(browser("alice"), "web_cab", {"title": "数据库扩容"})


def _decide(user, ticket_id, value, remark=""):
    return user.post(f"/tickets/{ticket_id}/steps/cab/transition",
                     data={"cab-cab_result": value, "cab-cab_remark": remark})


def test_an_approver_sees_approve_and_reject_buttons_and_the_pending_countersign(browser, ticket_id):
    page = browser("cab1").get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="approve-cab"' in page and 'id="reject-cab"' in page
    assert 'name="cab-cab_remark"' in page
    panel = page.split('id="approval-cab"')[1].split("</table>")[0]
    assert panel.count("待审批") == 3 and "cab2" in panel
    other = browser("alice").get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="approve-cab"' not in other


def test_each_decision_shows_in_the_panel_with_its_comment_and_the_last_one_finishes_the_ticket(
        browser, itsm, ticket_id):
    cab1, cab2, cab3 = browser("cab1"), browser("cab2"), browser("cab3")
    page = itsm.follow(cab1, _decide(cab1, ticket_id, "true", "容量评估已看"))
    panel = page.split('id="approval-cab"')[1].split("</table>")[0]
    assert "容量评估已看" in panel and panel.count("待审批") == 2
    assert 'id="approve-cab"' not in page            # cab1 has decided
    again = _decide(cab1, ticket_id, "true")
    assert itsm.snapshot(ticket_id).current.approval["votes"][0]["username"] == "cab1"
    assert len(itsm.snapshot(ticket_id).current.approval["votes"]) == 1, again.status_code
    itsm.follow(cab2, _decide(cab2, ticket_id, "true"))
    itsm.follow(cab3, _decide(cab3, ticket_id, "true"))
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "FINISHED" and snap.ticket.approve_result is True
    assert "cab1 审批节点【CAB 评审】：通过，备注：容量评估已看" in snap.logs
    done = browser("alice").get(f"/tickets/{ticket_id}").get_data(as_text=True)
    panel = done.split('id="approval-cab"')[1].split("</table>")[0]
    assert panel.count("通过") == 3 and "待审批" not in panel


def test_a_rejection_with_a_comment_ends_the_countersign_rejected(browser, itsm, ticket_id):
    cab2 = browser("cab2")
    itsm.follow(cab2, _decide(cab2, ticket_id, "false", "窗口冲突"))
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "FINISHED" and snap.ticket.approve_result is False
    assert "cab2 审批节点【CAB 评审】：拒绝，备注：窗口冲突" in snap.logs


def test_a_post_without_a_decision_is_refused_and_changes_nothing(browser, itsm, ticket_id):
    cab1 = browser("cab1")
    response = cab1.post(f"/tickets/{ticket_id}/steps/cab/transition", data={"cab-cab_remark": "嗯"})
    assert response.status_code == 400
    assert itsm.snapshot(ticket_id).current.approval["votes"] == []


def test_the_workbench_counts_a_countersign_as_to_do_until_the_approver_has_voted(browser, itsm, ticket_id):
    import re

    cab1 = browser("cab1")

    def todo_count() -> int:
        page = cab1.get("/").get_data(as_text=True)
        numbers = page.split('id="my-numbers"')[1].split('id="todo"')[0]
        return int(re.search(r'<div class="h3 mb-0">(\d+)</div><div class="text-muted small">我的待办', numbers).group(1))

    assert todo_count() == 1
    itsm.follow(cab1, _decide(cab1, ticket_id, "true"))
    assert todo_count() == 0


SIGN_FLOW = """
key: web_sign
name: 会签表单
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields: [{key: title, name: 标题, type: STRING, required: true}]
  - key: vote
    name: 方案投票
    kind: sign
    processors: {type: PERSON, value: [cab1, cab2]}
    fields:
      - {key: plan, name: 方案, type: RADIO, required: true, choices: [{key: a, name: 方案A}, {key: b, name: 方案B}]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: vote}
  - {from: vote, to: end}
"""


def test_a_sign_node_shows_its_form_and_who_has_submitted(browser, itsm, make_service):
    make_service(SIGN_FLOW, users=("cab1", "cab2"))
    ticket_id = itsm.submit(browser("alice"), "web_sign", {"title": "选方案"})
    cab1 = browser("cab1")
    page = itsm.follow(cab1, cab1.post(f"/tickets/{ticket_id}/steps/vote/transition", data={"vote-plan": "a"}))
    panel = page.split('id="approval-vote"')[1].split("</table>")[0]
    assert "已提交" in panel and "待提交" in panel
    cab2 = browser("cab2")
    assert 'name="vote-plan"' in cab2.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    itsm.follow(cab2, cab2.post(f"/tickets/{ticket_id}/steps/vote/transition", data={"vote-plan": "b"}))
    snap = itsm.snapshot(ticket_id)
    assert snap.ticket.status == "FINISHED" and snap.ticket.values["plan_count_a"] == 1
